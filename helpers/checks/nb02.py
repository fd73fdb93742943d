"""Notebook 02 (8x8 digits, MLP against CNN): Reshape/Flatten, the NLL, early stopping, the CNN."""

import copy
import math
from collections.abc import Callable

import torch
from torch import nn

from helpers.checks.core import (TIME_LIMIT, Verdict, all_of, check_loss_decreases,
                                 check_output_shape, check_parameter_budget,
                                 check_parameter_count, returned, run)


def check_reshape_flatten(reshape_class: type[nn.Module],
                          flatten_class: type[nn.Module]) -> Verdict:
    """Check that ``Reshape`` and ``Flatten`` undo each other for any batch size.

    ``Reshape(*shape)`` turns (N, D) into (N, *shape) and ``Flatten()`` turns (N, ...) back into
    (N, D), for any batch size N, keeping the pixels in row-by-row order.
    """
    def test():
        for batch in (1, 5):
            vectors = torch.arange(batch * 64, dtype=torch.float32).reshape(batch, 64)
            images = returned(reshape_class(1, 8, 8)(vectors), call="Reshape(1, 8, 8)")
            if tuple(images.shape) != (batch, 1, 8, 8):
                return False, f"Reshape(1, 8, 8) maps {(batch, 64)} to {tuple(images.shape)}"
            if not torch.equal(images[:, 0, 0, :], vectors[:, :8]):
                return False, "the first image row should be the first 8 pixels of the vector"
            flat = returned(flatten_class()(images), call="Flatten()")
            if tuple(flat.shape) != (batch, 64) or not torch.equal(flat, vectors):
                return False, (f"Flatten() maps {(batch, 1, 8, 8)} to {tuple(flat.shape)}, not "
                               "back to the vectors")
        if (tuple(returned(flatten_class()(torch.randn(3, 16, 2, 2)), call="Flatten()").shape)
                != (3, 64)):
            return False, "Flatten() should map (3, 16, 2, 2) to (3, 64)"
        return True, "(N, 64) -> (N, 1, 8, 8) -> (N, 64) for N = 1 and 5"
    return run("Reshape and Flatten", "both must keep the batch dimension (the first one) as it is "
               "and change only the others", test,
               code_hint="`Tensor.reshape` takes the new sizes: the first must be the batch size "
               "of the input you were given (read it from `x.shape`, never a fixed number), and "
               "one size may be -1, 'whatever fits' (PyTorch docs: torch.reshape; section 2 of the "
               "notebook)")


def check_nll(nll: Callable) -> Verdict:
    """``nll(log_probs, targets)`` is the mean negative log-probability of the true classes."""
    log_probs = torch.log(torch.tensor([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8], [0.25, 0.5, 0.25]]))
    targets = torch.tensor([0, 2, 0])
    expected = -(math.log(0.7) + math.log(0.8) + math.log(0.25)) / 3

    def test():
        value = nll(log_probs, targets)
        if not isinstance(value, torch.Tensor) or value.ndim != 0:
            return False, f"it returned {value!r}, not a 0-dim tensor (one number for the batch)"
        if not math.isclose(value.item(), expected, abs_tol=1e-5):
            return False, f"got {value.item():.4f} on a known batch, expected {expected:.4f}"
        generator = torch.Generator().manual_seed(0)
        scores = torch.log_softmax(torch.randn(50, 10, generator=generator), dim=1)
        labels = torch.randint(0, 10, (50,), generator=generator)
        reference = nn.functional.nll_loss(scores, labels).item()
        if not math.isclose(returned(nll(scores, labels), shape=()).item(), reference,
                            abs_tol=1e-5):
            return False, f"on 50 random samples it differs from nn.NLLLoss ({reference:.4f})"
        return True, f"{expected:.4f} on a known batch, equal to nn.NLLLoss on random ones"
    return run("nll", "for each sample take the log-probability of its true class only, then minus "
               "the mean over the samples", test,
               code_hint="indexing a 2-D tensor with two integer tensors `rows` and `columns` of "
               "the same length picks the entry (rows[i], columns[i]) for each i (PyTorch and "
               "NumPy call it advanced indexing; `torch.arange` makes row numbers); section 3 of "
               "the notebook says which column each row needs and what sign the loss has")


