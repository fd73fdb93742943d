"""Grade a folder of submitted notebooks into a gradebook: ``make grade SUBMISSIONS=folder``.

    python -m helpers.coursework grade SUBMISSIONS [--out GRADES] [--roster CSV]
                                       [--sandbox auto|bwrap|none] [--jobs N]
                                       [--cell-timeout S] [--total-timeout S]

Every ``*.ipynb`` under SUBMISSIONS (any file name) is recognised by its content -- the notebook id
that ``make student`` writes into its metadata, or else the self-checks it calls -- and run in a
fresh kernel, in smoke mode, in a temporary folder of its own. Each exercise gets one result
(helpers/coursework/judge.py): PASSED, NOT YET, NOT ATTEMPTED, ERROR, TIMEOUT or MISSING.

The steps, one module each (as otter-grader splits them): ``course`` finds the exercises in the
instructor notebooks (``notebooks/``); ``assemble`` builds the notebook the kernel runs (the
student's cells without their own check cells); ``execute`` runs it in the sandbox with limits;
``judge`` runs the instructor's checks and hidden checks in this process -- where no student code
runs -- reaching the student's functions, models and data only through ``channel`` (plain data,
never pickle); ``gradebook`` writes ``grades.csv``, ``results.csv`` and ``feedback/<file>.md``. Also
written: ``written/<question>.csv`` (written answers, for a person to grade: written.py) and, with
``--roster``, the import files of Canvas, Moodle and Gradescope (lms.py).

Before any submission, the grader grades the instructor's own solutions through exactly the same
path (sandbox, limits, checks): anything short of full marks stops the run with what failed and its
likely cause (:class:`SelfCheckFailed`), before a student row is written.

What a submission cannot do: stop the run (crashes, hangs, huge outputs, a fork bomb or a 10 GB
allocation become results); change its verdicts (they are decided here, from data, never from
what its kernel prints: rewriting ``sys.stdout``, ``print``, the checks or ``torch.allclose`` in
its kernel changes nothing here); and -- in the sandbox (``--sandbox``, sandbox.py; the default
``auto`` uses bubblewrap where it works and says loudly when it cannot) -- write anything outside
its own temporary folder, read the instructor notebooks and their hidden checks, the other
submissions or the grader's output, see the grader's processes, or reach the network. The
submissions folder is only read, and its files are hashed before and after (a change is reported).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import hashlib
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import nbformat

from helpers.coursework import feedback_name, lms, written
from helpers.coursework import sandbox as sandboxes
from helpers.coursework.assemble import grading_notebook, setup_source  # noqa: F401
from helpers.coursework.channel import KernelGone
from helpers.coursework.course import (INSTRUCTOR_DIR, Exercise, defined_names,  # noqa: F401
                                       exercises_of, find_solution_cell, identify,
                                       imported_modules, is_check_cell, load_course,
                                       needs_datasets)
from helpers.coursework.execute import Kernel, Limits, kernel_environment
from helpers.coursework.gradebook import (Graded, _format_points, feedback_markdown,  # noqa: F401
                                          write_gradebook)
from helpers.settings import DATA_ENV, SMOKE_ENV
from helpers.coursework.judge import (ERROR, MISSING, NOT_ATTEMPTED, NOT_YET,  # noqa: F401
                                      PASSED, TIMEOUT, Result, course_copy, error_line, judge,
                                      note_dependencies, run_check)


# --- one submission -------------------------------------------------------------------------


def grade_notebook(submission, exercises: list[Exercise], workdir: Path, env: dict,
                   limits: Limits, modules: list[str], sandbox
                   ) -> tuple[list[Result], str, str]:
    """Run ``submission`` and judge each exercise right after its solution cell has run."""
    notebook, where = grading_notebook(submission, exercises, limits, modules)
    after: dict[int, list[Exercise]] = {}
    for exercise in exercises:
        if exercise.id in where:
            after.setdefault(where[exercise.id]["solution"], []).append(exercise)
    states: dict[int, str] = {}
    parts: dict[str, tuple] = {}
    kernel = Kernel(notebook, workdir, env, limits, sandbox)
    with kernel:
        try:
            for index in range(kernel.count):
                states[index] = "crashed"
                states[index] = kernel.run(index)
                for exercise in after.get(index, []):
                    started = time.monotonic()
                    check = hidden = None
                    if states[index] == "ran" and not error_of(notebook.cells[index]):
                        # the course's own code under the exercise's names gets nothing
                        check = (course_copy(exercise, kernel.channel)
                                 or run_check(exercise.check_source, exercise.imports,
                                              kernel.channel))
                        if (exercise.hidden_source and check.state == "ran" and check.verdicts
                                and not check.failed):
                            hidden = run_check(exercise.hidden_source, exercise.imports,
                                               kernel.channel)
                    parts[exercise.id] = (check, hidden, time.monotonic() - started)
                    if "crashed" in (getattr(check, "state", ""), getattr(hidden, "state", "")):
                        raise KernelGone(kernel.stopped or "the kernel crashed")
        except KernelGone:
            if kernel.stopped.startswith("the notebook ran out"):
                states.pop(index, None)   # not run: out of time before it
        stopped = kernel.stopped or ("the kernel crashed (os._exit, a segfault, memory or "
                                     "CPU-time limit)" if "crashed" in states.values() else "")
    errors = {i: error_of(notebook.cells[i]) for i in states}
    first = next((errors[i] for i in sorted(errors) if errors[i] is not None), None)
    first_error = error_line(first) if first else ""
    results = []
    for exercise in exercises:
        roles = where.get(exercise.id)
        check, hidden, seconds = parts.get(exercise.id, (None, None, 0.0))
        truncated = roles is not None and any(
            o.get("name") == "grader" for o in notebook.cells[roles["solution"]].outputs)
        result = judge(exercise, roles, states, errors, check, hidden, stopped, truncated)
        result.seconds = seconds
        results.append(result)
    note_dependencies(results, exercises)
    return results, stopped, first_error


@contextlib.contextmanager
def checks_see_the_kernels_data(data_root: Path | None):
    """Let the checks in this process read the data the kernel was given, in its smoke mode.

    While a submission is judged, the checks here (a design exercise's training and test images,
    loaded here and sent to the student's function) read the run's own copy of the kernel's data,
    which no kernel can write to (each kernel has a private copy), not whatever data folder the
    grader was started with.
    """
    names = (DATA_ENV, SMOKE_ENV)
    saved = {name: os.environ.get(name) for name in names}
    os.environ[SMOKE_ENV] = "1"
    if data_root is not None:
        os.environ[DATA_ENV] = str(data_root)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def error_of(cell) -> dict | None:
    return next((o for o in cell.get("outputs", []) if o.output_type == "error"), None)


def grade_submission(path: Path, relative: str, course: dict[str, list[Exercise]],
                     data_root: Path | None, limits: Limits,
                     modules: dict[str, list[str]] | None = None,
                     sandbox: sandboxes.Sandbox | None = None,
                     kernel_env: dict | None = None) -> Graded:
    """Grade one submission in a temporary folder of its own.

    Never raises: every problem becomes a row.
    """
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
        if data_root is not None:
            # a private copy: deleting it harms no one else
            shutil.copytree(data_root, workdir / "data")
        env = {**kernel_environment(workdir, workdir / "data", limits), **(kernel_env or {})}
        with checks_see_the_kernels_data(data_root):
            graded.results, stopped, graded.first_error = grade_notebook(
                submission, exercises, workdir, env, limits, (modules or {}).get(name, []),
                sandbox)
        if stopped:
            graded.status = f"graded, but {stopped}"
    except Exception as error:
        # the grader's own failure (e.g. no kernel): say so, carry on with the others
        graded.status = f"not graded: {type(error).__name__}: {error}"
    finally:
        graded.seconds = time.monotonic() - started
        shutil.rmtree(workdir, ignore_errors=True)
    return graded


# --- the grader checks itself first ---------------------------------------------------------


class SelfCheckFailed(RuntimeError):
    """The instructor's own solutions did not get full marks: the grading environment is broken."""


def solutions_notebook(instructor_dir: Path, name: str):
    """The student copy of notebook ``name`` with every exercise answered as the instructor did.

    What a perfect submission looks like.
    """
    from helpers.coursework import role_of
    from helpers.coursework.student import student_version

    instructor = nbformat.read(Path(instructor_dir) / f"{name}.ipynb", as_version=4)
    copy = student_version(instructor, f"{name}.ipynb")
    answers = {role_of(c)[0]: c.source for c in instructor.cells if role_of(c)[1] == "solution"}
    for cell in copy.cells:
        exercise, role = role_of(cell)
        if role == "solution" and exercise in answers:
            cell.source = answers[exercise]
    return copy


def likely_cause(graded: Graded) -> str:
    """Why the instructor's solutions lost points, as far as the results tell."""
    text = " ".join([graded.status] + [r.detail for r in graded.results])
    if not graded.results:
        return f"the grader could not run the solutions at all ({graded.status})"
    text += " " + graded.first_error
    if "helpers" in text and ("ModuleNotFoundError" in text or "ImportError" in text):
        return ("the course's package `helpers` is not importable inside the kernel's sandbox "
                "(is the checkout installed in the venv, and visible to the sandbox?)")
    if "NameError" in text or "ModuleNotFoundError" in text or "ImportError" in text:
        return ("names the notebook imports or defines are missing in the kernel: an import "
                "failed there -- the course's package `helpers` is not importable inside the "
                "kernel's sandbox, or a dependency of it"
                + (f" (the kernel's first error: {graded.first_error})"
                   if graded.first_error else ""))
    if "FileNotFoundError" in text or "No such file" in text:
        return "data missing: a file the notebook reads is not there for the kernel"
    if "ChannelError" in text:
        return "the channel between the grader and the kernel failed"
    statuses = {r.status for r in graded.results}
    if "crashed" in graded.status or "crashed" in text:
        return "the kernel crashed: the memory or CPU-time limit is too tight for this machine"
    if TIMEOUT in statuses:
        return ("too slow: a cell or the notebook ran past its time limit (raise --cell-timeout "
                "or --total-timeout, or grade with fewer --jobs)")
    if NOT_YET in statuses:
        return "a check fails its own solution: the check or the solution is wrong"
    return "see the results above"


def self_check_message(graded: Graded) -> str:
    lines = [f"the instructor's solutions of {graded.notebook or graded.file} got "
             f"{_format_points(graded.total)} / {_format_points(graded.max_points)} points "
             "through the grader, not full marks: no submission was graded.",
             f"Likely cause: {likely_cause(graded)}."]
    lines += [f"  {r.exercise}: {r.status} {r.detail}".rstrip() for r in graded.results
              if r.status != PASSED]
    if not graded.results or graded.status != "graded":
        lines.append(f"  status: {graded.status}")
    return "\n".join(lines)


def passes_self_check(graded: Graded) -> bool:
    return bool(graded.results) and all(r.status == PASSED and r.points == r.max_points
                                        for r in graded.results)


# --- the run: every submission, in parallel; the gradebook and the feedback -----------------


def submission_paths(folder: Path) -> list[Path]:
    """Every ``*.ipynb`` under ``folder`` (not Jupyter's checkpoint copies), sorted."""
    return sorted(p for p in folder.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts
                  and p.is_file())


def fingerprint(folder: Path) -> dict[str, str]:
    """SHA-256 of every file under ``folder``: compared before and after grading."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def write_smoke_data(root: Path) -> Path:
    """Write the synthetic datasets the test suite uses (conftest.py), once per grading run."""
    from helpers.data import write_synthetic_datasets
    write_synthetic_datasets(root)
    return root


def notebooks_submitted(paths: list[Path], course: dict) -> list[str]:
    """The course notebooks among ``paths`` (those the self-check must cover)."""
    found = set()
    for path in paths:
        try:
            if 0 < path.stat().st_size <= Limits.submission_bytes:
                found.add(identify(nbformat.reads(path.read_text(errors="replace"), as_version=4),
                                   course))
        except Exception:
            continue
    return [name for name in course if name in found]


def grade_paths(paths: list[tuple[Path, str]], course: dict, instructor_dir: Path, jobs: int,
                limits: Limits, sandbox: sandboxes.Sandbox, log=print, self_check: bool = True,
                kernel_env: dict | None = None, notebooks: list[str] | None = None
                ) -> list[Graded]:
    """Grade ``(path, name)`` pairs in ``jobs`` worker processes, after the self-check.

    First the instructor's solutions of ``notebooks`` (default: those submitted) go through the
    same path and must get full marks (:class:`SelfCheckFailed` otherwise, before any submission's
    result is returned).
    """
    run_dir = Path(tempfile.mkdtemp(prefix="grade-run-"))
    try:
        data_root = (write_smoke_data(run_dir / "data") if needs_datasets(instructor_dir, course)
                     else None)
        modules = {name: imported_modules(nbformat.read(Path(instructor_dir) / f"{name}.ipynb",
                                                        as_version=4))
                   for name in course}
        checks = []
        if self_check:
            for name in (notebooks_submitted([p for p, _ in paths], course)
                         if notebooks is None else notebooks):
                path = run_dir / "self-check" / f"{name}.ipynb"
                path.parent.mkdir(exist_ok=True)
                nbformat.write(solutions_notebook(instructor_dir, name), path)
                checks.append((path, f"(the instructor's solutions of {name})"))
        graded = [None] * len(paths)
        if jobs == 1:
            # one at a time: in this process (no worker with its own copy of PyTorch: on a small
            # machine such as Gradescope's, that is a third of the memory)
            for path, name in checks:
                result = grade_submission(path, name, course, data_root, limits, modules,
                                          sandbox, kernel_env)
                if not passes_self_check(result):
                    raise SelfCheckFailed(self_check_message(result))
                log(f"self-check: {result.file}: {_format_points(result.total)}/"
                    f"{_format_points(result.max_points)} ({result.seconds:.0f} s)", flush=True)
            for done, (path, name) in enumerate(paths, 1):
                g = graded[done - 1] = grade_submission(path, name, course, data_root, limits,
                                                        modules, sandbox, kernel_env)
                _log_row(log, done, len(paths), g)
            return graded
        # Worker processes, not threads: each runs its own nbclient event loop; started by "spawn",
        # so they do not inherit the grader's state. The self-check goes first in the queue, and its
        # results are looked at before any submission's.
        with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
            def submit(path, name):
                return pool.submit(grade_submission, path, name, course, data_root, limits,
                                   modules, sandbox, kernel_env)
            own = [submit(path, name) for path, name in checks]
            futures = {submit(path, name): i for i, (path, name) in enumerate(paths)}
            for future in own:
                result = future.result()
                if not passes_self_check(result):
                    for other in futures:
                        other.cancel()
                    raise SelfCheckFailed(self_check_message(result))
                log(f"self-check: {result.file}: {_format_points(result.total)}/"
                    f"{_format_points(result.max_points)} ({result.seconds:.0f} s)", flush=True)
            for done, future in enumerate(as_completed(futures), 1):
                g = graded[futures[future]] = future.result()
                _log_row(log, done, len(paths), g)
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)
    return graded


def _log_row(log, done: int, count: int, g: Graded) -> None:
    score = f"{_format_points(g.total)}/{_format_points(g.max_points)}" if g.results else "-"
    log(f"[{done}/{count}] {g.file}: {score} ({g.status}, {g.seconds:.0f} s)", flush=True)


def confinement(kind: str, hidden: list[Path], limits: Limits, log=print) -> sandboxes.Sandbox:
    return sandboxes.Sandbox(sandboxes.choose(kind, log), hidden,
                             memory_bytes=limits.memory_bytes, processes=limits.processes,
                             file_bytes=limits.file_bytes,
                             cpu_seconds=int(limits.total_timeout * max(1, limits.threads) + 60))


def grade_folder(submissions: Path, out: Path, instructor_dir: Path = INSTRUCTOR_DIR,
                 jobs: int | None = None, limits: Limits | None = None, log=print,
                 sandbox: str = "auto", roster: Path | None = None, self_check: bool = True,
                 kernel_env: dict | None = None) -> list[Graded]:
    """Grade every submission in ``submissions``.

    Write the gradebook, the feedback and the written answers to grade by hand into ``out``, and
    with a ``roster`` (CSV) the LMS import files (helpers.coursework.lms).

    ``sandbox``: "auto" (bubblewrap where it works, else unconfined with a loud warning), "bwrap"
    (an error without it) or "none". ``kernel_env``: more environment variables for every kernel.
    Raises :class:`SelfCheckFailed` (nothing written) when the instructor's solutions lose
    points.
    """
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
    graded = grade_paths([(p, str(p.relative_to(submissions))) for p in paths], course,
                         instructor_dir, jobs, limits, confinement(sandbox, hidden, limits, log),
                         log, self_check, kernel_env)
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
    parser = argparse.ArgumentParser(prog="python -m helpers.coursework grade", description=__doc__,
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
    except SelfCheckFailed as error:
        print(f"error: the grader failed its self-check: {error}", file=sys.stderr)
        return 3
    except (ValueError, RuntimeError) as error:
        # output inside the submissions, or a submission wrote to them
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"graded {len(graded)} submissions in {time.monotonic() - started:.0f} s: "
          f"{out / 'grades.csv'}, {out / 'feedback'}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
