"""Notebook 01 (a 2D classifier): the Dataset, the training epoch, the MLP, polar features."""

import math
from collections.abc import Callable

import torch
from torch import nn

from helpers.checks.core import (MORE_AT_GRADING, Verdict, all_of, check_function_on_examples,
                                 check_loss_decreases, check_output_shape, returned, run)
from helpers.models import count_parameters


def _graded_further(verdict: Verdict) -> Verdict:
    """Every exercise of notebook 01 has a hidden check too: a PASSED self-check says so."""
    if verdict:
        print(f"  {MORE_AT_GRADING}")
    return verdict


def _two_blobs(n=64):
    generator = torch.Generator().manual_seed(0)
    labels = (torch.arange(n) % 2).float()[:, None]
    points = torch.randn(n, 2, generator=generator) * 0.5 + (labels * 2 - 1) * 1.5
    return points, labels


def check_points_dataset(dataset, expected_len: int) -> Verdict:
    """The Dataset has ``expected_len`` items, each a (2,) float point and a (1,) 0/1 label."""
    def test():
        if len(dataset) != expected_len:
            return False, f"len(dataset) is {len(dataset)}"
        for i in (0, expected_len - 1):
            point, label = returned(dataset[i], (tuple, list), call=f"dataset[{i}]", length=2)
            point, label = (returned(x, call=f"dataset[{i}]") for x in (point, label))
            if tuple(point.shape) != (2,) or tuple(label.shape) != (1,):
                return False, f"item {i}: point {tuple(point.shape)}, label {tuple(label.shape)}"
            if (point.dtype != torch.float32 or label.dtype != torch.float32
                    or label.item() not in (0.0, 1.0)):
                return False, f"item {i}: dtypes {point.dtype}, {label.dtype}, label {label.item()}"
        return True, f"{expected_len} items of shapes (2,) and (1,)"
    return run("the Dataset returns (point, label) pairs", "__len__ must count the points of the "
               "file; __getitem__(i) must return the i-th point and its label as a float tensor of "
               "shape (1,)", test,
               code_hint="section 1 ('A Dataset over the file') says what each method answers. "
               "For the label's shape, compare what indexing a tensor with one integer and with "
               "a slice of length one returns (print the shape of each)",
               graded_further=True)


def _one_step_per_batch(train_one_epoch: Callable, loader) -> bool:
    """Whether one epoch of ``train_one_epoch`` takes one step per batch.

    True when one epoch (plain SGD) leaves the weights that one step per batch, each on that
    batch's gradient alone, leaves.
    """
    results = []
    for own in (True, False):
        torch.manual_seed(1)
        model = nn.Linear(2, 1)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        if own:
            train_one_epoch(model, loader, optimizer, nn.BCEWithLogitsLoss())
        else:
            for points, labels in loader:
                optimizer.zero_grad()
                nn.BCEWithLogitsLoss()(model(points), labels).backward()
                optimizer.step()
        results.append([p.detach().clone() for p in model.parameters()])
    return all(torch.allclose(a, b, atol=1e-6) for a, b in zip(*results))


def check_train_one_epoch(train_one_epoch: Callable) -> Verdict:
    """``train_one_epoch(model, loader, optimizer, loss_fn)`` trains: weights change, loss falls."""
    def test():
        points, labels = _two_blobs()
        loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(points, labels),
                                             batch_size=16)
        torch.manual_seed(0)
        model = nn.Linear(2, 1)
        before = [p.detach().clone() for p in model.parameters()]
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        losses = [train_one_epoch(model, loader, optimizer, nn.BCEWithLogitsLoss())
                  for _ in range(5)]
        if all(torch.equal(b, p) for b, p in zip(before, model.parameters())):
            return False, "the weights did not change"
        if not all(isinstance(loss, float) and math.isfinite(loss) for loss in losses):
            return False, f"it returned {losses[0]!r}, not a float loss"
        if not _one_step_per_batch(train_one_epoch, loader):
            return False, ("after one epoch the weights differ from one step per batch on that "
                           "batch's own gradient")
        return (losses[-1] < losses[0],
                f"mean loss {losses[0]:.3f} -> {losses[-1]:.3f} over 5 epochs")
    return run("train_one_epoch trains", "each batch must take one step on its own gradient, and "
               "the function must return the epoch's mean loss: for each of the three calls in "
               "section 2 ('The training loop, written out'), ask what must have happened before "
               "it, and what it leaves behind for the next batch", test,
               code_hint="backward() adds each batch's gradients to those already stored, so a "
               "step taken without clearing them also follows the earlier batches' gradients: "
               "where in the loop must they be cleared, so that each step sees only its own "
               "batch? PyTorch's tutorial 'Optimizing Model Parameters' walks through the loop",
               graded_further=True)


