"""Grade a folder of submitted notebooks into a gradebook: ``make grade SUBMISSIONS=folder``.

    python -m helpers.coursework.grade SUBMISSIONS [--out GRADES] [--roster CSV]
                                       [--sandbox auto|bwrap|none] [--jobs N]
                                       [--cell-timeout S] [--total-timeout S]

Every ``*.ipynb`` under SUBMISSIONS (any file name) is recognised by its content -- the notebook id
that ``make student`` writes into its metadata, or else the self-checks it calls -- and run in a
fresh kernel, in smoke mode, in a temporary folder of its own. Each exercise gets one result:

    PASSED         the self-check and the hidden check (if the exercise has one) passed
    NOT YET        a check failed; the hint says why (full points need the hidden check as well)
    NOT ATTEMPTED  the ``# YOUR CODE HERE`` stub still raises NotImplementedError
    ERROR          the student's cell raised (the last line of the traceback), or the kernel crashed
    TIMEOUT        a cell ran past the per-cell limit, or the notebook past its total time
    MISSING        the exercise's cell is not in the submission (deleted)

Written into GRADES (default: ``<SUBMISSIONS>-grades`` next to the folder): ``grades.csv`` (one row
per submission: points per exercise, total, max), ``results.csv`` (one row per exercise with its
result and hint), ``feedback/<file>.md`` for each student, ``written/<question>.csv`` (the written
answers side by side, for a person to grade: helpers/coursework/written.py) and, with ``--roster``,
the import files of Canvas, Moodle and Gradescope (helpers/coursework/lms.py).

Where grading reads its exercises (the instructor notebooks in ``notebooks/``): a code cell's
metadata ``"grade": {"exercise": ID, "role": "solution", "points": P, "depends_on": [ID, ...]}``
marks the cell the student completes, ``{"exercise": ID, "role": "check"}`` the self-check cell
after it, and a *raw* cell ``{"exercise": ID, "role": "hidden-check", "points": H}`` a stricter
check that only grading runs (Jupyter does not run raw cells, and ``make student`` leaves them out).
H of the P points need the hidden check. The check cells that run are always the instructor's: a
submission's own check cells, edited or not, are dropped, and the instructor's are put right after
the student's solution cells, which are found by their metadata or, failing that, by the functions
and classes they define.

What a submission cannot do: stop the run (crashes, hangs, huge outputs, a fork bomb or a 10 GB
allocation become results), and -- in the sandbox (``--sandbox``, helpers/coursework/sandbox.py; the
default ``auto`` uses bubblewrap where it works and says loudly when it cannot) -- write anything
outside its own temporary folder, read the instructor notebooks and their hidden checks, the other
submissions or the grader's output, see the grader's processes, or reach the network. The
submissions folder is only read, and its files are hashed before and after (a change is reported).
What it *can* still do: fake its own check results by monkeypatching ``helpers.checks`` in its
kernel; a hidden check is run in that same kernel after the student's cells.
"""

from __future__ import annotations

import argparse
import ast
import csv
import hashlib
import multiprocessing
import os
import re
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError

from helpers.coursework import KEY, feedback_name, lms, role_of, written
from helpers.coursework import sandbox as sandboxes
from helpers.settings import CACHE_ENV, DATA_ENV, SMOKE_ENV

#: The instructor notebooks, the one source of exercises, points and hidden checks.
INSTRUCTOR_DIR = Path(__file__).resolve().parents[2] / "notebooks"

PASSED, NOT_YET, NOT_ATTEMPTED, ERROR, TIMEOUT, MISSING = (
    "PASSED", "NOT YET", "NOT ATTEMPTED", "ERROR", "TIMEOUT", "MISSING")

VERDICT_LINE = re.compile(r"^(PASSED|NOT YET):")
CHECK_CALL = re.compile(r"\bchecks\.(check_\w+)\s*\(")


@dataclass
class Limits:
    """How long and how much one submission may run and print."""
    cell_timeout: float = 60.0          # seconds per cell (interrupted; later cells still run)
    total_timeout: float = 300.0        # seconds per notebook; the kernel is killed
    setup_timeout: float = 180.0        # seconds for the set-up cell (imports, on a busy machine)
    output_bytes: int = 100_000         # output kept per cell (verdict lines are always kept)
    file_bytes: int = 64 * 2**20        # largest file the kernel may write (RLIMIT_FSIZE)
    submission_bytes: int = 50 * 2**20  # larger .ipynb files are not run
    threads: int = 1                    # torch/OpenMP threads per kernel
    memory_bytes: int = 6 * 2**30       # address space per kernel (torch alone maps about 3.7 GB)
    processes: int = 256                # processes and threads per kernel (in the sandbox)


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


