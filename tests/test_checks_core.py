"""The checks' core: verdicts, generic checks, and the guard around the student's code.

The guard means no traceback and no hang.
"""

import signal
import threading
import time

import pytest
import torch
from torch import nn

from helpers import checks
from helpers.checks import core


def lines(capsys):
    return capsys.readouterr().out.splitlines()


def test_a_verdict_is_true_or_false_and_shows_nothing_as_a_cells_value():
    assert checks.report(True, "x") and not checks.report(False, "x")
    assert checks.Verdict(True)._ipython_display_() is None  # the printed line is the whole output


def test_check_parameter_count_and_output_shape(capsys):
    model = nn.Conv2d(1, 10, 8, stride=2)
    assert checks.check_parameter_count(model, 8 * 8 * 1 * 10 + 10)
    assert not checks.check_parameter_count(model, 8 * 8 * 10)
    assert checks.check_output_shape(model, (2, 1, 28, 28), (2, 10, 11, 11))
    assert not checks.check_output_shape(model, (2, 1, 28, 28), (2, 10, 10, 10))
    # a function making the model
    assert checks.check_output_shape(lambda: model, (2, 1, 28, 28), (2, 10, 11, 11))
    capsys.readouterr()


def loops_forever(*args, **kwargs):
    while True:
        pass


def swallows_everything(*args, **kwargs):
    # a student's `except Exception` must not hide the time limit
    while True:
        try:
            time.sleep(0.01)
        except Exception:
            pass


def raises(*args, **kwargs):
    raise ValueError("operands could not be broadcast together\nwith a second line of detail")


@pytest.mark.parametrize("student, problem", [
    (lambda p: None, "returned None, not a Tensor"),
    (lambda p: p.tolist(), "returned a list, not a Tensor"),
    (lambda p: p[:, :1], "returned shape (5, 1), expected (5, 2)"),
    (raises, "ValueError: operands could not be broadcast together."),
    (loops_forever, "did not finish within 0.5 s — look for a loop that never ends"),
    (swallows_everything, "did not finish within 0.5 s"),
])
def test_a_bad_student_function_gives_one_not_yet_line(student, problem, capsys, monkeypatch):
    monkeypatch.setattr(core, "TIME_LIMIT", 0.5)
    started = time.perf_counter()
    assert not checks.check_polar(student)
    assert time.perf_counter() - started < 5
    [line] = lines(capsys)
    assert line.startswith("NOT YET: to_polar") and problem in line and " — " in line


def test_the_time_limit_also_holds_outside_the_main_thread(capsys, monkeypatch):
    monkeypatch.setattr(core, "TIME_LIMIT", 0.5)
    verdicts, stop = [], threading.Event()

    def loops_until_the_test_ends(points):
        # (a real endless loop would keep a left-behind thread busy)
        stop.wait()
    thread = threading.Thread(
        target=lambda: verdicts.append(checks.check_polar(loops_until_the_test_ends)))
    thread.start()
    thread.join(10)
    stop.set()
    assert verdicts and not verdicts[0]
    assert "did not finish within 0.5 s" in capsys.readouterr().out


def test_the_timer_is_cleared_and_the_random_stream_kept(capsys):
    handler = signal.getsignal(signal.SIGALRM)
    torch.manual_seed(3)
    expected = torch.rand(2)
    torch.manual_seed(3)
    assert checks.check_polar(lambda p: torch.stack([p.norm(dim=1), torch.atan2(p[:, 1], p[:, 0])],
                                                    dim=1))
    assert torch.equal(torch.rand(2), expected)
    assert (signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
            and signal.getsignal(signal.SIGALRM) is handler)
    capsys.readouterr()


def test_a_multi_part_check_stops_at_code_that_crashes_or_hangs(capsys, monkeypatch):
    monkeypatch.setattr(core, "TIME_LIMIT", 0.5)
    assert not checks.check_mlp(None)
    assert lines(capsys) == ["NOT YET: the MLP maps (5, 2) to (5, 1) "
                             "(the MLP returned None, not a Module) — print the shape after each "
                             "layer to find where it goes wrong"]

    class Hangs(nn.Module):
        def forward(self, x):
            loops_forever()
    assert not checks.check_digits_cnn(Hangs(), 0, "")
    assert len(lines(capsys)) == 1
    # a wrong answer: every part
    assert not checks.check_mlp(nn.Sequential(nn.Linear(2, 16), nn.Linear(16, 1)))
    assert len(lines(capsys)) == 4


def test_an_unfinished_exercise_still_stops_the_notebook(capsys):
    def stub(*args):
        raise NotImplementedError
    with pytest.raises(NotImplementedError):
        checks.check_polar(stub)
    assert lines(capsys)[0].startswith("NOT YET: to_polar")


def test_hints_come_in_two_steps_words_first_then_code(capsys):
    """The first failure says what is wrong in words; the code-level hint comes later.

    It comes with a later failed try or on request (checks.hint()), so no student is handed the
    answer's code after one wrong try.
    """
    from helpers import checks

    def failing():
        return False, "got 3, expected 4"
    checks.run("two plus two (hint test)", "add, do not multiply", failing,
               code_hint="return a + b")
    first = capsys.readouterr().out
    assert ("got 3, expected 4" in first and "add, do not multiply" in first
            and "return a + b" not in first)
    checks.hint()
    assert "return a + b" in capsys.readouterr().out
    checks.run("two plus two (hint test)", "add, do not multiply", failing,
               code_hint="return a + b")
    assert "Hint: return a + b" in capsys.readouterr().out


def test_a_passed_check_says_when_grading_checks_more(capsys):
    from helpers import checks

    checks.run("it works (note test)", "", lambda: (True, ""), graded_further=True)
    assert capsys.readouterr().out.splitlines() == ["PASSED: it works (note test)",
                                                    f"  {checks.core.MORE_AT_GRADING}"]
    checks.run("it works (no note test)", "", lambda: (True, ""))
    assert capsys.readouterr().out.splitlines() == ["PASSED: it works (no note test)"]
