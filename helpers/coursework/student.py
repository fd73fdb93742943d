"""Student copies of the notebooks (``make student``) and the course repository URL.

The instructor notebooks in notebooks/ are the one source. In them, the parts students write are
marked the way nbgrader and otter-grader mark them (the schema: ``helpers.coursework``):

- in code cells, lines between ``# BEGIN SOLUTION`` and ``# END SOLUTION`` (kept at the indentation
  of the code they hold); the student copy has a ``# YOUR CODE HERE`` stub that raises
  NotImplementedError;
- in markdown cells, text between ``<!-- BEGIN SOLUTION -->`` and ``<!-- END SOLUTION -->``; the
  student copy has a prompt for the written answer.

Cells tagged ``instructor-only`` (notes for the lecturer, answers to discussion questions) are left
out. Everything else is copied unchanged, except that outputs are cleared and the "Open in Colab"
links point at the student copy. For grading, the student copy carries the notebook's name in its
metadata (``"grade": {"notebook": "01_2d_classifier"}``) and keeps the cells' ``grade`` metadata
(which exercise, how many points); the instructor's hidden checks (raw cells with
``"role": "hidden-check"``) are left out.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat

from helpers.settings import REPO_ROOT
from helpers.coursework import (CODE_BEGIN, CODE_END, CODE_STUB, KEY, MARKDOWN_BEGIN, MARKDOWN_END,
                                MARKDOWN_PROMPT, is_hidden_check)

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = REPO_ROOT
INSTRUCTOR_DIR = ROOT / "notebooks"
STUDENT_DIR = ROOT / "student"


#: The tag of a cell that only the instructor notebook keeps.
INSTRUCTOR_ONLY = "instructor-only"


class SolutionMarkerError(ValueError):
    """A solution region is not well-formed (unclosed, nested, or an END without a BEGIN)."""


def solution_regions(lines: list[str], begin: str, end: str) -> list[tuple[int, int]]:
    """(first, last) line indices of each ``begin``..``end`` region, markers included.

    Raises SolutionMarkerError for a nested or unclosed region, an END without BEGIN, or (in code)
    an END at another indentation than its BEGIN.
    """
    regions, start = [], None
    for number, line in enumerate(lines):
        marker = line.strip()
        if marker == begin:
            if start is not None:
                raise SolutionMarkerError(f"line {number + 1}: {begin} inside another solution "
                                          "region")
            start = number
        elif marker == end:
            if start is None:
                raise SolutionMarkerError(f"line {number + 1}: {end} without {begin}")
            if _indent(lines[start]) != _indent(line):
                raise SolutionMarkerError(f"line {number + 1}: {end} is not indented like its "
                                          f"{begin}")
            regions.append((start, number))
            start = None
    if start is not None:
        raise SolutionMarkerError(f"line {start + 1}: {begin} is never closed by {end}")
    return regions


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def strip_solutions(source: str, begin: str, end: str, replacement: list[str]) -> str:
    """Return ``source`` with every solution region replaced by ``replacement``.

    At the region's indentation.
    """
    lines = source.split("\n")
    for first, last in reversed(solution_regions(lines, begin, end)):
        indent = _indent(lines[first])
        lines[first : last + 1] = [indent + line for line in replacement]
    return "\n".join(lines)


def count_solution_regions(notebook) -> int:
    """Number of code and markdown solution regions in a notebook (validating every one)."""
    total = 0
    for cell in notebook.cells:
        begin, end = ((CODE_BEGIN, CODE_END) if cell.cell_type == "code"
                      else (MARKDOWN_BEGIN, MARKDOWN_END))
        total += len(solution_regions(cell.source.split("\n"), begin, end))
    return total


def student_version(notebook, name: str):
    """The student copy of an instructor notebook (a new object; the input is unchanged)."""
    student = nbformat.from_dict(nbformat.from_dict(notebook))  # deep copy
    student.cells = [cell for cell in student.cells if not is_hidden_check(cell)
                     and INSTRUCTOR_ONLY not in cell.metadata.get("tags", [])]
    for cell in student.cells:
        if cell.cell_type == "code":
            cell.source = strip_solutions(cell.source, CODE_BEGIN, CODE_END, CODE_STUB)
            cell.outputs, cell.execution_count = [], None
            cell.metadata.pop("execution", None)
        elif cell.cell_type == "markdown":
            cell.source = strip_solutions(cell.source, MARKDOWN_BEGIN, MARKDOWN_END,
                                          MARKDOWN_PROMPT)
        cell.source = cell.source.replace(f"/notebooks/{name}", f"/student/{name}")
        tags = [tag for tag in cell.metadata.pop("tags", []) if not tag.startswith("nbval-")]
        if tags:  # nbval's tags are the regression tests' business, not the student's
            cell.metadata["tags"] = tags
    student.metadata.pop("widgets", None)  # widget state belongs to outputs, which are gone
    # how `make grade` recognises a renamed file
    student.metadata[KEY] = {"notebook": Path(name).stem}
    return student


def render(notebook) -> str:
    return nbformat.writes(notebook) + "\n"


def make_student_copies(check: bool = False) -> list[Path]:
    """Write (or, with ``check``, compare) student/NN_*.ipynb; returns the paths that differ(ed)."""
    changed = []
    for path in sorted(INSTRUCTOR_DIR.glob("[0-9][0-9]_*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        text = render(student_version(notebook, path.name))
        target = STUDENT_DIR / path.name
        if not target.is_file() or target.read_text() != text:
            changed.append(target)
            if not check:
                STUDENT_DIR.mkdir(exist_ok=True)
                target.write_text(text)
    return changed


# --- the course repository URL: one setting in pyproject.toml, stamped into notebooks and README


def course_settings() -> dict:
    """``[tool.course]`` of pyproject.toml.

    ``repository`` (https://github.com/ORG/REPO) and ``branch``.
    """
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["course"]


def github_slug(repository: str) -> str:
    match = re.fullmatch(r"https://github\.com/([\w.-]+/[\w.-]+?)(\.git)?/?", repository)
    if not match:
        raise ValueError(f"expected https://github.com/ORG/REPO, got {repository!r}")
    return match.group(1)


def set_repository(repository: str, branch: str = "main") -> None:
    """Point every Colab badge and install cell at ``repository``.

    In the notebooks, the student copies and the README.
    """
    old = course_settings()
    old_slug, new_slug = github_slug(old["repository"]), github_slug(repository)
    replacements = [(f"github/{old_slug}/blob/{old['branch']}/",
                     f"github/{new_slug}/blob/{branch}/"),
                    (f"git+{old['repository']}", f"git+https://github.com/{new_slug}"),
                    (old["repository"], f"https://github.com/{new_slug}")]
    paths = [ROOT / "README.md", *INSTRUCTOR_DIR.glob("*.ipynb"), *STUDENT_DIR.glob("*.ipynb")]
    for path in paths:
        text = path.read_text()
        for before, after in replacements:
            text = text.replace(before, after)
        path.write_text(text)
    pyproject = (ROOT / "pyproject.toml").read_text()
    pyproject = pyproject.replace(f'repository = "{old["repository"]}"',
                                  f'repository = "https://github.com/{new_slug}"')
    pyproject = pyproject.replace(f'branch = "{old["branch"]}"', f'branch = "{branch}"')
    (ROOT / "pyproject.toml").write_text(pyproject)