@dataclass
class Result:
    """One exercise's result in one submission."""
    exercise: str
    status: str
    points: float
    max_points: float
    detail: str = ""


@dataclass
class Graded:
    """One submission's row of the gradebook."""
    file: str
    notebook: str = ""
    status: str = "graded"
    results: list[Result] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def total(self) -> float:
        return sum(r.points for r in self.results)

    @property
    def max_points(self) -> float:
        return sum(r.max_points for r in self.results)


# --- the course: exercises from the instructor notebooks ------------------------------------------


def defined_names(source: str) -> set[str]:
    """Top-level functions and classes a cell defines (by
    regex when it does not parse: a student's typo)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set(re.findall(r"^(?:def|class)\s+(\w+)", source, flags=re.MULTILINE))
    return {node.name for node in tree.body
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}


def exercises_of(notebook) -> list[Exercise]:
    """The exercises of an instructor notebook, in order, from its cells' ``grade`` metadata."""
    found: dict[str, dict] = {}
    for cell in notebook.cells:
        meta = cell.metadata.get(KEY)
        if not meta:
            continue
        parts = found.setdefault(meta["exercise"], {})
        parts[meta["role"]] = (cell, meta)
    exercises = []
    for exercise_id, parts in found.items():
        if "solution" not in parts or "check" not in parts:
            raise ValueError(f"exercise {exercise_id!r} needs a solution cell and a check cell")
        (solution, meta), (check, _) = parts["solution"], parts["check"]
        hidden, hidden_meta = parts.get("hidden-check", (None, {}))
        exercises.append(Exercise(
            id=exercise_id, points=float(meta["points"]), check_source=check.source,
            check_calls=set(CHECK_CALL.findall(check.source)),
            defines=defined_names(solution.source),
            hidden_source=hidden.source if hidden is not None else "",
            hidden_points=float(hidden_meta.get("points", 0)),
            depends_on=list(meta.get("depends_on", []))))
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
    """Whether any of these notebooks loads MNIST or
    SVHN (then a synthetic data root is written)."""
    for name in names:
        notebook = nbformat.read(Path(instructor_dir) / f"{name}.ipynb", as_version=4)
        if any(re.search(r"mnist|svhn", c.source, re.IGNORECASE) for c in notebook.cells
               if c.cell_type == "code"):
            return True
    return False


# --- one submission: recognise, rebuild with the instructor's checks, run, read the results -------


def identify(submission, course: dict[str, list[Exercise]]) -> str | None:
    """The course notebook a submission is: its metadata
    id, else the one whose checks it calls most."""
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
    """Index of the student's cell for ``exercise``: labelled
    by metadata, else the last cell defining its names."""
    labelled = [i for i, c in enumerate(cells) if role_of(c) == (exercise.id, "solution")]
    if labelled:
        return labelled[-1]
    defining = [i for i, c in enumerate(cells) if c.cell_type == "code" and exercise.defines
                and exercise.defines <= defined_names(c.source)]
    return defining[-1] if defining else None


def is_check_cell(cell, exercises: list[Exercise]) -> bool:
    """A submission's own check cell (labelled, or calling
    one of this notebook's checks): never trusted."""
    if role_of(cell)[1] in ("check", "hidden-check"):
        return True
    calls = set().union(*(e.check_calls for e in exercises))
    return cell.cell_type == "code" and bool(calls & set(CHECK_CALL.findall(cell.source)))


