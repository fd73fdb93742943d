"""Self-checks for the exercises: each tests a student's object and prints a clear verdict with a hint.

Every check prints one line starting with ``PASSED`` or ``NOT YET`` and returns a :class:`Verdict`
(true or false). It does
not stop the notebook on a wrong answer -- except for an unfinished exercise: if the student's code
still raises ``NotImplementedError`` the check re-raises it, so "Run all" stops at the first exercise
that is left to do.

Notebook-specific checks (``check_points_dataset``, ``check_mlp``...) are thin wrappers around the
generic ones (``check_output_shape``, ``check_parameter_count``...), which later notebooks reuse.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence

import torch
from torch import nn


class Verdict:
    """What a check returns: true when it passed, false when not.

    It shows nothing when it is a cell's last value: the check has already printed its line. (A plain
    ``True`` would add an ``Out[n]: True``; ending the line with ``;`` hides that in Jupyter but not
    under nbval, which runs cells without storing history.)
    """

    def __init__(self, passed: bool):
        self.passed = bool(passed)

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        return f"Verdict(passed={self.passed})"

    def _ipython_display_(self) -> None:
        pass


def report(passed: bool, what: str, hint: str = "") -> Verdict:
    """Print the verdict of one check: ``PASSED: what`` or ``NOT YET: what -- Hint: hint``."""
    print(f"PASSED: {what}" if passed else f"NOT YET: {what}" + (f"\n  Hint: {hint}" if hint else ""))
    return Verdict(passed)


def _run(what: str, hint: str, test: Callable[[], tuple[bool, str]]) -> Verdict:
    """Run ``test`` -> (passed, detail); turn exceptions from the student's code into a verdict."""
    try:
        with torch.random.fork_rng(devices=[]):  # a check must not change the notebook's random numbers
            passed, detail = test()
    except NotImplementedError:
        report(False, what, "this exercise is not done yet: replace the `raise NotImplementedError` line.")
        raise
    except Exception as error:  # the student's code crashed: show the error, not a traceback
        return report(False, what, f"{type(error).__name__}: {error}. {hint}")
    return report(passed, what + (f" ({detail})" if detail else ""), hint if not passed else "")


# --- generic checks ------------------------------------------------------------------------------------


def check_output_shape(model: nn.Module, input_shape: Sequence[int], expected: Sequence[int], name="the model",
                       hint="") -> Verdict:
    """``model(torch.zeros(input_shape))`` has shape ``expected``."""
    def test():
        model.eval()
        with torch.no_grad():
            shape = tuple(model(torch.zeros(*input_shape)).shape)
        return shape == tuple(expected), "" if shape == tuple(expected) else f"got {shape}"
    return _run(f"{name} maps {tuple(input_shape)} to {tuple(expected)}", hint or
                "print the shape after each layer to find where it goes wrong", test)


def check_parameter_count(model: nn.Module, expected: int, formula: str = "", name="the model") -> Verdict:
    """The number of trainable parameters of ``model`` equals ``expected`` (e.g. from the layer formula)."""
    def test():
        count = sum(p.numel() for p in model.parameters() if p.requires_grad)
        return count == expected, "" if count == expected else f"it has {count}"
    return _run(f"{name} has {expected} parameters" + (f" = {formula}" if formula else ""),
                "dense layer: in·out weights + out biases; conv layer: k²·C_in·C_out + C_out", test)


def check_function_on_examples(function: Callable, examples: Sequence[tuple], name: str, hint: str = "",
                               atol: float = 1e-5) -> Verdict:
    """``function(input)`` is close to ``expected`` for every ``(input, expected)`` pair."""
    def test():
        for inputs, expected in examples:
            result = function(inputs)
            if tuple(result.shape) != tuple(expected.shape) or not torch.allclose(result.float(), expected.float(),
                                                                                 atol=atol):
                return False, f"for input {inputs.tolist()} got {result.tolist()}, expected {expected.tolist()}"
        return True, f"on {sum(len(inputs) for inputs, _ in examples)} known inputs"
    return _run(f"{name} gives the right values", hint, test)


def check_nonlinear(model: nn.Module, in_features: int, name="the model") -> Verdict:
    """``model`` is not an affine map: f(a) + f(b) != f(a + b) + f(0) for random a, b."""
    def test():
        generator = torch.Generator().manual_seed(0)
        a, b = torch.randn(64, in_features, generator=generator), torch.randn(64, in_features, generator=generator)
        model.eval()
        with torch.no_grad():
            gap = (model(a) + model(b) - model(a + b) - model(torch.zeros_like(a))).abs().max().item()
        return gap > 1e-4, ""
    return _run(f"{name} is non-linear", "without an activation between them, stacked linear layers collapse "
                "into one linear layer: add nn.ReLU() between the nn.Linear layers", test)


