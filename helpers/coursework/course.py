"""Finding the course's exercises.

The instructor notebooks' cell metadata, and which of them a submission is (otter-grader's
"assignment" step).

A code cell's metadata ``"grade": {"exercise": ID, "role": "solution", "points": P, "depends_on":
[ID, ...]}`` marks the cell the student completes, ``{"exercise": ID, "role": "check"}`` the
self-check cell after it, and a *raw* cell ``{"exercise": ID, "role": "hidden-check", "points":
H}`` a stricter check that only grading runs (Jupyter does not run raw cells, and ``make student``
leaves them out). H of the P points need the hidden check.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from helpers.coursework import KEY, role_of

#: The instructor notebooks, the one source of exercises, points and hidden checks.
INSTRUCTOR_DIR = Path(__file__).resolve().parents[2] / "notebooks"
#: The kinds of exercise that need judgement (issue 30): a code exercise's ``kind`` (graded by its
#: checks, the score and the budget in the feedback) or a written answer's (graded by a person).
JUDGEMENT_KINDS = ("prediction", "explanation", "debugging", "design")
#: a call of a self-check in a cell: ``checks.check_x(`` or ``checks.nb05.check_x(``
CHECK_CALL = re.compile(r"\bchecks\.(?:nb\d\d\.)?(check_\w+)\s*\(")


@dataclass
class Exercise:
    """One exercise as the instructor notebook defines it."""
    id: str
    points: float
    check_source: str
    check_calls: set[str]        # the helpers.checks functions its check cell calls
    defines: set[str]            # top-level names its solution cell defines (to find it unlabelled)
    hidden_source: str = ""
    hidden_points: float = 0.0
    depends_on: list[str] = field(default_factory=list)
    #: the instructor notebook's import statements before its check (the grader's own modules
    #: for the names they bind, whatever a submission binds to those names)
    imports: str = ""
    #: what it asks for beyond a function (its solution cell's ``kind``: "design", "debugging"...)
    kind: str = ""
    #: the course's own versions of what it asks for (the expressions the notebook passes to
    #: ``checks.yours_or_course`` after the student's name, e.g. ``polar_features``) and the
    #: notebook's imports that bind them: a graded function may not be one of those or call one
    course_versions: list[str] = field(default_factory=list)
    course_imports: str = ""


def defined_names(source: str) -> set[str]:
    """Return the top-level functions and classes a cell defines.

    By regex when it does not parse (a student's typo).
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set(re.findall(r"^(?:def|class)\s+(\w+)", source, flags=re.MULTILINE))
    return {node.name for node in tree.body
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}


def _code_trees(cells):
    """The parsed source of each code cell that parses (a student's syntax error is skipped)."""
    for cell in cells:
        if cell.cell_type == "code":
            try:
                yield ast.parse(cell.source)
            except SyntaxError:
                continue


def import_statements(cells) -> str:
    """The top-level ``import``/``from ... import`` statements of these code cells, as source."""
    lines = []
    for tree in _code_trees(cells):
        for node in tree.body:
            if isinstance(node, (ast.Import, ast.ImportFrom)) and not getattr(node, "level", 0):
                lines.append(ast.unparse(node))
    return "\n".join(dict.fromkeys(lines))


def course_versions(cells) -> dict[str, list[str]]:
    """``{student's name.

    [expression of the course's version, ...]}`` from every ``yours_or_course(name, course_version,
    ...)`` call in these code cells.
    """
    found: dict[str, list[str]] = {}
    for tree in _code_trees(cells):
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and len(node.args) >= 2
                    and isinstance(node.args[0], ast.Name)
                    and (getattr(node.func, "id", None) or getattr(node.func, "attr", None))
                    == "yours_or_course"):
                found.setdefault(node.args[0].id, []).append(ast.unparse(node.args[1]))
    return found


