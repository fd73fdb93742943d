"""What every self-check shares: the verdict, a guarded run of the student's code, generic checks.

The guarded run is :func:`run`: whatever the student's code does -- return ``None``, the wrong
type or shape, raise, loop forever -- gives a ``NOT YET`` line, never a traceback or a hang; only
``NotImplementedError`` is re-raised.
"""

import copy
import functools
import signal
import threading
from collections.abc import Callable, Sequence

import torch
from torch import nn

from helpers.models import count_parameters

#: Seconds the student's code may run in one check before it counts as a loop that never ends (six
#: times as long in :func:`check_loss_decreases`, which trains: on a busy 2-core machine that can
#: take over 10 s).
TIME_LIMIT = 10.0


class Verdict:
    """What a check returns: true when it passed, false when not.

    It shows nothing when it is a cell's last value: the check has already printed its line. (A
    plain ``True`` would add an ``Out[n]: True``; ending the line with ``;`` hides that in Jupyter
    but not under nbval, which runs cells without storing history.) ``crashed``: the student's code
    raised, hung or returned the wrong kind of thing, so a multi-part check stops there.
    """

    def __init__(self, passed: bool, crashed: bool = False):
        self.passed, self.crashed = bool(passed), crashed

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        return f"Verdict(passed={self.passed})"

    def _ipython_display_(self) -> None:
        pass


class NotYet(Exception):
    """Raised inside a check's test to fail it with a message, e.g. by :func:`returned`."""


class _TimeUp(BaseException):
    """A BaseException: a student's ``except Exception`` cannot swallow it."""


#: Failed tries per check (by what it checks) in this
#: kernel: the code-level hint comes with the second.
_FAILED_TRIES: dict[str, int] = {}
#: The code-level hint of the last check that failed, for :func:`hint`.
_LAST_CODE_HINT = {"what": "", "hint": ""}
MORE_AT_GRADING = "(when your notebook is graded, more checks run on your code)"


#: Where the verdicts go besides the screen: the grader sets a list here (in its own, trusted
#: process) and reads the verdicts from it, never from printed text.
RECORDER: list | None = None
#: The grader's guard for the student's code (``guard(test, seconds)``): set where the student's
#: code runs in another process that the grader stops itself, instead of a timer signal here.
GUARD: Callable | None = None


def verdict_line(passed: bool, what: str, hint: str = "") -> str:
    """Format a verdict as ``PASSED: what`` or ``NOT YET: what — hint``.

    The one format, on screen and in the gradebook.
    """
    return f"PASSED: {what}" if passed else f"NOT YET: {what}" + (f" — {hint}" if hint else "")


def report(passed: bool, what: str, hint: str = "", crashed: bool = False) -> Verdict:
    """Print the verdict of one check: ``PASSED: what`` or ``NOT YET: what — hint`` (one line)."""
    if RECORDER is not None:
        RECORDER.append((bool(passed), what, hint))
    print(verdict_line(passed, what, hint))
    return Verdict(passed, crashed and not passed)


def hint() -> None:
    """Print the code-level hint of the last check that failed.

    The first failure shows only words; this shows the code-level hint at once.
    """
    if _LAST_CODE_HINT["hint"]:
        print(f"Hint for '{_LAST_CODE_HINT['what']}': {_LAST_CODE_HINT['hint']}")
    else:
        print("No hint waiting: the last checks passed, or their first message says all there is.")


def _hint_for(what: str, words: str, code: str) -> str:
    """Return the hint to show: in words at the first failure, with the code-level hint later.

    Step 1 (first failure): what is wrong, in words. Step 2 (later failures): the code-level hint
    too.
    """
    if not code:
        return words
    tries = _FAILED_TRIES[what] = _FAILED_TRIES.get(what, 0) + 1
    _LAST_CODE_HINT.update(what=what, hint=code)
    if tries >= 2:
        return f"{words} Hint: {code}".strip()
    return (f"{words} (Try again; a more concrete hint comes with the next failed try, or now with "
            "checks.hint().)")


def returned(value, kind: type | tuple[type, ...] = torch.Tensor,
             shape: Sequence[int] | None = None, call: str = "it", length: int | None = None):
    """Return ``value`` if it is a ``kind`` of the expected shape or length; else fail the check.

    ``shape`` or ``length`` (items) are checked when given; the failure says why.
    """
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if not isinstance(value, kinds):
        got = "None" if value is None else f"a {type(value).__name__}"
        raise NotYet(f"{call} returned {got}, not a {' or '.join(k.__name__ for k in kinds)}")
    if shape is not None and tuple(value.shape) != tuple(shape):
        raise NotYet(f"{call} returned shape {tuple(value.shape)}, expected {tuple(shape)}")
    if length is not None and len(value) != length:
        raise NotYet(f"{call} returned {len(value)} items, expected {length}")
    return value


