"""What a student meets: hints that never hand out the solution's code, and none of our machinery.

- Every hint a check can print (the strings of helpers/checks/nbNN.py and of the instructor
  notebook's hidden-check cells) is compared with the solution code of that notebook: no line of a
  solution may appear in a hint. The hints are read from the source, so every branch of every
  check is covered, not only the ones a wrong answer happens to reach.
- The student copies contain none of the project's machinery words (smoke mode, environment
  switches, caches, budgets, CPU tuning, private helper names, claim reprs); deliberate exceptions
  are listed under ``machinery:`` in tests/lesson_text/<notebook>.yaml, with why.
"""

import ast
import re
from pathlib import Path

import nbformat
import pytest

from helpers.coursework import CODE_BEGIN, CODE_END, is_hidden_check
from helpers.coursework.student import solution_regions
from helpers.settings import REPO_ROOT
from tests.test_lesson_text import exceptions

NOTEBOOKS = sorted((REPO_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
STUDENT_COPIES = sorted((REPO_ROOT / "student").glob("[0-9][0-9]_*.ipynb"))

#: A solution line shorter than this (without spaces) is too generic to count as the solution
#: (``return x``, ``pass``, ``x = x + 1``).
MIN_SOLUTION_CHARACTERS = 16


def squeeze(text: str) -> str:
    """``text`` without white space, so that wrapping and spacing do not hide a copy."""
    return re.sub(r"\s+", "", text)


def solution_lines(path: Path) -> list[str]:
    """The solution code of an instructor notebook, line by line, comments dropped."""
    notebook = nbformat.read(path, as_version=4)
    lines = []
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        source = cell.source.split("\n")
        for first, last in solution_regions(source, CODE_BEGIN, CODE_END):
            for line in source[first + 1:last]:
                code = squeeze(line.split("  #")[0].split("# ")[0])
                # the expression alone counts too: a hint may give it without `return` or `x =`
                expression = re.sub(r"^[\w.,\[\]]+=", "", code)
                for part in (code, re.sub(r"^return", "", code), expression):
                    if len(part) >= MIN_SOLUTION_CHARACTERS and part not in lines:
                        lines.append(part)
    return lines


def string_parts(tree: ast.AST) -> list[str]:
    """Return every string a piece of code can print: constants and f-strings' literal parts.

    Docstrings are left out.
    """
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef,
                                       ast.Module))
                  and node.body and isinstance(node.body[0], ast.Expr)
                  and isinstance(node.body[0].value, ast.Constant)}
    return [node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and id(node) not in docstrings]


def hints(path: Path) -> list[str]:
    """What the checks of a notebook can print: its checks module and its hidden-check cells."""
    module = REPO_ROOT / "helpers" / "checks" / f"nb{path.name[:2]}.py"
    found = string_parts(ast.parse(module.read_text())) if module.is_file() else []
    for cell in nbformat.read(path, as_version=4).cells:
        if is_hidden_check(cell):
            found += string_parts(ast.parse(cell.source))
    return found


def hints_with_solution_code(path: Path) -> list[str]:
    solutions = solution_lines(path)
    return [f"{line!r} in the hint {hint[:100]!r}" for hint in hints(path)
            for line in solutions if line in squeeze(hint)]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_hint_hands_out_the_solution_code(path):
    found = hints_with_solution_code(path)
    assert not found, (f"{path.name}: hints that give a line of the solution verbatim (say what "
                       "is wrong, then the concept and where it is explained):\n"
                       + "\n".join(found))


def test_the_hint_check_can_fail(tmp_path, monkeypatch):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(
        "def nll(log_probs, targets):\n    # BEGIN SOLUTION\n"
        "    return -log_probs[torch.arange(len(targets)), targets].mean()\n    # END SOLUTION")]
    hidden = nbformat.v4.new_raw_cell(
        'checks.report(False, "nll", "use -log_probs[torch.arange(len(targets)), targets].mean()")')
    hidden.metadata["grade"] = {"exercise": "99-nll", "role": "hidden-check"}
    notebook.cells.append(hidden)
    path = tmp_path / "99_example.ipynb"
    nbformat.write(notebook, path)
    assert hints_with_solution_code(path) == [
        "'-log_probs[torch.arange(len(targets)),targets].mean()' in the hint "
        "'use -log_probs[torch.arange(len(targets)), targets].mean()'"]


#: The project's machinery, as a student would meet it in a copy.
MACHINERY = {
    "smoke mode": r"\bSMOKE\b|\bsmoke\b",
    "an environment switch": r"HELPERS_[A-Z]+",
    "a maintainer's command": r"make (lab|test|notebooks|student|grade)\b",
    "the run cache": r"\bcached?\(|cached_run|\bRECOMPUTE\b|\bcach(e|ed|ing)\b",
    "CPU tuning": r"channels[ _-]last",
    "a private helper name": r"_PoolIfLarger",
    "a claim's repr": r"Conclusion\(lead=|Claim\(",
    "the environment line": r"environment_line",
    "a run budget": r"\bBUDGET\b|svhn_budget",
    "stored outputs": r"stored outputs?",
    "a timing tag": r"timing:",
}


def machinery(path: Path) -> list[str]:
    notebook = nbformat.read(path, as_version=4)
    allowed = exceptions(path, "machinery")
    found = []
    for index, cell in enumerate(notebook.cells):
        texts = [cell.source, " ".join(cell.metadata.get("tags", []))]
        for what, pattern in MACHINERY.items():
            for text in texts:
                for match in re.finditer(pattern, text):
                    line = text[text.rfind("\n", 0, match.start()) + 1:].split("\n")[0]
                    if not any(phrase in line for phrase in allowed):
                        found.append(f"cell {index}: {what}: {line.strip()[:120]!r}")
    return found


@pytest.mark.parametrize("path", STUDENT_COPIES, ids=lambda p: p.name)
def test_a_student_copy_shows_none_of_our_machinery(path):
    found = machinery(path)
    assert not found, (f"student/{path.name}: machinery a student should not meet (hide it behind "
                       "a plain name in helpers, or list the phrase under `machinery:` in "
                       f"tests/lesson_text/{path.stem}.yaml with why):\n" + "\n".join(found))


def test_the_machinery_check_can_fail(tmp_path):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("SMOKE = helpers.smoke_mode()\n"
                                                "run = cached('x', config, compute)")]
    notebook.cells[0].metadata["tags"] = ["timing:final model"]
    path = tmp_path / "99_example.ipynb"
    nbformat.write(notebook, path)
    assert [line.split(": ")[1] for line in machinery(path)] == [
        "smoke mode", "the run cache", "a timing tag"]