def exercises_of(notebook) -> list[Exercise]:
    """The exercises of an instructor notebook, in order, from its cells' ``grade`` metadata."""
    found: dict[str, dict] = {}
    for index, cell in enumerate(notebook.cells):
        meta = cell.metadata.get(KEY)
        if not meta or meta.get("role") not in ("solution", "check", "hidden-check"):
            continue   # written answers are graded by a person (written.py)
        parts = found.setdefault(meta["exercise"], {})
        parts[meta["role"]] = (cell, meta, index)
    exercises = []
    versions = course_versions(notebook.cells)
    all_imports = import_statements(notebook.cells) if versions else ""
    for exercise_id, parts in found.items():
        if "solution" not in parts or "check" not in parts:
            raise ValueError(f"exercise {exercise_id!r} needs a solution cell and a check cell")
        (solution, meta, _), (check, _, check_index) = parts["solution"], parts["check"]
        hidden, hidden_meta, _ = parts.get("hidden-check", (None, {}, 0))
        exercises.append(Exercise(
            id=exercise_id, points=float(meta["points"]), check_source=check.source,
            check_calls=set(CHECK_CALL.findall(check.source)),
            defines=defined_names(solution.source),
            hidden_source=hidden.source if hidden is not None else "",
            hidden_points=float(hidden_meta.get("points", 0)),
            depends_on=list(meta.get("depends_on", [])),
            imports=import_statements(notebook.cells[:check_index]),
            kind=str(meta.get("kind", ""))))
        defines = exercises[-1].defines
        exercises[-1].course_versions = [v for name in sorted(defines)
                                         for v in versions.get(name, [])]
        exercises[-1].course_imports = all_imports if exercises[-1].course_versions else ""
    return exercises


def load_course(instructor_dir: Path = INSTRUCTOR_DIR) -> dict[str, list[Exercise]]:
    """``{notebook name: exercises}`` for every instructor notebook that has graded exercises."""
    course = {}
    for path in sorted(Path(instructor_dir).glob("[0-9][0-9]_*.ipynb")):
        exercises = exercises_of(nbformat.read(path, as_version=4))
        if exercises:
            course[path.stem] = exercises
    return course


def needs_datasets(instructor_dir: Path, names) -> bool:
    """Say whether any of these notebooks loads MNIST or SVHN (then synthetic data is written)."""
    for name in names:
        notebook = nbformat.read(Path(instructor_dir) / f"{name}.ipynb", as_version=4)
        if any(re.search(r"mnist|svhn", c.source, re.IGNORECASE) for c in notebook.cells
               if c.cell_type == "code"):
            return True
    return False


def imported_modules(notebook) -> list[str]:
    """Return the modules the instructor's code cells import, in order.

    ``torch``, ``helpers.checks``..., up to the last exercise (grading runs no further).
    """
    graded = [i for i, c in enumerate(notebook.cells) if c.metadata.get(KEY)]
    modules = []
    for tree in _code_trees(notebook.cells[: graded[-1] + 1 if graded else None]):
        for node in ast.walk(tree):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module] if isinstance(node, ast.ImportFrom) and node.module
                     and not node.level else [])
            modules += [n for n in names if n not in modules]
    return modules


# --- which notebook a submission is, and where its answers are ------------------------------


def identify(submission, course: dict[str, list[Exercise]]) -> str | None:
    """The course notebook a submission is.

    Its metadata id, else the one whose checks it calls most.
    """
    name = (submission.metadata.get(KEY) or {}).get("notebook")
    if name in course:
        return name
    calls = {call for cell in submission.cells if cell.get("cell_type") == "code"
             for call in CHECK_CALL.findall(cell.get("source", ""))}
    scores = {name: len(calls & set().union(*(e.check_calls for e in exercises)))
              for name, exercises in course.items()}
    best = max(scores.values(), default=0)
    winners = [name for name, score in scores.items() if score == best]
    return winners[0] if best > 0 and len(winners) == 1 else None


def find_solution_cell(cells, exercise: Exercise) -> int | None:
    """Index of the student's cell for ``exercise``.

    Labelled by metadata, else the last cell defining its names.
    """
    labelled = [i for i, c in enumerate(cells) if role_of(c) == (exercise.id, "solution")]
    if labelled:
        return labelled[-1]
    defining = [i for i, c in enumerate(cells) if c.cell_type == "code" and exercise.defines
                and exercise.defines <= defined_names(c.source)]
    return defining[-1] if defining else None


def is_check_cell(cell, exercises: list[Exercise]) -> bool:
    """A submission's own check cell (labelled, or calling one of this notebook's checks).

    Never trusted.
    """
    if role_of(cell)[1] in ("check", "hidden-check"):
        return True
    calls = set().union(*(e.check_calls for e in exercises))
    return cell.cell_type == "code" and bool(calls & set(CHECK_CALL.findall(cell.source)))
