"""helpers.settings: the one module that reads HELPERS_* switches, and where code runs."""

import ast
import re

import pytest

from helpers import settings
from helpers.settings import REPO_ROOT


def switch_reads(source: str) -> list[int]:
    """Return the lines of ``source`` that read or set a HELPERS_* switch by its literal name.

    An access to ``os.environ``/``getenv`` holding a "HELPERS_..." string, a keyword argument
    HELPERS_...=, or a constant of its own (``NAME = "HELPERS_..."``).
    """
    def is_switch(value) -> bool:  # the bare prefix "HELPERS_" (e.g. to drop all of them) is fine
        return re.fullmatch(r"HELPERS_[A-Z]+", str(value)) is not None

    def names_a_switch(node) -> bool:
        return any(isinstance(n, ast.Constant) and is_switch(n.value) for n in ast.walk(node))

    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.keyword) and is_switch(node.arg):
            lines.append(node.lineno)
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) \
                and is_switch(node.value.value):
            lines.append(node.lineno)
        elif isinstance(node, (ast.Call, ast.Subscript, ast.Compare, ast.comprehension)) \
                and re.search(r"\b(environ|getenv)\b", ast.unparse(node)) and names_a_switch(node):
            lines.append(getattr(node, "lineno", None) or node.iter.lineno)
    return sorted(set(lines))


@pytest.mark.parametrize("code", [
    'os.environ.get("HELPERS_DEVICE")', 'os.environ["HELPERS_SMOKE"]', 'os.getenv("HELPERS_X", "")',
    '"HELPERS_WIDGETS" in os.environ', 'SVHN_ENV = "HELPERS_SVHN"', 'env.update(HELPERS_SMOKE="1")',
    'os.environ.update({"HELPERS_CACHE": folder})',
    '{k: v for k, v in os.environ.items() if k != "HELPERS_WIDGETS"}'])
def test_the_scan_finds_a_switch_read_outside_settings(code):
    assert switch_reads(f"import os\n{code}\n") == [2]


def test_the_scan_leaves_messages_and_named_constants_alone():
    code = ('raise OSError("point HELPERS_DATA at it")\nos.environ[DATA_ENV]\n'
            '{k: v for k, v in os.environ.items() if not k.startswith("HELPERS_")}\n')
    assert switch_reads(code) == []


def test_only_settings_reads_helpers_switches():
    files = [*REPO_ROOT.glob("helpers/**/*.py"), *REPO_ROOT.glob("scripts/*.py")]
    found = {str(path.relative_to(REPO_ROOT)): switch_reads(path.read_text()) for path in files
             if path != REPO_ROOT / "helpers" / "settings.py"}
    assert len(files) > 20
    assert {path: lines for path, lines in found.items() if lines} == {}, (
        "read switches through helpers.settings' functions, set them by its names (SMOKE_ENV...)")


def test_every_switch_is_documented_in_settings_and_named_once():
    names = {value for key, value in vars(settings).items() if key.endswith("_ENV")}
    assert len(names) == 8
    documented = set(re.findall(r"``(HELPERS_[A-Z]+)=", settings.__doc__))
    assert documented == names
    mentioned = set()
    for path in [*REPO_ROOT.glob("helpers/**/*.py"), *REPO_ROOT.glob("scripts/*.py"),
                 REPO_ROOT / "Makefile", REPO_ROOT / "README.md", REPO_ROOT / "conftest.py"]:
        mentioned |= set(re.findall(r"\bHELPERS_[A-Z]+\b", path.read_text()))
    assert mentioned <= names, "a switch that settings does not document: " + str(mentioned - names)


def test_switches_are_parsed_the_same_way(monkeypatch, tmp_path):
    for value, expected in [("1", True), (" yes ", True), ("On", True), ("0", False), ("", False)]:
        monkeypatch.setenv(settings.SMOKE_ENV, value)
        monkeypatch.setenv(settings.RECOMPUTE_ENV, value)
        assert settings.smoke_mode() is expected and settings.recompute_requested() is expected
    monkeypatch.delenv(settings.DEVICE_ENV, raising=False)
    assert settings.device_override() is None
    monkeypatch.setenv(settings.DEVICE_ENV, " cpu ")
    assert settings.device_override() == "cpu"
    monkeypatch.setenv(settings.CACHE_ENV, str(tmp_path / "." / "cache"))
    assert settings.cache_folder_override() == tmp_path / "cache"
    monkeypatch.setenv(settings.SVHN_ENV, "")
    assert settings.svhn_folder_override() is None


def test_frontend_script_notebook_or_widgets(monkeypatch):
    monkeypatch.delenv(settings.WIDGETS_ENV, raising=False)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    assert settings.frontend() == "script"                  # pytest: no kernel
    monkeypatch.setenv("JPY_SESSION_NAME", "notebooks/01_2d_classifier.ipynb")
    assert settings.frontend() == "script"                  # a terminal inside JupyterLab
    monkeypatch.setattr(settings, "_kernel_running", lambda: True)
    assert settings.frontend() == "widgets"                 # a JupyterLab kernel
    monkeypatch.setenv(settings.WIDGETS_ENV, "0")
    assert settings.frontend() == "notebook"                # make notebooks
    monkeypatch.delenv(settings.WIDGETS_ENV)
    monkeypatch.delenv("JPY_SESSION_NAME")
    assert settings.frontend() == "notebook"                # nbconvert, nbval
    monkeypatch.setenv(settings.WIDGETS_ENV, "1")
    assert settings.frontend() == "widgets"                 # VS Code, by hand
