"""Checks on the project's files: the two dependency lists agree, and the committed notebooks are
stored executed, without errors, with the smoke switch visible in their first code cell."""

from pathlib import Path

import nbformat
import pytest
import yaml

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
#: Cells with this tag need a dataset that the machine storing the notebook may not have (official
#: SVHN). `make notebooks` runs them when the data is there; otherwise they are stored unexecuted and
#: without outputs, so that no result from other data is ever stored as if it came from the real one.
NEEDS_OFFICIAL_DATA = "requires-official-data"


def requirements(lines):
    return {Requirement(line).name.lower(): str(Requirement(line).specifier) for line in lines}


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    expected = requirements(project["dependencies"] + project["optional-dependencies"]["test"])
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in environment["dependencies"] if isinstance(d, dict))
    listed = requirements(line for line in pip_section if not line.startswith("-e"))
    assert listed == expected
    assert "-e ." in pip_section
    python = next(d for d in environment["dependencies"] if isinstance(d, str) and d.startswith("python"))
    assert python.replace("python", "") == project["requires-python"]


def test_ci_runs_what_the_readme_tells_users():
    ci = (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    commands = [line.strip() for line in ci.splitlines() if line.strip() and not line.startswith(("#", "set ", "cd "))]
    assert commands == ["make test"]
    assert "make test" in readme and "make lab" in readme


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks found"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_stored_executed_without_errors(path):
    notebook = nbformat.read(path, as_version=4)
    code_cells = [c for c in notebook.cells if c.cell_type == "code" and c.source.strip()]
    excused = [c for c in code_cells if NEEDS_OFFICIAL_DATA in c.metadata.get("tags", [])
               and c.execution_count is None]
    assert all(not c.outputs for c in excused), f"{path.name}: an unexecuted cell has outputs"
    unexecuted = [i for i, c in enumerate(code_cells) if c.execution_count is None and c not in excused]
    errors = [i for i, c in enumerate(code_cells) for o in c.outputs if o.output_type == "error"]
    assert not unexecuted, f"{path.name}: code cells {unexecuted} were never executed (run `make notebooks`)"
    assert not errors, f"{path.name}: code cells {errors} were saved with errors"
    counts = [c.execution_count for c in code_cells if c.execution_count is not None]
    assert counts == sorted(counts), f"{path.name}: cells were executed out of order"
    assert notebook.metadata.kernelspec.name == "python3"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_was_stored_in_full_mode_with_visible_smoke_switch(path):
    notebook = nbformat.read(path, as_version=4)
    code_cells = [c for c in notebook.cells if c.cell_type == "code"]
    parameters = next(c for c in code_cells if "helpers.smoke_mode()" in c.source)
    assert "SMOKE = helpers.smoke_mode()" in parameters.source
    printed = "".join(o.get("text", "") for o in parameters.outputs)
    assert "smoke mode: False" in printed, f"{path.name} was stored from a smoke run"
    assert any("# NBVAL_CHECK_OUTPUT" in c.source for c in code_cells)