def grading_notebook(submission, exercises: list[Exercise], limits: Limits,
                     modules: list[str] = ()):
    """The notebook that is run: a set-up cell, the student's cells without their check cells, and
    after each solution cell the instructor's check and hidden check. Stops after the last graded
    cell (what comes later cannot change a result). Returns (notebook, {exercise id: {role: cell
    index}})."""
    notebook = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3",
                                                                 "display_name": "Python 3",
                                                                 "language": "python"}})
    notebook.cells.append(nbformat.v4.new_code_cell(setup_source(limits, list(modules))))
    cells = [c for c in submission.cells if not is_check_cell(c, exercises)]
    after = {}
    for exercise in exercises:
        index = find_solution_cell(cells, exercise)
        if index is not None:
            after.setdefault(index, []).append(exercise)
    where: dict[str, dict[str, int]] = {}
    last_graded = 0
    for index, cell in enumerate(cells):
        notebook.cells.append(nbformat.v4.new_code_cell(cell.source) if cell.cell_type == "code"
                              # keep the numbering; nothing to run
                              else nbformat.v4.new_markdown_cell(""))
        for exercise in after.get(index, []):
            roles = where.setdefault(exercise.id, {"solution": len(notebook.cells) - 1})
            for role, source in (("check", exercise.check_source),
                                 ("hidden", exercise.hidden_source)):
                if source:
                    notebook.cells.append(nbformat.v4.new_code_cell(source))
                    roles[role] = len(notebook.cells) - 1
            last_graded = len(notebook.cells)
    del notebook.cells[last_graded:]
    return notebook, where


def imported_modules(notebook) -> list[str]:
    """The modules the instructor's code cells import (``torch``, ``helpers.checks``...), in order,
    up to the last exercise (grading runs no further)."""
    graded = [i for i, c in enumerate(notebook.cells) if c.metadata.get(KEY)]
    modules = []
    for cell in notebook.cells[: graded[-1] + 1 if graded else None]:
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module] if isinstance(node, ast.ImportFrom) and node.module
                     and not node.level else [])
            modules += [n for n in names if n not in modules]
    return modules


def setup_source(limits: Limits, modules: list[str]) -> str:
    """The first cell run: resource limits for the kernel (cheap, not a sandbox), and the
    instructor's imports loaded ahead (no names are bound), under the set-up's own time limit: a
    slow first ``import torch`` on a busy machine must not count against the student's per-cell
    time."""
    cpu = int(limits.total_timeout * max(1, limits.threads) + 60)
    return (
        "# Set by the grader, not part of the submission: "
        "limits for this kernel, modules loaded ahead.\n"
        "import importlib as _importlib, resource as _resource\n"
        f"_resource.setrlimit(_resource.RLIMIT_FSIZE, ({limits.file_bytes}, {limits.file_bytes}))\n"
        f"_resource.setrlimit(_resource.RLIMIT_CPU, ({cpu}, {cpu}))\n"
        "_resource.setrlimit(_resource.RLIMIT_CORE, (0, 0))\n"
        f"for _module in {modules!r}:\n"
        "    try:\n"
        "        _importlib.import_module(_module)\n"
        "    except Exception:\n"
        "        pass\n"
        "del _importlib, _resource, _module")


class GradingClient(NotebookClient):
    """An nbclient that keeps at most ``output_bytes`` of each cell's output, plus every verdict
    line: a submission that prints megabytes must not fill the grader's memory nor hide its
    self-check."""

    output_bytes = 100_000

    def output(self, outs, msg, display_id, cell_index):
        out = super().output(outs, msg, display_id, cell_index)
        if out is None or out.output_type == "error":
            return out
        sizes = self.__dict__.setdefault("_grading_sizes", {})
        sizes[cell_index] = (sizes.get(cell_index, 0)
                             + len(str(out.get("text", out.get("data", "")))))
        if sizes[cell_index] > self.output_bytes:
            if outs and outs[-1] is out:
                outs.pop()
            if not any(o.get("name") == "grader" for o in outs):
                outs.append(nbformat.v4.new_output("stream", name="grader",
                                                   text="[output truncated by the grader]\n"))
            verdicts = [line for line in str(out.get("text", "")).splitlines(keepends=True)
                        if VERDICT_LINE.match(line) or line.startswith("  Hint:")]
            if verdicts:
                outs.append(nbformat.v4.new_output("stream", name="stdout", text="".join(verdicts)))
        return out