def check_early_stopping(early_stopping_class: type, patience: int = 3) -> Verdict:
    """Check the early-stopping rule of section 4 on a known sequence of validation losses.

    ``EarlyStopping(patience).step(val_loss, model)`` keeps the best weights (a copy, not a
    reference), returns True once ``patience`` epochs in a row brought no lower loss, and
    ``restore(model)`` puts the best weights back.
    """
    # best at epoch 4; epochs 5, 6, 7 are no better
    losses = [1.0, 0.8, 0.9, 0.6, 0.7, 0.65, 0.6, 0.9, 0.5]
    best_epoch, stop_epoch = 4, 4 + patience

    def test():
        model = nn.Linear(1, 1)
        stopper = early_stopping_class(patience)
        stopped_at = None
        for epoch, loss in enumerate(losses, start=1):
            with torch.no_grad():  # "training": weights that say which epoch they come from
                model.weight.fill_(epoch)
                model.bias.fill_(-epoch)
            if stopper.step(loss, model):
                stopped_at = epoch
                break
        if stopped_at != stop_epoch:
            return False, (f"with patience {patience} and validation losses {losses}, training "
                           f"should stop after epoch {stop_epoch}; it stopped after {stopped_at}")
        stopper.restore(model)
        restored = model.weight.item()
        if restored != best_epoch:
            return False, (f"restore() gave the weights of epoch {restored:g}, not those of the "
                           f"best epoch {best_epoch}: did the later epochs change what you "
                           "stored?")
        return True, f"stops after epoch {stop_epoch}, restores epoch {best_epoch}"
    return run("EarlyStopping", "a loss counts as better only when it is strictly lower than the "
               "best so far. After you store the best weights, what happens to what you stored "
               "when the next training step changes the model?", test,
               code_hint="on a strictly lower loss: remember the loss and `self.epoch`, store a "
               "copy of the state dict that later optimiser steps cannot change (Python's `copy` "
               "module; PyTorch tutorial 'What is a state_dict?') and put "
               "`self.epochs_without_improvement` back to zero; otherwise count one more epoch "
               "without improvement. Report whether that count has reached `self.patience` "
               "(the rule is in section 4 of the notebook)")


def _digit_blobs(n=40):
    """n (64,) vectors in [0, 1] of 4 classes, each class a fixed random 8x8 pattern plus noise."""
    generator = torch.Generator().manual_seed(0)
    patterns = torch.rand(4, 64, generator=generator)
    labels = torch.arange(n) % 4
    return (patterns[labels] + 0.1 * torch.randn(n, 64, generator=generator)).clamp(0, 1), labels


def check_digits_cnn(network: nn.Module, expected_parameters: int, formula: str) -> Verdict:
    """Check that the CNN maps (N, 64) to (N, 10), has the stated parameters and can learn."""
    inputs, targets = _digit_blobs()
    return all_of(
        lambda: check_output_shape(network, (5, 64), (5, 10), name="the CNN",
                                   hint="a convolution reads images (N, 1, 8, 8) and nn.Linear "
                                        "reads vectors (N, features): section 2's modules convert "
                                        "between the two, and section 7 lists the layers in "
                                        "order; print the shape after each layer to see where it "
                                        "goes wrong"),
        lambda: check_parameter_count(network, expected_parameters, formula, name="the CNN"),
        lambda: check_loss_decreases(network, nn.CrossEntropyLoss(), inputs, targets,
                                     name="the CNN"),
    )


#: The open design exercise: a model of at most this many
#: parameters, trained by the student's own loop ...
DESIGN_PARAMETER_BUDGET = 5_000
#: ... must reach this error on the validation digits (self-check) and this one on the test digits
#: (the hidden check at grading).
DESIGN_VAL_ERROR, DESIGN_TEST_ERROR = 0.06, 0.10


