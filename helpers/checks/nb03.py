"""Notebook 03's self-checks (MNIST, MLPs and CNNs).

The MLP builder, convolution output sizes, parameter formulas, the confusion matrix and the design
exercise (a small model under a parameter budget, graded on the test file).
"""

from collections.abc import Callable

import torch
from torch import nn

from helpers.checks.core import (Verdict, all_of, check_loss_decreases, check_nonlinear,
                                 check_output_shape, check_parameter_budget, check_parameter_count,
                                 returned, run, stratified_subset, trained_error)
from helpers.models import count_parameters


def check_mnist_mlp(make_mlp: Callable) -> Verdict:
    """``make_mlp(layer_sizes, batch_norm)`` builds Flatten, [Linear, (BN), ReLU]..., Linear."""
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
                                   hint="the output shape is wrong for (N, 1, 28, 28) images: "
                                        "a Linear layer works on the last dimension, so each "
                                        "image must first become one row of 784 pixels "
                                        "(sections 2 and 3)"),
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
    """``expected_parameters(layer)`` gives the formula count of Linear, Conv2d and BN layers."""
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
    return run("expected_parameters matches the layers", "compare your count for that layer "
               "with section 5's formula for its kind (weights from the layer's shape, plus one "
               "bias per output unless layer.bias is None; BatchNorm learns a scale and a shift "
               "per channel)", test)


def check_confusion_matrix(confusion_matrix: Callable, per_class_recall: Callable,
                           most_confused: Callable, strict: bool = False) -> Verdict:
    """The three functions of the confusion-matrix exercise give the right table, recall and pair.

    ``confusion_matrix(predictions, labels, num_classes)`` -> (C, C) int64 counts, **rows the
    true labels**, columns the predictions; ``per_class_recall(matrix)`` -> (C,) float, the share of
    each true class predicted right; ``most_confused(matrix)`` -> (true class, predicted class) of
    the largest off-diagonal count. ``strict`` (grading): also on 2,000 random predictions of 10
    classes, against scikit-learn.
    """
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
                    code_hint="every image adds exactly 1 to one cell, the cell in the row of "
                    "its true label and the column of its prediction, so the counts of the whole "
                    "matrix add up to the number of images (section 7 explains rows and columns). "
                    "A loop over the images is a correct start; a tensor way must still count an "
                    "image whose (true, predicted) pair has been seen before: look in PyTorch's "
                    "tensor documentation for writing at given indices with accumulation"),
        lambda: run("per_class_recall", "recall of a class: its right predictions over all images "
                    "of that class (its row)", recall_test,
                    code_hint="recall looks at the images of one true class: a row of the "
                    "matrix, since rows are the true labels (section 7). Its right predictions "
                    "are the one count of that row on the diagonal; divide by how many images the "
                    "row holds, not by a column's total (that share is the precision of the "
                    "predicted class) nor by all images"),
        lambda: run("most_confused", "the largest count off the diagonal, as (row, column)",
                    confused_test, code_hint="the diagonal holds the right answers, so leave "
                    "it out before looking for the largest count; argmax of a flattened C x C "
                    "tensor gives one index: which row and column does it stand for?"),
    )


#: The open design exercise: a model of at most this many parameters (fewer than the small CNN of
#: section 4 and than the linear classifier), trained by the student's own loop on
#: DESIGN_TRAIN_IMAGES images of the training split (a stratified subset) ...
DESIGN_PARAMETER_BUDGET = 5_000
DESIGN_TRAIN_IMAGES = 5_000
#: ... must make at most this share of errors on the validation images (self-check) and on the
#: test file, which the exercise never gives the student (the hidden check at grading). Both
#: targets were set from trial runs of a model within the budget, with a margin.
DESIGN_VAL_ERROR, DESIGN_TEST_ERROR = 0.04, 0.05
#: The student's training may take this long before the check stops it (a loop that never ends).
DESIGN_SECONDS = 300


def check_mnist_design(build_model: Callable, train_model: Callable,
                       split: str = "val") -> Verdict:
    """The design exercise: a model within the parameter budget that the student's loop trains well.

    ``build_model()`` -> an nn.Module mapping (N, 1, 28, 28) normalised MNIST images to (N, 10)
    logits with at most :data:`DESIGN_PARAMETER_BUDGET` parameters; ``train_model(model, images,
    labels)`` trains it on a stratified subset of the training split and returns it. Its error on
    the validation images must be at most the target. The feedback gives the parameter count, the
    error and the training time.
    """
    from helpers.data import load_mnist_splits

    target = DESIGN_VAL_ERROR if split == "val" else DESIGN_TEST_ERROR
    splits = load_mnist_splits()
    images, labels = stratified_subset(splits.train_images, splits.train_labels,
                                       DESIGN_TRAIN_IMAGES)
    held_images, held_labels = ((splits.test_images, splits.test_labels) if split == "test"
                                else (splits.val_images, splits.val_labels))

    def within_budget():
        return check_parameter_budget(
            build_model, DESIGN_PARAMETER_BUDGET, "count the parameters layer by layer with the "
            "formulas of section 5: a dense layer on the 784 pixels or on a whole feature map "
            "holds one weight per input value and unit, while a convolution's count does not "
            "depend on the image size: find the layer that holds most of your parameters and "
            "make its input smaller (section 5's tables show where a model's parameters sit)")

    def accurate():
        def test():
            error, seconds, model = trained_error(build_model, train_model, images, labels,
                                                  held_images, held_labels)
            count = count_parameters(model)
            return error <= target, (f"{error:.2%} error on {len(held_images):,} {where} images, "
                                     f"{count:,} parameters (budget {DESIGN_PARAMETER_BUDGET:,}), "
                                     f"after {seconds:.0f} s of training on {len(labels):,} "
                                     "images")
        where = "validation" if split == "val" else "held-out test"
        return run(f"your recipe makes at most {target:.0%} errors on the {where} images",
                   "compare your model's training and validation error: both high means it "
                   "underfits (more epochs, a higher peak learning rate, batch norm: sections 1 "
                   "and 4), a large gap means it fits its few training images too closely; also "
                   "check that train_model calls model.train(), reshuffles the images every epoch "
                   "and steps the optimizer after every batch", test, seconds=DESIGN_SECONDS,
                   graded_further=split == "val")
    return all_of(within_budget, accurate)
