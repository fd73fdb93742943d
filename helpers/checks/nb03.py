"""Notebook 03 (MNIST, MLPs and CNNs): the MLP builder,
convolution output sizes, parameter formulas."""

from collections.abc import Callable

import torch
from torch import nn

from helpers.checks.core import (Verdict, all_of, check_loss_decreases, check_nonlinear,
                                 check_output_shape, check_parameter_count, returned, run)
from helpers.models import count_parameters


def check_mnist_mlp(make_mlp: Callable) -> Verdict:
    """``make_mlp(layer_sizes, batch_norm)`` builds
    Flatten -> [Linear -> (BN) -> ReLU]... -> Linear."""
    def build(layer_sizes, batch_norm=False):
        def make():
            # fixed initial weights (the same printed losses
            # in every run); run() keeps the stream as it was
            torch.manual_seed(0)
            return make_mlp(layer_sizes, batch_norm=batch_norm)
        return make

    def logits_can_be_negative():
        model = returned(build([784, 32, 10])(), nn.Module, call="make_mlp([784, 32, 10])").eval()
        with torch.no_grad():
            outputs = model(torch.randn(64, 1, 28, 28, generator=torch.Generator().manual_seed(0)))
        return bool((outputs < 0).any()), "" if (outputs < 0).any() else "all outputs are >= 0"

    small, name = build([784, 32, 10]), "make_mlp([784, 32, 10])"
    inputs = torch.randn(32, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    return all_of(
        lambda: check_output_shape(small, (5, 1, 28, 28), (5, 10), name=name,
                                   hint="flatten the (N, 1, 28, 28) images to (N, 784) first "
                                        "(nn.Flatten())"),
        lambda: check_parameter_count(small, 784 * 32 + 32 + 32 * 10 + 10,
                                      "(784·32 + 32) + (32·10 + 10)", name=name),
        lambda: check_parameter_count(build([784, 512, 512, 10], batch_norm=True),
                                      (784 * 512 + 512) + 2 * 512 + (512 * 512 + 512) + 2 * 512
                                      + (512 * 10 + 10),
                                      "(784·512 + 512) + 2·512 + (512·512 + 512) + 2·512 "
                                      "+ (512·10 + 10)",
                                      name="make_mlp([784, 512, 512, 10], batch_norm=True)"),
        lambda: check_nonlinear(small, 784, name=name),
        lambda: run("the last layer gives logits", "no activation after the last nn.Linear: logits "
                    "can be negative, and CrossEntropyLoss applies the softmax itself",
                    logits_can_be_negative),
        lambda: check_loss_decreases(small, nn.CrossEntropyLoss(), inputs, torch.arange(32) % 10,
                                     name=name),
    )


def check_conv_output_size(conv_output_size: Callable) -> Verdict:
    """``conv_output_size(size, kernel_size, stride, padding)`` = floor((size + 2p - k) / s) + 1."""
    cases = [((28, 8, 2, 0), 11), ((28, 3, 1, 1), 28), ((28, 5, 1, 0), 24), ((28, 3, 2, 0), 13),
             ((14, 2, 2, 0), 7), ((7, 3, 2, 1), 4), ((28, 5, 2, 2), 14), ((5, 5, 1, 0), 1)]

    def test():
        for (size, kernel, stride, padding), expected in cases:
            got = conv_output_size(size, kernel, stride, padding)
            if not isinstance(got, int) or got != expected:
                return False, (f"conv_output_size({size}, {kernel}, {stride}, {padding}) returned "
                               f"{got!r}, expected {expected}")
        return True, f"on {len(cases)} known layers"
    return run("conv_output_size gives the right sizes", "count the positions the kernel fits in "
               "the padded input, stepping by the stride; the result is a whole number", test,
               code_hint="section 4 gives the formula; draw a 5-pixel row with a 3-pixel kernel "
               "and count the positions it fits at stride 1 and at stride 2, then compare with "
               "what your function returns (Python's // rounds down)")


def check_layer_parameters(expected_parameters: Callable) -> Verdict:
    """``expected_parameters(layer)`` gives the formula
    count of Linear, Conv2d and BatchNorm layers."""
    def test():
        # (the layers are made in here: run() keeps their
        # random initialisation out of the notebook's stream)
        layers = [nn.Linear(784, 32), nn.Linear(512, 10, bias=False), nn.Conv2d(1, 10, 8, stride=2),
                  nn.Conv2d(16, 32, 3, padding=1, bias=False), nn.Conv2d(3, 8, (3, 5)),
                  nn.BatchNorm1d(512), nn.BatchNorm2d(16)]
        for layer in layers:
            got = expected_parameters(layer)
            if got != count_parameters(layer):
                return (False,
                        f"for {layer} it returned {got!r}; the layer has {count_parameters(layer)}")
        return True, f"on {len(layers)} layers, with and without biases"
    return run("expected_parameters matches the layers", "Linear: in·out + out; "
               "Conv2d: k_h·k_w·C_in·C_out + C_out; BatchNorm: 2·C "
               "(a scale and a shift per channel); no bias term when layer.bias is None", test)


def check_confusion_matrix(confusion_matrix: Callable, per_class_recall: Callable,
                           most_confused: Callable, strict: bool = False) -> Verdict:
    """``confusion_matrix(predictions, labels, num_classes)`` -> (C, C) int64 counts, **rows the
    true labels**, columns the predictions; ``per_class_recall(matrix)`` -> (C,) float, the share of
    each true class predicted right; ``most_confused(matrix)`` -> (true class, predicted class) of
    the largest off-diagonal count. ``strict`` (grading): also on 2,000 random predictions of 10
    classes, against scikit-learn."""
    labels = torch.tensor([0, 0, 1, 2, 2, 2])
    predictions = torch.tensor([0, 1, 1, 2, 0, 0])
    expected = torch.tensor([[1, 1, 0], [0, 1, 0], [2, 0, 1]])

    def matrix_test():
        matrix = returned(confusion_matrix(predictions, labels, 3), shape=(3, 3),
                          call="confusion_matrix")
        if torch.equal(matrix.long(), expected.T):
            return (False,
                    "rows must be the true labels and columns the predictions: yours is transposed")
        if not torch.equal(matrix.long(), expected):
            return False, (f"for labels {labels.tolist()} and predictions {predictions.tolist()} "
                           f"got {matrix.tolist()}, expected {expected.tolist()}")
        if strict:
            from sklearn.metrics import confusion_matrix as reference
            generator = torch.Generator().manual_seed(1)
            many_labels = torch.randint(0, 10, (2000,), generator=generator)
            many_predictions = torch.where(torch.rand(2000, generator=generator) < 0.7, many_labels,
                                           torch.randint(0, 10, (2000,), generator=generator))
            mine = returned(confusion_matrix(many_predictions, many_labels, 10), shape=(10, 10),
                            call="confusion_matrix")
            if not torch.equal(mine.long(),
                               torch.as_tensor(reference(many_labels, many_predictions))):
                return (False,
                        "on 2,000 random predictions of 10 classes it differs from scikit-learn's")
        return True, "rows are the true labels"

    def recall_test():
        recall = returned(per_class_recall(expected), shape=(3,), call="per_class_recall")
        right = torch.tensor([0.5, 1.0, 1 / 3])
        return torch.allclose(recall.double(), right.double(), atol=1e-6), \
            (f"for {expected.tolist()} got {[round(x, 3) for x in recall.tolist()]}, expected "
             "[0.5, 1.0, 0.333]")

    def confused_test():
        pair = returned(most_confused(expected), (tuple, list), length=2, call="most_confused")
        found = tuple(int(x) for x in pair)
        return (found == (2, 0),
                f"got {found} for {expected.tolist()}, expected (2, 0): true 2, predicted 0")

    return all_of(
        lambda: run("confusion_matrix counts (true, predicted) pairs", "one count per "
                    "(true label, prediction) pair; the true label picks the row", matrix_test,
                    code_hint="start from a C x C tensor of integer zeros and add 1 at (true, "
                    "predicted) for every image; with tensors, read about index_put_ with "
                    "accumulate in PyTorch's documentation (a plain loop is fine too)"),
        lambda: run("per_class_recall", "recall of a class: its right predictions over all images "
                    "of that class (its row)", recall_test,
                    code_hint="section 7 explains rows and columns: a row's diagonal entry "
                    "over the row's total; mind integer division"),
        lambda: run("most_confused", "the largest count off the diagonal, as (row, column)",
                    confused_test, code_hint="the diagonal holds the right answers, so leave "
                    "it out before looking for the largest count; argmax of a flattened C x C "
                    "tensor gives one index, which row and column are it?"),
    )