def check_loss_decreases(model: nn.Module, loss_fn, inputs: torch.Tensor, targets: torch.Tensor, steps: int = 30,
                         lr: float = 0.01, factor: float = 0.5, name="the model") -> Verdict:
    """A few Adam steps on one small, easy batch bring the loss below ``factor`` × its first value.

    A model that can fit anything overfits one small batch quickly; one that cannot (its output
    squashed by an extra sigmoid/softmax, gradients that do not reach a layer) stays far above.

    Works on a copy: the student's model is left untouched.
    """
    def test():
        trial = copy.deepcopy(model)
        torch.manual_seed(0)
        optimizer = torch.optim.Adam(trial.parameters(), lr=lr)
        trial.train()
        losses = []
        for _ in range(steps):
            optimizer.zero_grad()
            loss = loss_fn(trial(inputs), targets)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        return losses[-1] < factor * losses[0], f"loss {losses[0]:.3f} -> {losses[-1]:.3f} in {steps} steps"
    return _run(f"{name} learns on a small batch", "check that the output feeds the loss directly (no extra "
                "softmax/sigmoid) and that gradients reach every layer", test)


# --- notebook 01 ----------------------------------------------------------------------------------------


def _two_blobs(n=64):
    generator = torch.Generator().manual_seed(0)
    labels = (torch.arange(n) % 2).float()[:, None]
    points = torch.randn(n, 2, generator=generator) * 0.5 + (labels * 2 - 1) * 1.5
    return points, labels


def check_points_dataset(dataset, expected_len: int) -> Verdict:
    """Notebook 01: the Dataset has ``expected_len`` items, each a (2,) float point and a (1,) float 0/1 label."""
    def test():
        if len(dataset) != expected_len:
            return False, f"len(dataset) is {len(dataset)}"
        for i in (0, expected_len - 1):
            point, label = dataset[i]
            if tuple(point.shape) != (2,) or tuple(label.shape) != (1,):
                return False, f"item {i}: point {tuple(point.shape)}, label {tuple(label.shape)}"
            if point.dtype != torch.float32 or label.dtype != torch.float32 or label.item() not in (0.0, 1.0):
                return False, f"item {i}: dtypes {point.dtype}, {label.dtype}, label {label.item()}"
        return True, f"{expected_len} items of shapes (2,) and (1,)"
    return _run("the Dataset returns (point, label) pairs", "__len__ returns the number of points; "
                "__getitem__(i) returns self.samples[i] and the label as a tensor of shape (1,) (slice i:i+1)", test)


def check_train_one_epoch(train_one_epoch: Callable) -> Verdict:
    """Notebook 01: ``train_one_epoch(model, loader, optimizer, loss_fn)`` updates the weights and lowers the loss."""
    def test():
        points, labels = _two_blobs()
        loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(points, labels), batch_size=16)
        torch.manual_seed(0)
        model = nn.Linear(2, 1)
        before = [p.detach().clone() for p in model.parameters()]
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        losses = [train_one_epoch(model, loader, optimizer, nn.BCEWithLogitsLoss()) for _ in range(5)]
        if all(torch.equal(b, p) for b, p in zip(before, model.parameters())):
            return False, "the weights did not change"
        if not all(isinstance(loss, float) and math.isfinite(loss) for loss in losses):
            return False, f"it returned {losses[0]!r}, not a float loss"
        return losses[-1] < losses[0], f"mean loss {losses[0]:.3f} -> {losses[-1]:.3f} over 5 epochs"
    return _run("train_one_epoch trains", "per batch: optimizer.zero_grad(), loss = loss_fn(model(points), labels), "
                "loss.backward(), optimizer.step()", test)


def check_mlp(model: nn.Module) -> Verdict:
    """Notebook 01: the 2-16-16-1 ReLU MLP."""
    points, labels = _two_blobs()
    results = [
        check_output_shape(model, (5, 2), (5, 1), name="the MLP"),
        check_parameter_count(model, (2 * 16 + 16) + (16 * 16 + 16) + (16 * 1 + 1),
                              "(2·16 + 16) + (16·16 + 16) + (16·1 + 1)", name="the MLP"),
        check_nonlinear(model, 2, name="the MLP"),
        check_loss_decreases(model, nn.BCEWithLogitsLoss(), points, labels, name="the MLP"),
    ]
    return Verdict(all(results))


def check_polar(to_polar: Callable) -> Verdict:
    """Notebook 01: (x, y) -> (r, φ) on points whose answer is known, in all four quadrants."""
    points = torch.tensor([[1.0, 0.0], [0.0, 2.0], [-3.0, 0.0], [0.0, -1.0], [-1.0, -1.0]])
    expected = torch.tensor([[1.0, 0.0], [2.0, math.pi / 2], [3.0, math.pi], [1.0, -math.pi / 2],
                             [math.sqrt(2), -3 * math.pi / 4]])
    return check_function_on_examples(to_polar, [(points, expected)], "to_polar",
                                      "r = sqrt(x² + y²) and φ = torch.atan2(y, x): atan(y / x) loses the quadrant")