def execute(notebook, workdir: Path, env: dict, limits: Limits,
            sandbox: sandboxes.Sandbox | None = None) -> tuple[list[str], str]:
    """Run every code cell in a fresh kernel (in ``sandbox`` when it is a bwrap one); errors do not
    stop it, a cell past ``cell_timeout`` is interrupted, the kernel is killed at ``total_timeout``.
    Returns each cell's state ("ran", "timeout", "crashed", "not run") and why the run stopped early
    ("" if it did not)."""
    states = ["not run"] * len(notebook.cells)
    timed_out = set()

    def remember_timeout(cell, cell_index, execute_reply):
        if execute_reply.get("content", {}).get("ename") == "GraderTimeout":
            timed_out.add(cell_index)

    client = GradingClient(
        notebook, kernel_name="python3", allow_errors=True, interrupt_on_timeout=True,
        record_timing=False,
        error_on_timeout={"ename": "GraderTimeout", "evalue": "", "traceback": []},
        on_cell_executed=remember_timeout,
        shutdown_kernel="immediate", startup_timeout=120, iopub_timeout=10)
    if sandbox is not None:
        client.km = sandboxes.SandboxedKernelManager(sandbox, workdir, kernel_name="python3")
    client.output_bytes = limits.output_bytes
    deadline = time.monotonic() + limits.total_timeout
    stopped = ""
    with client.setup_kernel(cwd=str(workdir), env=env):
        for index, cell in enumerate(notebook.cells):
            remaining = deadline - time.monotonic()
            if remaining <= 1:
                stopped = f"the notebook ran out of its {limits.total_timeout:g} s in total"
                break
            allowed = limits.setup_timeout if index == 0 else limits.cell_timeout
            client.timeout = max(1, int(min(allowed, remaining)))
            try:
                client.execute_cell(cell, index)
                if index in timed_out:
                    # Wait until the interrupt has stopped the cell: an interrupt that arrives late
                    # must hit this no-op, not the next cell of the submission.
                    client.timeout = 10
                    client.execute_cell(nbformat.v4.new_code_cell("pass"), index)
            except DeadKernelError:
                states[index] = "crashed"
                stopped = "the kernel crashed (os._exit, a segfault, memory or CPU-time limit)"
                break
            except Exception as error:
                # e.g. a garbled message from a kernel that could not start a thread
                states[index] = "crashed"
                stopped = ("the kernel stopped answering properly "
                           f"({type(error).__name__}: {str(error)[:80]})")
                break
            states[index] = "timeout" if index in timed_out else "ran"
    return states, stopped


def kernel_environment(workdir: Path, data_root: Path, limits: Limits) -> dict:
    """A minimal environment: smoke mode, and every place a notebook writes to inside ``workdir``.
    The grader's own variables (tokens, paths) are not passed on."""
    env = {name: os.environ[name] for name in ("PATH", "LANG", "LC_ALL", "VIRTUAL_ENV")
           if name in os.environ}
    for folder in ("home", "tmp", "cache"):
        (workdir / folder).mkdir(exist_ok=True)
    threads = str(limits.threads)
    env.update({SMOKE_ENV: "1", DATA_ENV: str(data_root), CACHE_ENV: str(workdir / "cache")})
    env.update(HOME=str(workdir / "home"), TMPDIR=str(workdir / "tmp"), MPLBACKEND="Agg",
               PYTHONDONTWRITEBYTECODE="1", OMP_NUM_THREADS=threads, MKL_NUM_THREADS=threads,
               PYTHONUNBUFFERED="1")
    return env


def outputs_of(cell) -> tuple[list[str], dict | None]:
    """(verdict lines with their hints, the cell's error output or None)."""
    text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
    lines, verdicts = text.splitlines(), []
    for line in lines:
        if VERDICT_LINE.match(line):
            verdicts.append(line.strip())
        elif line.startswith("  Hint:") and verdicts:
            verdicts[-1] += " — " + line.strip()[len("Hint:"):].strip()
    error = next((o for o in cell.outputs if o.output_type == "error"), None)
    return verdicts, error


def error_line(error: dict) -> str:
    """The last line of a traceback: ``ExceptionName: message`` (shortened)."""
    line = f"{error.get('ename', 'Error')}: {error.get('evalue', '')}".strip().rstrip(":")
    return line if len(line) <= 300 else line[:297] + "..."