def _mlp_parameter_count(model: nn.Module, expected: int, formula: str) -> Verdict:
    """The MLP has ``expected`` trainable parameters (the sizes of the exercise)."""
    def test():
        count = count_parameters(model)
        return count == expected, "" if count == expected else f"it has {count}"
    return run(f"the MLP has {expected} parameters = {formula}", "count layer by layer: a linear "
               "layer from n_in to n_out units has n_in·n_out weights and n_out biases; compare "
               "your layers' sizes with the ones the exercise asks for (print the model)", test)


def _mlp_nonlinear(model: nn.Module) -> Verdict:
    """The MLP is not an affine map: f(a) + f(b) != f(a + b) + f(0) for random a, b."""
    def test():
        generator = torch.Generator().manual_seed(0)
        a, b = (torch.randn(64, 2, generator=generator) for _ in range(2))
        model.eval()
        with torch.no_grad():
            outputs = [returned(model(x), call="the MLP") for x in (a, b, a + b, 0 * a)]
        gap = (outputs[0] + outputs[1] - outputs[2] - outputs[3]).abs().max().item()
        return gap > 1e-4, ""
    return run("the MLP is non-linear", "your network computes a linear function of its input: "
               "linear layers stacked directly on each other collapse into one linear layer, "
               "whose boundary is a straight line (section 3 says what must sit between them)",
               test, code_hint="torch.nn has the activation of section 3 as a layer of its own "
               "(see 'Non-linear Activations' in the torch.nn documentation); an nn.Sequential "
               "takes it like any other layer")


def check_mlp(model: nn.Module) -> Verdict:
    """The 2-16-16-1 ReLU MLP."""
    points, labels = _two_blobs()
    return _graded_further(all_of(
        lambda: check_output_shape(model, (5, 2), (5, 1), name="the MLP"),
        lambda: _mlp_parameter_count(model, (2 * 16 + 16) + (16 * 16 + 16) + (16 * 1 + 1),
                                     "(2·16 + 16) + (16·16 + 16) + (16·1 + 1)"),
        lambda: _mlp_nonlinear(model),
        lambda: check_loss_decreases(model, nn.BCEWithLogitsLoss(), points, labels, name="the MLP"),
    ))


def course_version(name: str) -> Callable:
    """Return the course's own version of an exercise's function, for ``yours_or_course``.

    The experiment after an exercise uses it while the student's version does not pass its check.
    """
    from helpers.data import polar_features
    return {"to_polar": polar_features}[name]


def check_polar(to_polar: Callable) -> Verdict:
    """(x, y) -> (r, φ) on points whose answer is known, in all four quadrants."""
    points = torch.tensor([[1.0, 0.0], [0.0, 2.0], [-3.0, 0.0], [0.0, -1.0], [-1.0, -1.0]])
    expected = torch.tensor([[1.0, 0.0], [2.0, math.pi / 2], [3.0, math.pi], [1.0, -math.pi / 2],
                             [math.sqrt(2), -3 * math.pi / 4]])
    return _graded_further(check_function_on_examples(
        to_polar, [(points, expected)], "to_polar", "r is the distance from the origin and φ the "
        "angle from the x-axis, in (-π, π]: check the points left of the y-axis",
        code_hint="y / x loses the signs of x and y, so the quadrant is lost: PyTorch has a "
                  "two-argument arctangent that takes y and x separately (search 'arctangent' in "
                  "the torch documentation) and check which of the two it takes first"))