def pair(value, call: str = "it"):
    """Return ``value`` if it is a tuple or list of two items; else fail the check.

    For example the training and validation indices of a split.
    """
    return returned(value, (tuple, list), call=call, length=2)


def _within_time_limit(test: Callable, seconds: float):
    """Return ``test()``, stopped with :class:`_TimeUp` after ``seconds``.

    It is stopped by a timer signal on Unix's main thread (it interrupts the loop), otherwise run in
    a daemon thread that is left behind; or by the grader's :data:`GUARD`.
    """
    if GUARD is not None:
        return GUARD(test, seconds)
    if hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread():
        def time_up(*_):
            raise _TimeUp
        previous = signal.signal(signal.SIGALRM, time_up)
        signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            return test()
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
    outcome = {}

    def target():
        try:
            outcome["value"] = test()
        except BaseException as error:  # handed to the caller's thread
            outcome["error"] = error
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        raise _TimeUp
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


@functools.cache
def _warm_up() -> None:
    """Make PyTorch's first optimizer now, so its imports are not counted in the student's time.

    The first optimizer imports much of torch: seconds on a busy CPU.
    """
    torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)


def run(what: str, hint: str, test: Callable[[], tuple[bool, str]], seconds: float | None = None,
        code_hint: str = "", graded_further: bool = False) -> Verdict:
    """Run ``test`` -> (passed, detail) guarded and print its verdict.

    The notebook's random numbers are left as they were. An exception, a hang (``seconds``, default
    :data:`TIME_LIMIT`) or a :class:`NotYet`: one ``NOT YET``.

    ``hint`` says in words what to look at; ``code_hint`` (the code-level one) is shown only from
    the second failed try on, or by :func:`hint`. ``graded_further``: grading runs a stricter hidden
    check too, which a PASSED line then says."""
    seconds = TIME_LIMIT if seconds is None else seconds
    _warm_up()
    verdict = _run(what, hint, test, seconds, code_hint)
    if verdict.passed and graded_further:
        print(f"  {MORE_AT_GRADING}")
    return verdict


def _run(what, hint, test, seconds, code_hint) -> Verdict:

    def forked():
        with torch.random.fork_rng(devices=[]):
            # a check must not change the notebook's random numbers
            return test()
    try:
        passed, detail = _within_time_limit(forked, seconds)
    except NotImplementedError:
        report(False, what,
               "this exercise is not done yet: replace the `raise NotImplementedError` line.")
        raise
    except _TimeUp:
        return report(False, f"{what}: the code did not finish within {seconds:g} s",
                      "look for a loop that never ends", crashed=True)
    except NotYet as problem:
        return report(False, f"{what} ({problem})", _hint_for(what, hint, code_hint), crashed=True)
    except Exception as error:  # the student's code crashed: say what, in one line, not a traceback
        message = (str(error).strip().splitlines() or [""])[0][:200]
        return report(False, what,
                      f"{type(error).__name__}: {message}. {_hint_for(what, hint, code_hint)}",
                      crashed=True)
    if passed:
        return report(True, what + (f" ({detail})" if detail else ""))
    return report(False, what + (f" ({detail})" if detail else ""),
                  _hint_for(what, hint, code_hint))


def all_of(*checks: Callable[[], Verdict]) -> Verdict:
    """Run the parts of a check in order, each printing its line, until one crashes or hangs."""
    verdicts = []
    for check in checks:
        verdicts.append(check())
        if verdicts[-1].crashed:
            break
    return Verdict(all(verdicts))


def _model(model, name: str) -> nn.Module:
    return returned(model() if callable(model) and not isinstance(model, nn.Module) else model,
                    nn.Module, call=name)


# --- generic checks: the per-notebook ones are built from these -----------------------------------


def check_output_shape(model, input_shape: Sequence[int], expected: Sequence[int], name="the model",
                       hint="") -> Verdict:
    """Check that ``model(torch.zeros(input_shape))`` has shape ``expected``.

    ``model``: a module or a function making one.
    """
    def test():
        built = _model(model, name).eval()
        with torch.no_grad():
            shape = tuple(returned(built(torch.zeros(*input_shape)), call=name).shape)
        return shape == tuple(expected), "" if shape == tuple(expected) else f"got {shape}"
    return run(f"{name} maps {tuple(input_shape)} to {tuple(expected)}", hint or
               "print the shape after each layer to find where it goes wrong", test)


def check_parameter_count(model, expected: int, formula: str = "", name="the model") -> Verdict:
    """Check that ``model`` has ``expected`` trainable parameters (e.g. from the layer formula)."""
    def test():
        count = count_parameters(_model(model, name))
        return count == expected, "" if count == expected else f"it has {count}"
    return run(f"{name} has {expected} parameters" + (f" = {formula}" if formula else ""),
               "dense layer: in·out weights + out biases; conv layer: k²·C_in·C_out + C_out", test)