def judge(exercise: Exercise, notebook, states: list[str], roles: dict[str, int] | None,
          stopped: str) -> Result:
    """One exercise's result from its cells' outputs after the run."""
    def result(status, points=0.0, detail=""):
        return Result(exercise.id, status, points, exercise.points, detail)

    if roles is None:
        return result(MISSING, detail="the exercise's cell is not in the notebook (deleted?); "
                                      "copy it back from the student copy")
    for role in ("solution", "check"):
        index = roles[role]
        state, (verdicts, error) = states[index], outputs_of(notebook.cells[index])
        if state == "not run":
            return result(ERROR if "crashed" in stopped else TIMEOUT,
                          detail=f"not graded: {stopped}")
        if state == "crashed":
            return result(ERROR, detail=f"the kernel crashed while running this exercise's {role}")
        if state == "timeout":
            return result(TIMEOUT, detail=f"the {'code' if role == 'solution' else 'self-check'} "
                                          "ran too long and was stopped (a loop that never ends?)")
        if error is not None and error.ename == "NotImplementedError":
            return result(NOT_ATTEMPTED,
                          detail="the `raise NotImplementedError` stub is still there")
        if role == "solution" and error is not None:
            return result(ERROR, detail=f"your cell raised {error_line(error)}")
    verdicts, error = outputs_of(notebook.cells[roles["check"]])
    failed = [v for v in verdicts if v.startswith("NOT YET")]
    if failed:
        return result(NOT_YET, detail="; ".join(failed))
    if not verdicts:
        return result(ERROR, detail=f"the self-check raised {error_line(error)}" if error else
                      "the self-check printed no verdict")
    truncated = any(o.get("name") == "grader" for o in notebook.cells[roles["solution"]].outputs)
    note = "your cell printed more than the grader keeps; its output was cut" if truncated else ""
    if "hidden" not in roles:
        return result(PASSED, exercise.points, note)
    visible_points = exercise.points - exercise.hidden_points
    hidden_verdicts, hidden_error = outputs_of(notebook.cells[roles["hidden"]])
    hidden_failed = [v for v in hidden_verdicts if v.startswith("NOT YET")]
    if states[roles["hidden"]] == "ran" and hidden_verdicts and not hidden_failed:
        return result(PASSED, exercise.points, note)
    why = ("; ".join(hidden_failed) or (error_line(hidden_error) if hidden_error else "")
           or "it did not finish in time")
    return result(NOT_YET, visible_points,
                  f"the self-check passed, the grader's additional check did not: {why}")


def note_dependencies(results: list[Result], exercises: list[Exercise]) -> None:
    """Say in a failed exercise's detail when it builds on an earlier exercise that failed too."""
    status = {r.exercise: r.status for r in results}
    for result, exercise in zip(results, exercises):
        broken = [d for d in exercise.depends_on if status.get(d, PASSED) != PASSED]
        if result.status != PASSED and broken:
            result.detail += (f" (This exercise uses your answer to {', '.join(broken)}, which did "
                              "not pass: fix that first, this result may follow.)")


def grade_submission(path: Path, relative: str, course: dict[str, list[Exercise]],
                     data_root: Path | None, limits: Limits,
                     modules: dict[str, list[str]] | None = None,
                     sandbox: sandboxes.Sandbox | None = None) -> Graded:
    """Grade one submission in a temporary folder of its
    own. Never raises: every problem becomes a row."""
    started = time.monotonic()
    graded = Graded(file=relative)
    workdir = Path(tempfile.mkdtemp(prefix="grade-"))
    try:
        size = path.stat().st_size
        if size == 0:
            graded.status = "unreadable: the file is empty"
            return graded
        if size > limits.submission_bytes:
            graded.status = (f"unreadable: the file is {size / 2**20:.0f} MB, "
                             f"over {limits.submission_bytes / 2**20:.0f} MB")
            return graded
        copy = workdir / "submission.ipynb"
        shutil.copyfile(path, copy)  # the original is never opened again, and never for writing
        try:
            submission = nbformat.read(copy, as_version=4)
            # malformed cells fail here
            _ = [(c.cell_type, c.source, c.metadata) for c in submission.cells]
        except Exception as error:
            graded.status = ("unreadable: not a notebook "
                             f"({type(error).__name__}: {str(error).splitlines()[0][:200]})")
            return graded
        name = identify(submission, course)
        if name is None:
            graded.status = "unknown notebook: not one of this course's notebooks with exercises"
            return graded
        graded.notebook, exercises = name, course[name]
        notebook, where = grading_notebook(submission, exercises, limits,
                                           (modules or {}).get(name, []))
        if data_root is not None:
            # a private copy: deleting it harms no one else
            shutil.copytree(data_root, workdir / "data")
        env = kernel_environment(workdir, workdir / "data", limits)
        states, stopped = execute(notebook, workdir, env, limits, sandbox)
        graded.results = [judge(e, notebook, states, where.get(e.id), stopped) for e in exercises]
        note_dependencies(graded.results, exercises)
        if stopped:
            graded.status = f"graded, but {stopped}"
    except Exception as error:
        # the grader's own failure (e.g. no kernel): say so, carry on with the others
        graded.status = f"not graded: {type(error).__name__}: {error}"
    finally:
        graded.seconds = time.monotonic() - started
        shutil.rmtree(workdir, ignore_errors=True)
    return graded


