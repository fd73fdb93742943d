"""Judging (otter-grader's "check" step).

Each exercise's self-check and hidden check run here, in the grader's own process, where no code of
the submission runs. The instructor's check cell is executed in a namespace whose imports are the
grader's own modules and whose other names are the student's objects, reached through
:mod:`helpers.coursework.channel` (plain data only). The verdicts are what
:func:`helpers.checks.core.report` records in this process, never text the student's kernel printed.
Also here: the one definition of a result (:class:`Result`, the statuses) and of the detail a
student reads.
"""

from __future__ import annotations

import builtins
import contextlib
import io
import os
from dataclasses import dataclass, field
from pathlib import Path

from helpers.checks import core
from helpers.coursework.channel import ChannelError, KernelGone
from helpers.coursework.course import Exercise

PASSED, NOT_YET, NOT_ATTEMPTED, ERROR, TIMEOUT, MISSING = (
    "PASSED", "NOT YET", "NOT ATTEMPTED", "ERROR", "TIMEOUT", "MISSING")
#: every result an exercise can get, and what it means
STATUSES = {
    PASSED: "the self-check and the hidden check (if the exercise has one) passed",
    NOT_YET: "a check failed; the hint says why (full points need the hidden check as well)",
    NOT_ATTEMPTED: "the `# YOUR CODE HERE` stub still raises NotImplementedError",
    ERROR: "the student's cell raised (the last line of the traceback), or the kernel crashed",
    TIMEOUT: "a cell ran past the per-cell limit, or the notebook past its total time",
    MISSING: "the exercise's cell is not in the submission (deleted)",
}


@dataclass
class Result:
    """One exercise's result in one submission."""
    exercise: str
    status: str
    points: float
    max_points: float
    detail: str = ""
    #: the verdict lines of the self-check and of the hidden check (for Gradescope's tests)
    lines: list[str] = field(default_factory=list)
    hidden_lines: list[str] = field(default_factory=list)
    seconds: float = 0.0
    #: the exercise's kind ("design", "debugging"...; "" for a plain function exercise)
    kind: str = ""


@dataclass
class Part:
    """What one check cell gave, run in the grader's process."""
    verdicts: list[tuple[bool, str, str]] = field(default_factory=list)
    error: tuple[str, str] | None = None      # (exception type, message)
    state: str = "ran"                         # "ran", "timeout", "crashed"
    output: str = ""

    @property
    def lines(self) -> list[str]:
        return [core.verdict_line(*v) for v in self.verdicts]

    @property
    def failed(self) -> list[str]:
        return [core.verdict_line(*v) for v in self.verdicts if not v[0]]


class StudentNamespace(dict):
    """Globals for an instructor's check cell.

    What the cell binds and imports is the grader's; any other name is looked up in the student's
    kernel, anew on each use (a :class:`Remote`, a rebuilt model or plain data).
    """

    def __init__(self, channel):
        super().__init__()
        self.channel = channel

    def __missing__(self, name):
        if hasattr(builtins, name) or name.startswith("__"):
            raise KeyError(name)
        return self.channel.lookup(name)


def run_check(source: str, imports: str, channel) -> Part:
    """Run one check cell here; the student's code only through ``channel``."""
    from IPython.core.inputtransformer2 import TransformerManager

    part = Part()
    namespace = StudentNamespace(channel)
    recorded: list = []
    output = io.StringIO()

    def guard(test, seconds):
        outer = channel.budget
        channel.budget = seconds if outer is None else min(seconds, outer)
        try:
            return test()
        finally:
            channel.budget = outer

    saved = core.RECORDER, core.GUARD
    core.RECORDER, core.GUARD = recorded, guard
    core._FAILED_TRIES.clear()   # a fresh kernel's first try, as when the student ran it
    core._LAST_CODE_HINT.update(what="", hint="")
    try:
        with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
            exec(compile(imports, "<instructor imports>", "exec"), namespace)
            code = compile(TransformerManager().transform_cell(source), "<check>", "exec")
            exec(code, namespace)
    except KernelGone:
        part.state = "crashed"
    except core._TimeUp:
        part.state = "timeout"
    except ChannelError as error:
        part.error = ("ChannelError", str(error))
    except Exception as error:
        part.error = (type(error).__name__, (str(error).strip().splitlines() or [""])[0][:300])
    finally:
        core.RECORDER, core.GUARD = saved
        channel.budget = None
    part.verdicts, part.output = recorded, output.getvalue()[-20_000:]
    return part


#: The course's package: a graded function or class must be the student's code, not this one's.
COURSE_PACKAGE = "helpers"
_COURSE_DIR = str(Path(core.__file__).resolve().parents[1])   # .../helpers
_RESOLVED: dict[tuple[str, str], str] = {}


def _in_course(module: str = "", file: str = "") -> bool:
    return (module == COURSE_PACKAGE or module.startswith(COURSE_PACKAGE + ".")
            or bool(file) and (file.startswith(_COURSE_DIR + os.sep)
                               or f"{os.sep}{COURSE_PACKAGE}{os.sep}" in file))


