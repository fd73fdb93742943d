"""helpers.checks.own: the experiment after an exercise uses the student's code when it passes."""

from helpers.checks import core
from helpers.checks.own import yours_or_course


def course(x):
    return x * 2


def test_a_passing_function_is_used(capsys):
    def yours(x):
        return x + x
    assert yours_or_course(yours, course, check=lambda f: f(3) == 6) is yours
    assert capsys.readouterr().out == "The cells below use your `yours`.\n"


def test_a_stub_or_a_failing_function_gives_the_course_version_and_says_so(capsys):
    def stub(x):
        raise NotImplementedError
    assert yours_or_course(stub, course, check=lambda f: f(1)) is course
    assert "still the exercise's stub" in capsys.readouterr().out

    def wrong(x):
        return x
    assert yours_or_course(wrong, course, check=lambda f: f(3) == 6, name="double") is course
    assert capsys.readouterr().out.startswith("`double` does not pass its check yet")


def test_the_silent_check_is_neither_recorded_nor_counted(capsys):
    core.RECORDER = recorded = []
    try:
        def failing_check(function):
            return core.report(False, "x", "hint")
        yours_or_course(lambda x: x, course, check=failing_check)
    finally:
        core.RECORDER = None
    assert recorded == [] and "PASSED" not in capsys.readouterr().out