# --- the run: every submission, in parallel; the gradebook and the feedback -----------------------


def submission_paths(folder: Path) -> list[Path]:
    """Every ``*.ipynb`` under ``folder`` (not Jupyter's checkpoint copies), sorted."""
    return sorted(p for p in folder.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts
                  and p.is_file())


def fingerprint(folder: Path) -> dict[str, str]:
    """SHA-256 of every file under ``folder``: compared before and after grading."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def write_smoke_data(root: Path) -> Path:
    """The synthetic datasets the test suite uses (see
    conftest.py), written once per grading run."""
    from helpers.data import write_synthetic_datasets
    write_synthetic_datasets(root)
    return root


def _format_points(value: float) -> str:
    return f"{value:g}"


def write_gradebook(graded: list[Graded], course: dict[str, list[Exercise]], out: Path) -> None:
    """``grades.csv`` (one row per submission) and ``results.csv`` (one row per exercise)."""
    present = [name for name in course if any(g.notebook == name for g in graded)]
    columns = [e.id for name in present for e in course[name]]
    with open(out / "grades.csv", "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["file", "notebook", *columns, "total", "max", "status"])
        for g in graded:
            points = {r.exercise: _format_points(r.points) for r in g.results}
            writer.writerow([g.file, g.notebook, *(points.get(c, "") for c in columns),
                             _format_points(g.total),
                             _format_points(g.max_points) if g.results else "", g.status])
    with open(out / "results.csv", "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["file", "notebook", "exercise", "result", "points", "max", "detail"])
        for g in graded:
            for r in g.results:
                writer.writerow([g.file, g.notebook, r.exercise, r.status, _format_points(r.points),
                                 _format_points(r.max_points), r.detail])


def feedback_markdown(graded: Graded) -> str:
    """What the student reads: the total, then each exercise's result and hint."""
    lines = [f"# Feedback on `{graded.file}`", ""]
    if not graded.results:
        lines += [f"**Not graded** -- {graded.status}.", "",
                  "Submit the notebook you worked in (File > Download > .ipynb), unchanged apart "
                  "from your answers."]
        return "\n".join(lines) + "\n"
    lines += [f"Notebook `{graded.notebook}`: **{_format_points(graded.total)} / "
              f"{_format_points(graded.max_points)} points**.", ""]
    if graded.status != "graded":
        lines += [f"Note: {graded.status}.", ""]
    lines += ["| exercise | result | points |", "|---|---|---|"]
    lines += [f"| {r.exercise} | {r.status} | "
              f"{_format_points(r.points)} / {_format_points(r.max_points)} |"
              for r in graded.results]
    lines.append("")
    for r in graded.results:
        if r.detail:
            lines += [f"**{r.exercise}** ({r.status}): {r.detail}", ""]
    return "\n".join(lines)


