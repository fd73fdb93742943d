"""scripts/colab_check.py: the stored Colab check is of the committed snapshot, and it passed.

The check is docs/colab_check.json, the snapshot of Colab's versions colab/constraints-colab.txt.
No venv here: the check itself takes minutes and downloads gigabytes; after changing the snapshot,
rerun it (README, "For maintainers").
"""

import json
from pathlib import Path

from helpers.settings import REPO_ROOT
from scripts import colab_check


def test_stored_check_is_of_the_committed_snapshot_and_passed(capsys):
    assert colab_check.main(["--verify"]) == 0, capsys.readouterr().out


def test_snapshot_pins_the_issues_colab_versions():
    pins, python = colab_check.read_snapshot()
    assert python.startswith("3.13.")
    wanted = {"torch": "2.11.0", "torchvision": "0.26.0", "numpy": "2.1.3", "matplotlib": "3.10.0",
              "scikit-learn": "1.6.1", "seaborn": "0.13.2", "ipywidgets": "7.7.1",
              "ipykernel": "6.17.1", "tqdm": "4.67.3"}
    assert {name: pins.get(name) for name in wanted} == wanted
    assert {"pandas", "scipy", "pillow", "pip"} <= set(pins)   # the other dependencies, and pip


def test_a_changed_snapshot_or_a_failed_run_is_a_problem():
    """The verification fails on any change: a pin, a package, a failed or a new notebook.

    Another pinned version, a new package, a changed package, a failed notebook, a new notebook.
    """
    result = json.loads(colab_check.RESULT.read_text())
    pins, python = colab_check.read_snapshot()
    names = colab_check.notebook_names()
    assert colab_check.result_problems(result, pins, python, names) == []
    assert colab_check.result_problems(result, {**pins, "numpy": "2.0.2"}, python, names) == [
        f"numpy: snapshot 2.0.2, checked {pins['numpy']}"]
    assert colab_check.result_problems(result, {**pins, "jax": "0.7.2"}, python, names) == [
        "jax: snapshot 0.7.2, checked None"]
    assert colab_check.result_problems(result, pins, "3.12.13", names) != []
    failed = {**result, "notebooks": {**result["notebooks"],
                                      names[0]: {"passed": False, "error": "boom"}}}
    assert colab_check.result_problems(failed, pins, python, names) == [f"{names[0]}: boom"]
    changed = {**result, "install_changed": {"numpy": ["2.1.3", "2.4.6"]}}
    assert colab_check.result_problems(changed, pins, python, names) != []
    assert colab_check.result_problems(result, pins, python, names + ["06_new.ipynb"]) == [
        "06_new.ipynb: not run"]


def test_freeze_comparison_finds_changed_removed_and_added_packages():
    before = colab_check.parse_freeze("numpy==2.1.3\nJinja2==3.1.6\ntorch==2.11.0\n")
    after = colab_check.parse_freeze("numpy==2.4.6\njinja2==3.1.6\n"
                                     "dl-teaching-helpers @ git+file:///x@abc\n")
    changed, added = colab_check.compare_freezes(before, after)
    assert changed == {"numpy": ["2.1.3", "2.4.6"], "torch": ["2.11.0", None]}
    assert added == {"dl-teaching-helpers": "git+file:///x@abc"}


def test_the_colab_cell_command_is_read_from_every_notebook_and_pointed_at_the_checkout():
    commands = [colab_check.colab_install_command(json.loads(path.read_text()))
                for path in sorted((REPO_ROOT / "notebooks").glob("[0-9]*.ipynb"))]
    assert len(commands) == 5 and all(command == commands[0] for command in commands)
    assert commands[0][:4] == ["{python}", "-m", "pip", "install"]
    local = colab_check.local_install_command(commands[0], Path("/venv/bin/python"), "abc123")
    assert local == ["/venv/bin/python"] + [f"git+file://{REPO_ROOT}@abc123"
                                            if arg.startswith("git+") else arg
                                            for arg in commands[0][1:]]
