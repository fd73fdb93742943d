"""Every script in scripts/ runs: a smoke test each, in a tiny mode.

The tiny mode is smoke mode on the suite's synthetic data.

coursework.py, grading_samples.py and svhn_time_budget.py are run by test_coursework.py,
test_grade.py and test_script_svhn_time_budget.py; the others here. A new script needs a test that
names it (checked below).
"""

import os
import re

import nbformat
import pytest

from helpers.data.svhn import write_synthetic_svhn
from helpers.recipes import SVHN_MODEL_CONFIG
from helpers.settings import REPO_ROOT
from scripts import (benchmark_mnist_loader, digits_mlp_selection, notebook_runner,
                     svhn_sample_check)

ROOT = REPO_ROOT


@pytest.mark.parametrize("script", sorted(p.stem for p in (ROOT / "scripts").glob("*.py")))
def test_every_script_has_a_test_that_runs_it(script):
    assert any(script in test.read_text() for test in (ROOT / "tests").glob("test_*.py")), script


@pytest.mark.slow   # a benchmark script, in its tiny mode
def test_benchmark_mnist_loader_runs(capsys):
    # 0 when its speed targets are met
    assert benchmark_mnist_loader.main(["--repeats", "1"]) in (0, 1)
    out = capsys.readouterr().out
    assert ("SYNTHETIC" in out and "TensorLoader / pure compute" in out
            and "seed-style / TensorLoader" in out)


def test_digits_mlp_selection_runs(tmp_path, capsys):
    assert digits_mlp_selection.MAX_EPOCHS <= 2  # smoke mode
    results = tmp_path / "cv.csv"
    digits_mlp_selection.main(["--recipes", "one-plain", "--seeds", "1", "--final-seeds", "1",
                               "--results", str(results)])
    out = capsys.readouterr().out
    assert "lowest blocked-CV error: one-plain" in out and "on the 447 test images" in out
    lines = results.read_text().splitlines()   # one row per (recipe, seed, block)
    assert lines[0] == "recipe,models,augmented,seed,held_out_rows,error" and len(lines) == 1 + 4


@pytest.mark.slow   # a benchmark script, in its tiny mode
def test_svhn_sample_check_runs(tmp_path, capsys):
    folder = write_synthetic_svhn(folder=tmp_path / "svhn", n_train=200, n_test=50)
    assert svhn_sample_check.main([str(folder), "--epochs", "1", "--threads", "1"]) == 0
    out = capsys.readouterr().out
    assert "test accuracy" in out and "on 50 images" in out and str(SVHN_MODEL_CONFIG) in out


def test_notebook_04_trains_the_model_and_recipe_in_helpers():
    """svhn_sample_check.py and notebook 04 train the same model with the same recipe.

    The script trains helpers.recipes' SVHN_MODEL_CONFIG with SVHN_RECIPE; notebook 04's
    parameters cell imports the same two (no copy of the values that could drift).
    """
    notebook = nbformat.read(ROOT / "notebooks" / "04_svhn_cnn.ipynb", as_version=4)
    parameters = next(c.source for c in notebook.cells
                      if c.cell_type == "code" and "SEED = " in c.source)   # the lesson's settings
    assert "from helpers.recipes import SVHN_MODEL_CONFIG, SVHN_RECIPE" in parameters
    assert "MODEL_CONFIG, RECIPE = SVHN_MODEL_CONFIG, SVHN_RECIPE" in parameters


def test_no_script_changes_this_process_environment():
    """A script gives a child process its switches in an env dict, never through os.environ.

    A change to os.environ outlives the script's run: the tests import the scripts' main() and
    call it in the suite's own process.
    """
    changes = re.compile(r"os\.environ(\[[^]]*\]\s*=[^=]|\.(update|setdefault|pop|clear)\()"
                         r"|os\.(putenv|unsetenv)\(")
    offenders = [f"{path.name}:{number}" for path in sorted((ROOT / "scripts").glob("*.py"))
                 for number, line in enumerate(path.read_text().splitlines(), 1)
                 if changes.search(line)]
    assert offenders == []


def test_notebook_runner_reads_cell_times_and_errors():
    """notebook_runner reads seconds from nbclient's timestamps and finds the error outputs."""
    cells = [nbformat.v4.new_code_cell("1", metadata={"execution": {
                 "iopub.execute_input": "2026-01-01T10:00:00.000000Z",
                 "shell.execute_reply": "2026-01-01T10:00:02.500000Z"}}),
             nbformat.v4.new_code_cell("1/0", outputs=[nbformat.v4.new_output(
                 "error", ename="ZeroDivisionError", evalue="division by zero", traceback=[])]),
             nbformat.v4.new_markdown_cell("text")]
    nb = nbformat.v4.new_notebook(cells=cells)
    assert [notebook_runner.cell_seconds(cell) for cell in nb.cells] == [2.5, 0.0, 0.0]
    assert [(index, output["ename"]) for index, output in notebook_runner.error_outputs(nb)] == [
        (1, "ZeroDivisionError")]


@pytest.mark.slow   # a kernel
def test_notebook_runner_gives_the_kernel_its_environment_and_keeps_going_on_errors(tmp_path):
    """The kernel sees the env dict it is given; with allow_errors every cell runs."""
    cells = [nbformat.v4.new_code_cell("import os\nprint(os.environ['RUNNER_TEST'])"),
             nbformat.v4.new_code_cell("1/0"), nbformat.v4.new_code_cell("print('after')")]
    nb = nbformat.v4.new_notebook(cells=cells)
    env = {**os.environ, "RUNNER_TEST": "given"}
    notebook_runner.execute_notebook(nb, tmp_path, env, cell_timeout=60, allow_errors=True,
                                     shutdown_kernel="immediate")
    assert nb.cells[0].outputs[0]["text"] == "given\n" and "RUNNER_TEST" not in os.environ
    assert [index for index, _ in notebook_runner.error_outputs(nb)] == [1]
    assert nb.cells[2].outputs[0]["text"] == "after\n"


def test_scripts_import_the_installed_package():
    """No script edits sys.path: ``helpers`` comes from the (editable) install, as in a notebook."""
    edits = [path.name for path in sorted((ROOT / "scripts").glob("*.py"))
             if "sys.path.insert" in path.read_text() or "sys.path.append" in path.read_text()]
    assert edits == []