def grade_folder(submissions: Path, out: Path, instructor_dir: Path = INSTRUCTOR_DIR,
                 jobs: int | None = None, limits: Limits | None = None, log=print,
                 sandbox: str = "auto", roster: Path | None = None) -> list[Graded]:
    """Grade every submission in ``submissions``; write the gradebook, the feedback and the written
    answers to grade by hand into ``out``, and with a ``roster`` (CSV) the LMS import files
    (helpers.coursework.lms).

    ``sandbox``: "auto" (bubblewrap where it works, else unconfined with a loud warning), "bwrap"
    (an error without it) or "none"."""
    # a bad roster fails before hours of grading
    students = lms.read_roster(roster) if roster else None
    submissions, out = Path(submissions).resolve(), Path(out).resolve()
    if out == submissions or submissions in out.parents:
        raise ValueError(f"the output folder {out} must not be inside the submissions folder")
    limits = limits or Limits()
    course = load_course(instructor_dir)
    paths = submission_paths(submissions)
    before = fingerprint(submissions)
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(paths) or 1))
    limits.threads = max(1, (os.cpu_count() or 1) // jobs)
    hidden = [Path(instructor_dir).resolve(), submissions, out, INSTRUCTOR_DIR.parent / ".git"]
    confinement = sandboxes.Sandbox(sandboxes.choose(sandbox, log), hidden,
                                    memory_bytes=limits.memory_bytes, processes=limits.processes,
                                    file_bytes=limits.file_bytes,
                                    cpu_seconds=int(limits.total_timeout * max(1, limits.threads)
                                                    + 60))
    run_dir = Path(tempfile.mkdtemp(prefix="grade-run-"))
    try:
        data_root = (write_smoke_data(run_dir / "data") if needs_datasets(instructor_dir, course)
                     else None)
        modules = {name: imported_modules(nbformat.read(Path(instructor_dir) / f"{name}.ipynb",
                                                        as_version=4))
                   for name in course}
        graded = [None] * len(paths)
        # Worker processes, not threads: each runs its own nbclient event loop; started by "spawn",
        # so they do not inherit the grader's state.
        with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = {pool.submit(grade_submission, path, str(path.relative_to(submissions)),
                                   course, data_root, limits, modules, confinement): i
                       for i, path in enumerate(paths)}
            for done, future in enumerate(as_completed(futures), 1):
                g = graded[futures[future]] = future.result()
                score = (f"{_format_points(g.total)}/{_format_points(g.max_points)}" if g.results
                         else "-")
                log(f"[{done}/{len(paths)}] {g.file}: {score} ({g.status}, {g.seconds:.0f} s)",
                    flush=True)
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)
    (out / "feedback").mkdir(parents=True, exist_ok=True)
    write_gradebook(graded, course, out)
    for g in graded:
        (out / "feedback" / feedback_name(g.file)).write_text(feedback_markdown(g))
    names = {}
    if students is not None:
        # `written merge` writes the LMS files again from it
        shutil.copyfile(roster, out / "roster.csv")
        with open(out / "grades.csv", newline="") as file:
            report = lms.write_lms_files(list(csv.DictReader(file)), students, out)
        for line in report:
            log(f"roster: {line}")
        names = {f: s.name for s in students
                 for f in lms.match_roster([s], [g.file for g in graded])[0][s.student_id]}
    readable = [(g.file, g.notebook, nbformat.read(submissions / g.file, as_version=4))
                for g in graded if g.results]
    written.collect(readable, instructor_dir, out, names)
    if fingerprint(submissions) != before:
        raise RuntimeError(f"the submissions folder {submissions} changed during grading: a "
                           "submission wrote to it; see the feedback and grade that folder's files "
                           "again from a backup")
    return graded


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.coursework.grade", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("submissions", type=Path,
                        help="folder of submitted .ipynb files (only read)")
    parser.add_argument("--out", type=Path,
                        help="where grades.csv and feedback/ go (default: SUBMISSIONS-grades)")
    parser.add_argument("--instructor", type=Path, default=INSTRUCTOR_DIR,
                        help="the instructor notebooks")
    parser.add_argument("--jobs", type=int,
                        help="notebooks graded at once (default: one per CPU core)")
    parser.add_argument("--cell-timeout", type=float, default=Limits.cell_timeout,
                        help="seconds per cell")
    parser.add_argument("--total-timeout", type=float, default=Limits.total_timeout,
                        help="seconds per notebook")
    parser.add_argument("--roster", type=Path,
                        help="class roster CSV (student_id, name, email[, file]): writes Canvas, "
                             "Moodle and Gradescope import files")
    parser.add_argument("--sandbox", choices=sandboxes.CHOICES, default="auto",
                        help="bwrap: each kernel in a bubblewrap sandbox; auto (default): bwrap "
                             "where it works; none: unconfined")
    args = parser.parse_args(argv)
    if not args.submissions.is_dir():
        parser.error(f"{args.submissions} is not a folder")
    out = (args.out
           or args.submissions.resolve().parent / f"{args.submissions.resolve().name}-grades")
    started = time.monotonic()
    try:
        graded = grade_folder(args.submissions, out, args.instructor, args.jobs,
                              Limits(cell_timeout=args.cell_timeout,
                                     total_timeout=args.total_timeout),
                              sandbox=args.sandbox, roster=args.roster)
    except (ValueError, RuntimeError) as error:
        # output inside the submissions, or a submission wrote to them
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"graded {len(graded)} submissions in {time.monotonic() - started:.0f} s: "
          f"{out / 'grades.csv'}, {out / 'feedback'}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
