"""Stored outputs a reader can trust.

The notebooks are stored executed (`make notebooks`), so what a reader sees before running anything
must be what that run produced: no frozen progress bar ("0%| | 0/1287") or widget that renders only
live, no path of the machine that stored it, no output of a smoke run. (Numbers in the text:
tests/test_lesson_text.py.)
"""

import re

import nbformat
import pytest

from helpers.settings import REPO_ROOT

NOTEBOOKS = sorted((REPO_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"

STALE_OUTPUT = {
    "a progress bar frozen at 0%": re.compile(r"(?<![\d.])0%\|"),
    "an absolute path of the machine that stored it":
        re.compile(r"(?<![\w.~-])(/work/|/root/|/home/|/tmp/|/Users/|[A-Z]:\\\\?[A-Za-z])"),
}


def output_texts(notebook):
    """(cell index, text) of every stored output: streams, text/* representations and tracebacks."""
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            if "text" in output:
                yield index, output["text"]
            for mime, value in output.get("data", {}).items():
                if mime.startswith("text/") or mime.endswith("json"):
                    yield index, value if isinstance(value, str) else str(value)
            if "traceback" in output:
                yield index, "\n".join(output["traceback"])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_stale_output_is_stored(path):
    notebook = nbformat.read(path, as_version=4)
    found = [f"cell {index}: {what}: ...{text[max(0, m.start() - 40):m.end() + 40]!r}..."
             for index, text in output_texts(notebook)
             for what, pattern in STALE_OUTPUT.items() for m in [pattern.search(text)] if m]
    assert not found, f"{path.name} (re-run it with `make notebooks`):\n" + "\n".join(found)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_widget_is_stored(path):
    """No widget is stored: without its live kernel a reader sees only "Loading widget..."."""
    notebook = nbformat.read(path, as_version=4)
    widgets = [index for index, cell in enumerate(notebook.cells)
               for output in cell.get("outputs", [])
               if WIDGET_MIME in output.get("data", {})]
    assert not widgets, (f"{path.name}: cells {widgets} store widget outputs "
                         "(e.g. a tqdm.notebook bar)")
    assert "widgets" not in notebook.metadata, f"{path.name} stores widget state in its metadata"
