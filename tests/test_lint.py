"""The code passes the linter configured in pyproject.toml ([tool.ruff]): `make test` lints too."""

import subprocess
import sys

import pytest

try:
    import tomllib
except ModuleNotFoundError:   # Python 3.10: the test extra installs tomli
    import tomli as tomllib

from helpers.settings import REPO_ROOT


def test_ruff_finds_nothing():
    try:
        import ruff  # noqa: F401  (installed with the test extra: `make setup`)
    except ImportError:
        pytest.fail("ruff is not installed: run `make setup` (or pip install -e '.[test]')")
    command = ["check", "--no-cache", "--output-format", "concise", "helpers", "scripts", "tests",
               "conftest.py"]
    result = subprocess.run([sys.executable, "-m", "ruff", *command], cwd=REPO_ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_docstrings_open_with_a_whole_sentence():
    """The lint holds the docstring rules: a one-line summary sentence, then a blank line.

    pydocstyle's D200, D205, D212 and D415 (PEP 257), so that no first line is a fragment wrapped
    onto the next; test_ruff_finds_nothing applies them. The files that still fail are ignored one
    by one in pyproject.toml, each until its owner has rewritten its docstrings.
    """
    lint = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["ruff"]["lint"]
    assert {"D200", "D205", "D212", "D415"} <= set(lint["select"] + lint.get("extend-select", []))


def test_the_notebooks_code_passes_the_same_lint():
    """What students read is linted like the package: the code cells of notebooks/.

    ruff reads .ipynb files itself; line length 100. The student copies are made from them.
    """
    command = ["check", "--no-cache", "--output-format", "concise", "notebooks"]
    result = subprocess.run([sys.executable, "-m", "ruff", *command], cwd=REPO_ROOT,
                            capture_output=True, text=True)
    assert "notebooks/01_2d_classifier.ipynb" not in result.stderr   # it did read the notebooks
    assert result.returncode == 0, result.stdout + result.stderr
