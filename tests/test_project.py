"""Checks on the project's files: dependency lists that agree, notebooks stored as executed.

The two dependency lists agree, and the committed notebooks are stored executed, without errors,
with the smoke switch visible in their first code cell.
"""

import os
import re
from pathlib import Path

import nbformat
import pytest
import yaml

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version
from helpers.settings import REPO_ROOT

NOTEBOOKS = sorted((REPO_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
#: Cells with this tag need a dataset that the machine storing the notebook may not have (official
#: SVHN). `make notebooks` runs them when the data is there; otherwise they are stored unexecuted
#: and without outputs, so that no result from other data is ever stored as if it came from the real
#: one.
NEEDS_OFFICIAL_DATA = "requires-official-data"


def requirements(lines):
    return {Requirement(line).name.lower(): str(Requirement(line).specifier) for line in lines}


def pins():
    """constraints.txt as {name: Requirement}, names normalised."""
    lines = [line for line in (REPO_ROOT / "constraints.txt").read_text().splitlines()
             if line and line[0] != "#"]
    return {canonicalize_name(Requirement(line).name): Requirement(line) for line in lines}


def test_environment_yml_installs_pyproject_with_the_pins():
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    environment = yaml.safe_load((REPO_ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in environment["dependencies"] if isinstance(d, dict))
    # one source of truth: no copied list
    assert pip_section == ["-c constraints.txt", "-e .[test,lab,site]"]
    python = next(d for d in environment["dependencies"] if isinstance(d, str)
                  and d.startswith("python"))
    version = python.removeprefix("python=")
    assert SpecifierSet(project["requires-python"]).contains(version + ".0")
    # made with that Python
    assert f"Python {version}." in (REPO_ROOT / "constraints.txt").read_text().splitlines()[1]


def test_constraints_keep_the_slow_rfc3987_syntax_import_out():
    """The pins keep jsonschema below 4.25, whose rfc3987-syntax import takes 0.9 s.

    jsonschema 4.25+ imports it in every process that imports nbformat (pytest, its workers, the
    grader, nbconvert, Jupyter): about 15 CPU seconds of `make test` (jsonschema#1428).
    """
    pinned = pins()
    assert "rfc3987-syntax" not in pinned
    [pin] = pinned["jsonschema"].specifier
    assert Version(pin.version) < Version("4.25"), pinned["jsonschema"]


def test_constraints_pin_every_requirement_within_its_range():
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    pinned = pins()
    assert "dl-teaching-helpers" not in pinned
    pinned_extras = extras["test"] + extras["lab"] + extras["site"] + extras["browser"]
    for line in project["dependencies"] + pinned_extras:
        wanted = Requirement(line)
        if wanted.marker and not wanted.marker.evaluate():
            continue
        pin = pinned[canonicalize_name(wanted.name)]
        version = next(iter(pin.specifier)).version
        assert wanted.specifier.contains(version), f"{pin} is outside pyproject.toml's {wanted}"
    assert (str(pinned["torch"].specifier) == "==2.14.1"
            and str(pinned["torchvision"].specifier) == "==0.29.1")
    # PyTorch's CUDA wheels exist (and are pulled) on
    # Linux only: elsewhere their pins must not apply
    for name, pin in pinned.items():
        if name.startswith(("nvidia-", "cuda-", "triton")):
            assert str(pin.marker) == 'platform_system == "Linux"', name


def test_make_and_ci_install_with_the_constraints():
    makefile = (REPO_ROOT / "Makefile").read_text()
    assert ("CONSTRAINTS ?= constraints.txt" in makefile
            and "$(STAMP): pyproject.toml $(CONSTRAINTS)" in makefile)
    assert "pip install $(PIP_C) -e '.[test,lab,site]'" in makefile


def test_colab_install_cells_do_not_pull_jupyter():
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    dependencies = requirements(project["dependencies"])
    assert {"jupyterlab", "ipykernel", "ipywidgets", "jupyterlab-rise"} == \
        set(requirements(extras["lab"])).difference(dependencies)
    for path in NOTEBOOKS + sorted((REPO_ROOT / "student").glob("*.ipynb")):
        install = next(c for c in nbformat.read(path, as_version=4).cells
                       if c.cell_type == "code").source
        assert "google.colab" in install and "pip" in install, path.name
        assert re.search(r'"git\+https://[^"\[]+"', install), (
            f"{path.name}: the Colab install must not add extras")


def test_ci_runs_what_the_readme_tells_users():
    ci = (REPO_ROOT / ".ci" / "run").read_text()
    readme = (REPO_ROOT / "README.md").read_text()
    lines = [line.strip() for line in ci.splitlines() if line.strip()
             and not line.startswith(("#", "set ", "cd "))]
    # besides `make test`, only the system package the grading sandbox's tests need (what the README
    # tells instructors to install: bubblewrap), installed when missing
    system = [line for line in lines if line not in ("make test",)]
    assert lines[-1] == "make test" and lines.count("make test") == 1
    assert all("bubblewrap" in line or line in ("fi",)
               or line.startswith("if ") for line in system), system
    assert "make test" in readme and "make lab" in readme and "apt install bubblewrap" in readme


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks found"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_stored_executed_without_errors(path):
    notebook = nbformat.read(path, as_version=4)
    code_cells = [c for c in notebook.cells if c.cell_type == "code" and c.source.strip()]
    excused = [c for c in code_cells if NEEDS_OFFICIAL_DATA in c.metadata.get("tags", [])
               and c.execution_count is None]
    assert all(not c.outputs for c in excused), f"{path.name}: an unexecuted cell has outputs"
    unexecuted = [i for i, c in enumerate(code_cells) if c.execution_count is None
                  and c not in excused]
    errors = [i for i, c in enumerate(code_cells) for o in c.outputs if o.output_type == "error"]
    assert not unexecuted, (
        f"{path.name}: code cells {unexecuted} were never executed (run `make notebooks`)")
    assert not errors, f"{path.name}: code cells {errors} were saved with errors"
    counts = [c.execution_count for c in code_cells if c.execution_count is not None]
    assert counts == sorted(counts), f"{path.name}: cells were executed out of order"
    assert notebook.metadata.kernelspec.name == "python3"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_was_stored_by_make_notebooks_in_full_mode(path):
    """Every claim record says it was checked: the outputs come from `make notebooks`.

    That is HELPERS_STRICT=1 in full mode, so the stored outputs are not a smoke run's or an
    unchecked run's.
    """
    from tests.test_lesson_text import claim_records

    notebook = nbformat.read(path, as_version=4)
    records = [record for cell in notebook.cells for record in claim_records(cell)]
    assert records, f"{path.name} states no checked conclusion"
    unchecked = [record["claim"] for record in records if not record.get("checked")]
    assert not unchecked, (f"{path.name} was not stored by `make notebooks` in full mode "
                           f"(unchecked claims: {unchecked[:3]})")
    code_cells = [c for c in notebook.cells if c.cell_type == "code"]
    assert any("nbval-check-output" in c.metadata.get("tags", []) for c in code_cells)


@pytest.mark.slow   # a venv, pip, a kernel
def test_install_without_a_checkout_runs_notebook_01_from_another_folder(tmp_path):
    """As in Colab: `pip install` of the repository, then notebook 01 run from another folder.

    No checkout on sys.path, no data/ folder. Cheap: a fresh venv sees this environment's
    site-packages through a .pth path line (whose own .pth files, the editable install among them,
    are not processed), so only `helpers` is installed into it, from a copy of the repository,
    without downloading anything.
    """
    import shutil
    import subprocess
    import sys
    import sysconfig

    source, venv, work, home = (tmp_path / name for name in ("source", "venv", "work", "home"))
    shutil.copytree(REPO_ROOT / "helpers", source / "helpers",
                    ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO_ROOT / name, source)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                          capture_output=True, text=True, check=True).stdout.strip()
    (Path(site) / "outer.pth").write_text(sysconfig.get_path("purelib") + "\n")
    env = {**os.environ, "HOME": str(home),
           "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}", "HELPERS_SMOKE": "1",
           "PIP_NO_INDEX": "1", "PYTHONPATH": ""}
    env.pop("HELPERS_DATA", None)  # the default without a checkout: ~/.cache/dl-notebooks
    subprocess.run([python, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                    source], check=True, env=env, cwd=tmp_path)
    work.mkdir()
    where = subprocess.run([python, "-c", "import helpers; print(helpers.__file__)"],
                           capture_output=True, text=True, check=True, env=env, cwd=work).stdout
    assert where.startswith(site), where  # the installed copy, not the checkout
    # the kernel runs in the notebook's folder
    shutil.copy(REPO_ROOT / "notebooks" / "01_2d_classifier.ipynb", work)
    run = subprocess.run([python, "-m", "nbconvert", "--to", "notebook", "--execute", "--inplace",
                          "--ExecutePreprocessor.shutdown_kernel=immediate",  # no 2 s wait
                          work / "01_2d_classifier.ipynb"], env=env, cwd=work, capture_output=True,
                         text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    executed = nbformat.read(work / "01_2d_classifier.ipynb", as_version=4)
    assert not [o for c in executed.cells if c.cell_type == "code" for o in c.outputs
                if o.output_type == "error"]
    # regenerated, not read from data/
    assert (home / ".cache" / "dl-notebooks" / "2d" / "train.npz").is_file()