def check_parameter_budget(build_model: Callable[[], nn.Module], budget: int,
                           hint: str) -> Verdict:
    """Check that ``build_model()`` returns a fresh model with at most ``budget`` parameters.

    Trainable parameters: a design exercise's first part. Over the budget it stops the check: no
    use training it.
    """
    def test():
        torch.manual_seed(0)
        model = returned(build_model(), nn.Module, call="build_model()")
        count = count_parameters(model)
        if count > budget:
            raise NotYet(f"{count:,} parameters, {count - budget:,} over")
        return True, f"{count:,} parameters"
    return run(f"the model has at most {budget:,} parameters", hint, test)


def stratified_subset(images: torch.Tensor, labels: torch.Tensor, count: int):
    """Return at most ``count`` of (images (N, ...), labels (N,)), each class in its share.

    A design exercise's training images, or its self-check's validation images.
    """
    from helpers.data import stratified_split

    if len(labels) <= count:
        return images, labels
    kept = torch.from_numpy(stratified_split(labels.numpy(), count / len(labels), 0)[1])
    return images[kept], labels[kept]


def trained_error(build_model: Callable[[], nn.Module], train_model: Callable, images, labels,
                  held_images, held_labels) -> tuple[float, float, nn.Module]:
    """Train a fresh ``build_model()`` with the student's ``train_model`` and measure it.

    Returns (error rate on the held-out images (M, ...) with labels (M,), training seconds, the
    trained model); a design exercise's second part.
    """
    import time

    torch.manual_seed(0)
    started = time.perf_counter()
    model = returned(train_model(build_model(), images.clone(), labels.clone()), nn.Module,
                     call="train_model(...)")
    seconds = time.perf_counter() - started
    model.eval()
    with torch.no_grad():
        predicted = torch.cat([returned(model(held_images[i:i + 1000]),
                                        shape=(len(held_images[i:i + 1000]), 10),
                                        call="the trained model")
                               for i in range(0, len(held_images), 1000)])
    error = (predicted.argmax(dim=1) != held_labels).float().mean().item()
    return error, seconds, model


def check_function_on_examples(function: Callable, examples: Sequence[tuple], name: str,
                               hint: str = "", atol: float = 1e-5, code_hint: str = "") -> Verdict:
    """``function(input)`` is close to ``expected`` for every ``(input, expected)`` pair."""
    def test():
        for inputs, expected in examples:
            result = returned(function(inputs), shape=expected.shape, call=name)
            if not torch.allclose(result.float(), expected.float(), atol=atol):
                return False, (f"for input {inputs.tolist()} got {result.tolist()}, expected "
                               f"{expected.tolist()}")
        return True, f"on {sum(len(inputs) for inputs, _ in examples)} known inputs"
    return run(f"{name} gives the right values", hint, test, code_hint=code_hint)


def check_nonlinear(model, in_features: int, name="the model") -> Verdict:
    """``model`` is not an affine map: f(a) + f(b) != f(a + b) + f(0) for random a, b."""
    def test():
        built = _model(model, name).eval()
        generator = torch.Generator().manual_seed(0)
        a, b = (torch.randn(64, in_features, generator=generator),
                torch.randn(64, in_features, generator=generator))
        with torch.no_grad():
            gap = (built(a) + built(b) - built(a + b)
                   - built(torch.zeros_like(a))).abs().max().item()
        return gap > 1e-4, ""
    return run(f"{name} is non-linear", "without an activation between them, stacked linear layers "
               "collapse into one linear layer: add nn.ReLU() between the nn.Linear layers", test)


def check_loss_decreases(model, loss_fn, inputs: torch.Tensor, targets: torch.Tensor,
                         steps: int = 30, lr: float = 0.01, factor: float = 0.5,
                         name="the model") -> Verdict:
    """Check that a few Adam steps on one small batch bring the loss below ``factor`` × its first.

    The batch is an easy one; the steps are taken on a copy of the model.

    A model that can fit anything overfits one small batch quickly; one that cannot (its output
    squashed by an extra sigmoid/softmax, gradients that do not reach a layer) stays far above. The
    lowest of the last 5 losses counts: with dropout on, a network that has learned the batch still
    has a rare step whose loss jumps back up.
    """
    def test():
        trial = copy.deepcopy(_model(model, name)).train()
        torch.manual_seed(0)
        optimizer = torch.optim.Adam(trial.parameters(), lr=lr)
        losses = []
        for _ in range(steps):
            optimizer.zero_grad()
            loss = loss_fn(returned(trial(inputs), call=name), targets)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        final = min(losses[-5:])
        return final < factor * losses[0], f"loss {losses[0]:.3f} -> {final:.3f} in {steps} steps"
    return run(f"{name} learns on a small batch", "check that the output feeds the loss directly "
               "(no extra softmax/sigmoid) and that gradients reach every layer", test,
               seconds=6 * TIME_LIMIT)