def _qualified(imports: str, expression: str) -> str:
    """``module.qualname`` of the object an instructor's expression names (``polar_features``)."""
    key = (imports, expression)
    if key not in _RESOLVED:
        namespace: dict = {}
        try:
            exec(compile(imports, "<instructor imports>", "exec"), namespace)
            target = eval(compile(expression, "<course version>", "eval"), namespace)
        except Exception:
            return ""   # (not kept: tried again for the next submission)
        _RESOLVED[key] = f"{target.__module__}.{target.__qualname__}"
    return _RESOLVED[key]


def course_copy(exercise: Exercise, channel) -> Part | None:
    """Refuse the course's own code under a name the exercise grades: a failed verdict, or None.

    The course's code rather than the student's: defined in the course package (``to_polar =
    polar_features``, a class inheriting from the course's version), or a function that calls the
    course's own version of the exercise (``def to_polar(p): return polar_features(p)``). None when
    the names are the student's own (or not there: the check then says so). Asked of the kernel
    through the channel (:func:`helpers.coursework.channel.origin_of`).
    """
    versions = {q for q in (_qualified(exercise.course_imports, e)
                            for e in exercise.course_versions) if q}
    for name in sorted(exercise.defines):
        try:
            origin = channel.origin(name)
        except (NameError, ChannelError):
            continue
        modules = [m for m in origin["modules"] if _in_course(module=m)]
        files = [f for f in origin["files"] if _in_course(file=f)]
        called = [u for u in origin["uses"] if u in versions]
        if modules or files:
            where = modules[0] if modules else files[0]
            why = (f"it is the course's own code (from {where}), not code written in your "
                   "notebook: the exercise asks you to write it yourself")
        elif called:
            why = (f"it calls the course's own version ({called[0]}) instead of computing the "
                   "result itself: write the computation in your notebook")
        else:
            continue
        return Part(verdicts=[(False, f"`{name}` is your own code", why)])
    return None


def error_line(error) -> str:
    """The last line of a traceback: ``ExceptionName: message`` (shortened)."""
    if isinstance(error, tuple):
        name, value = error
    else:
        name, value = error.get("ename", "Error"), error.get("evalue", "")
    line = f"{name}: {value}".strip().rstrip(":")
    return line if len(line) <= 300 else line[:297] + "..."


def judge(exercise: Exercise, roles: dict | None, states: dict, errors: dict,
          check: Part | None, hidden: Part | None, stopped: str, truncated: bool = False
          ) -> Result:
    """One exercise's result.

    Its solution cell's state and error (from running it), and the verdicts of its checks (run
    here).
    """
    def result(status, points=0.0, detail=""):
        return Result(exercise.id, status, points, exercise.points, detail,
                      check.lines if check else [], hidden.lines if hidden else [],
                      kind=exercise.kind)

    if roles is None:
        return result(MISSING, detail="the exercise's cell is not in the notebook (deleted?); "
                                      "copy it back from the student copy")
    index = roles["solution"]
    state, error = states.get(index, "not run"), errors.get(index)
    if state == "not run":
        return result(ERROR if "crashed" in stopped else TIMEOUT, detail=f"not graded: {stopped}")
    if state == "crashed":
        return result(ERROR, detail="the kernel crashed while running this exercise's solution")
    if state == "timeout":
        return result(TIMEOUT, detail="the code ran too long and was stopped "
                                      "(a loop that never ends?)")
    if error is not None and error.get("ename") == "NotImplementedError":
        return result(NOT_ATTEMPTED, detail="the `raise NotImplementedError` stub is still there")
    if error is not None:
        return result(ERROR, detail=f"your cell raised {error_line(error)}")
    if check is None or check.state == "crashed":
        return result(ERROR, detail="the kernel crashed while running this exercise's check")
    if check.state == "timeout":
        return result(TIMEOUT, detail="the self-check ran too long and was stopped "
                                      "(a loop that never ends?)")
    if check.error and check.error[0] == "NotImplementedError":
        return result(NOT_ATTEMPTED, detail="the `raise NotImplementedError` stub is still there")
    if check.failed:
        return result(NOT_YET, detail="; ".join(check.failed))
    if not check.verdicts:
        return result(ERROR, detail=f"the self-check raised {error_line(check.error)}"
                      if check.error else "the self-check gave no verdict")
    note = "your cell printed more than the grader keeps; its output was cut" if truncated else ""
    if hidden is None:
        return result(PASSED, exercise.points, note)
    visible_points = exercise.points - exercise.hidden_points
    if hidden.state == "ran" and hidden.verdicts and not hidden.failed and not hidden.error:
        return result(PASSED, exercise.points, note)
    why = ("; ".join(hidden.failed) or (error_line(hidden.error) if hidden.error else "")
           or ("the kernel crashed" if hidden.state == "crashed" else "")
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
