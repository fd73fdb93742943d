"""The student's own code runs the experiment after the exercise, or the course's version, visibly.

::

    to_polar_used = yours_or_course(to_polar, polar_features, check=checks.nb01.check_polar)

prints which one the experiment uses and why, and returns it.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable, Iterator

from helpers.checks import core


@contextlib.contextmanager
def _unrecorded() -> Iterator[None]:
    """A check run here counts as neither a verdict for grading nor a failed try for the hints."""
    recorder, tries = getattr(core, "RECORDER", None), dict(getattr(core, "_FAILED_TRIES", {}))
    core.RECORDER = None
    try:
        yield
    finally:
        core.RECORDER = recorder
        if hasattr(core, "_FAILED_TRIES"):
            core._FAILED_TRIES.clear()
            core._FAILED_TRIES.update(tries)


def yours_or_course(yours: Callable, course: Callable, check: Callable | None = None,
                    name: str | None = None) -> Callable:
    """Return ``yours`` if it passes ``check``, else ``course``, and say which in one line.

    The check runs silently: it printed its verdict in the exercise cell already. The line says
    which function the next cells use.

    Args:
        yours: the function (or class) the student wrote in the exercise.
        course: the course's version of it, e.g. from ``helpers.data``.
        check: the exercise's self-check, called as ``check(yours)``; truthy when it passed.
            Without one, ``yours`` is used unless it is still the stub (``NotImplementedError``).
        name: how to call it in the line (default: its ``__name__``).
    """
    name = name or getattr(yours, "__name__", "your function")
    try:
        with contextlib.redirect_stdout(io.StringIO()), _unrecorded():
            passed = bool(check(yours)) if check is not None else True
    except NotImplementedError:
        print(f"`{name}` is still the exercise's stub: the cells below use the course's version "
              "instead. Write it, run its check, then run these cells again to use yours.")
        return course
    if not passed:
        print(f"`{name}` does not pass its check yet: the cells below use the course's version "
              "instead. Fix it, then run these cells again to use yours.")
        return course
    print(f"The cells below use your `{name}`.")
    return yours