def check_digits_design(build_model: Callable, train_model: Callable,
                        split: str = "val") -> Verdict:
    """Check the design exercise: a model within the parameter budget, trained to the target error.

    ``build_model()`` -> an nn.Module mapping (N, 64) pixels to (N, 10) logits with at most
    :data:`DESIGN_PARAMETER_BUDGET` parameters; ``train_model(model, images, labels)`` trains it on
    the 1000 training digits ((1000, 64) float32 in [0, 1], (1000,) int64) and returns it. Its error
    on the held-out digits of ``split`` must be at most the target for that split (the self-check
    uses the validation digits).
    """
    from helpers.data.digits import load_digits_split

    target = DESIGN_VAL_ERROR if split == "val" else DESIGN_TEST_ERROR
    images, labels = (torch.as_tensor(a) for a in load_digits_split("train"))
    held_images, held_labels = (torch.as_tensor(a) for a in load_digits_split(split))

    def within_budget():
        return check_parameter_budget(build_model, DESIGN_PARAMETER_BUDGET, "fewer or "
                                      "narrower layers; a convolution shares its weights across "
                                      "positions, a dense layer does not")

    def accurate():
        def test():
            torch.manual_seed(0)
            model = returned(train_model(build_model(), images.clone(), labels.clone()), nn.Module,
                             call="train_model(...)")
            model.eval()
            with torch.no_grad():
                predicted = returned(model(held_images), shape=(len(held_images), 10),
                                     call="the trained model")
            error = (predicted.argmax(dim=1) != held_labels).float().mean().item()
            return error <= target, f"{error:.1%} error on the {len(held_images)} {split} digits"
        where = "validation" if split == "val" else "held-out test"
        return run(f"your recipe reaches at most {target:.0%} {where} error", "measure your "
                   "trained model's error on the training digits too: high there as well means "
                   "underfitting (train longer, another learning rate, a wider layer); low there "
                   "but high on the validation digits means overfitting (augmentation, weight "
                   "decay, fewer epochs: sections 4-5). Training must finish within "
                   f"{12 * TIME_LIMIT:.0f} s", test, seconds=12 * TIME_LIMIT,
                   code_hint="each epoch, a new random order of the training images "
                   "(torch.randperm), then per mini-batch the four steps of notebook 01's training "
                   "loop: clear the gradients, compute the loss of the outputs against the labels, "
                   "backpropagate, take an optimiser step",
                   graded_further=split == "val")
    return all_of(within_budget, accurate)


# --- the course's versions: the experiments after an exercise use them while the student's own
# version does not pass its check yet (helpers.checks.yours_or_course)


def course_version(name: str) -> Callable | type:
    """Return the course's own version of an exercise's class or function, for ``yours_or_course``.

    The experiment after an exercise uses it while the student's version does not pass its check.
    """
    return {"EarlyStopping": CourseEarlyStopping, "make_cnn": course_digits_cnn}[name]


class CourseEarlyStopping:
    """Notebook 02's early stopping, used while the student's version does not pass its check.

    It remembers the weights of the epoch with the lowest validation loss; ``step`` returns True
    after ``patience`` epochs in a row without a lower one.
    """

    def __init__(self, patience):
        self.patience, self.best_loss, self.best_epoch = patience, math.inf, 0
        self.best_state, self.epochs_without_improvement, self.epoch = None, 0, 0

    def step(self, val_loss, model):
        self.epoch += 1
        if val_loss < self.best_loss:
            self.best_loss, self.best_epoch = val_loss, self.epoch
            self.best_state = copy.deepcopy(model.state_dict())
            self.epochs_without_improvement = 0
        else:
            self.epochs_without_improvement += 1
        return self.epochs_without_improvement >= self.patience

    def restore(self, model):
        model.load_state_dict(self.best_state)


def course_digits_cnn() -> nn.Module:
    """Return notebook 02's CNN, (N, 64) pixels -> (N, 10) scores, with PyTorch's own layers."""
    return nn.Sequential(
        nn.Unflatten(1, (1, 8, 8)),
        nn.Conv2d(1, 32, kernel_size=3, padding=1), nn.ReLU(),
        nn.Conv2d(32, 64, kernel_size=3, padding=1), nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(64, 128, kernel_size=3, padding=1), nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Dropout(0.3),
        nn.Linear(128 * 2 * 2, 10),
    )
