"""Notebook 02's self-checks pass on right answers, fail on wrong ones and re-raise on stubs."""

import copy
import math

import pytest
import torch
from torch import nn

from helpers import checks


def stub(*args, **kwargs):
    raise NotImplementedError


def verdicts(capsys):
    return [line.split(":")[0] for line in capsys.readouterr().out.splitlines()
            if not line.startswith("  ")]


# --- Reshape and Flatten --------------------------------------------------------------------------


class Reshape(nn.Module):
    def __init__(self, *shape):
        super().__init__()
        self.shape = shape

    def forward(self, x):
        return x.reshape(x.shape[0], *self.shape)


class Flatten(nn.Module):
    def forward(self, x):
        return x.reshape(x.shape[0], -1)


class ReshapeForBatchOf5(Reshape):  # hard-codes the batch size
    def forward(self, x):
        return x.reshape(5, *self.shape)


class FlattenEverything(nn.Module):  # flattens the batch dimension too
    def forward(self, x):
        return x.reshape(-1)


class ReshapeColumnMajor(Reshape):  # right shape, pixels in the wrong place
    def forward(self, x):
        return x.reshape(x.shape[0], *self.shape).transpose(-1, -2)


class StubReshape(Reshape):
    def forward(self, x):
        raise NotImplementedError


def test_check_reshape_flatten(capsys):
    assert checks.check_reshape_flatten(Reshape, Flatten)
    # PyTorch's own
    assert checks.check_reshape_flatten(lambda *shape: nn.Unflatten(1, shape), nn.Flatten)
    assert not checks.check_reshape_flatten(ReshapeForBatchOf5, Flatten)
    assert not checks.check_reshape_flatten(Reshape, FlattenEverything)
    assert not checks.check_reshape_flatten(ReshapeColumnMajor, Flatten)
    with pytest.raises(NotImplementedError):
        checks.check_reshape_flatten(StubReshape, Flatten)
    assert verdicts(capsys) == ["PASSED", "PASSED", "NOT YET", "NOT YET", "NOT YET", "NOT YET"]


# --- the negative log-likelihood ------------------------------------------------------------------


def right_nll(log_probs, targets):
    return -log_probs[torch.arange(len(targets)), targets].mean()


def test_check_nll(capsys):
    assert checks.check_nll(right_nll)
    assert checks.check_nll(nn.NLLLoss())
    # forgot the minus
    assert not checks.check_nll(lambda lp, t: lp[torch.arange(len(t)), t].mean())
    assert not checks.check_nll(lambda lp, t: -lp[torch.arange(len(t)), t].sum())  # sum, not mean
    # a column per target, not one entry per row
    assert not checks.check_nll(lambda lp, t: -lp[:, t].mean())
    # probabilities
    assert not checks.check_nll(lambda lp, t: -lp.exp()[torch.arange(len(t)), t].mean())
    assert not checks.check_nll(lambda lp, t: -lp.mean(dim=1))  # one value per sample
    with pytest.raises(NotImplementedError):
        checks.check_nll(stub)
    assert verdicts(capsys) == ["PASSED", "PASSED"] + ["NOT YET"] * 6


# --- early stopping -------------------------------------------------------------------------------


class EarlyStopping:
    def __init__(self, patience):
        self.patience, self.best_loss, self.best_epoch, self.best_state = (patience, math.inf, 0,
                                                                           None)
        self.epochs_without_improvement, self.epoch = 0, 0

    def keep(self, model):
        return copy.deepcopy(model.state_dict())

    def improved(self, val_loss):
        return val_loss < self.best_loss

    def step(self, val_loss, model):
        self.epoch += 1
        if self.improved(val_loss):
            self.best_loss, self.best_epoch, self.best_state = (val_loss, self.epoch,
                                                                self.keep(model))
            self.epochs_without_improvement = 0
        else:
            self.epochs_without_improvement += 1
        return self.epochs_without_improvement >= self.patience

    def restore(self, model):
        model.load_state_dict(self.best_state)


class KeepsReferences(EarlyStopping):  # state_dict() without a copy: "restores" the last weights
    def keep(self, model):
        return model.state_dict()


class OffByOne(EarlyStopping):  # waits one epoch too many
    def step(self, val_loss, model):
        super().step(val_loss, model)
        return self.epochs_without_improvement > self.patience


class EqualCountsAsBetter(EarlyStopping):  # a tie resets the counter: 0.6 at epoch 7 "improves"
    def improved(self, val_loss):
        return val_loss <= self.best_loss


class NeverStops(EarlyStopping):
    def step(self, val_loss, model):
        super().step(val_loss, model)
        return False


class StubStopping(EarlyStopping):
    def step(self, val_loss, model):
        raise NotImplementedError


def test_check_early_stopping(capsys):
    assert checks.check_early_stopping(EarlyStopping)
    for wrong in (KeepsReferences, OffByOne, EqualCountsAsBetter, NeverStops):
        assert not checks.check_early_stopping(wrong), wrong.__name__
    with pytest.raises(NotImplementedError):
        checks.check_early_stopping(StubStopping)
    assert verdicts(capsys) == ["PASSED"] + ["NOT YET"] * 5


# --- the CNN --------------------------------------------------------------------------------------

FORMULA = "(9·1·8 + 8) + (32·10 + 10)"
EXPECTED = (9 * 1 * 8 + 8) + (32 * 10 + 10)


def small_cnn(pool=True):
    layers = [Reshape(1, 8, 8), nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(4),
              Flatten()]
    if pool:
        return nn.Sequential(*layers, nn.Linear(32, 10))
    return nn.Sequential(*layers[:3], Flatten(), nn.Linear(512, 10))


def test_check_digits_cnn(capsys):
    assert checks.check_digits_cnn(small_cnn(), EXPECTED, FORMULA)
    # wrong size: parameters differ
    assert not checks.check_digits_cnn(small_cnn(pool=False), EXPECTED, FORMULA)
    # Conv2d on (N, 64) vectors: crashes -> a verdict
    no_reshape = nn.Sequential(*list(small_cnn())[1:])
    assert not checks.check_digits_cnn(no_reshape, EXPECTED, FORMULA)
    # extra softmax before CrossEntropyLoss: learns badly
    squashed = nn.Sequential(small_cnn(), nn.Softmax(dim=1))
    assert not checks.check_digits_cnn(squashed, EXPECTED, FORMULA)
    with pytest.raises(NotImplementedError):
        checks.check_digits_cnn(nn.Sequential(StubReshape(1, 8, 8)), EXPECTED, FORMULA)
    capsys.readouterr()


# --- the course's versions, used by the notebook when the student's do not pass yet ---------------

NOTEBOOK_CNN_PARAMETERS = ((9 * 1 * 32 + 32) + (9 * 32 * 64 + 64) + (9 * 64 * 128 + 128)
                           + (512 * 10 + 10))


def test_the_course_versions_pass_their_own_checks(capsys):
    from helpers.checks.nb02 import CourseEarlyStopping, course_digits_cnn
    assert checks.check_early_stopping(CourseEarlyStopping)
    assert checks.check_digits_cnn(course_digits_cnn(), NOTEBOOK_CNN_PARAMETERS, "the notebook's")
    capsys.readouterr()


def test_course_version_names_the_exercises_the_notebook_falls_back_on():
    """The notebook asks for the course's versions by exercise name, not by class name."""
    from helpers.checks.nb02 import CourseEarlyStopping, course_digits_cnn, course_version
    assert course_version("EarlyStopping") is CourseEarlyStopping
    assert course_version("make_cnn") is course_digits_cnn
    with pytest.raises(KeyError):
        course_version("nll")


def test_yours_or_course_falls_back_on_a_wrong_early_stopping(capsys):
    from helpers.checks.nb02 import CourseEarlyStopping
    used = checks.yours_or_course(OffByOne, CourseEarlyStopping,
                                  check=checks.check_early_stopping, name="EarlyStopping")
    assert used is CourseEarlyStopping
    assert "course's version" in capsys.readouterr().out


# --- hints teach before they tell ----------------------------------------------------------------


def code_hints_after_two_tries(check, wrong_answer, capsys):
    """The lines a student sees after two failed tries (the code hint comes with the second)."""
    for _ in range(2):
        check(wrong_answer)
    return capsys.readouterr().out


@pytest.mark.parametrize("check, wrong, solution_code", [
    (lambda f: checks.check_reshape_flatten(ReshapeForBatchOf5, Flatten), None,
     ["x.reshape(x.shape[0], *self.shape)", "x.reshape(x.shape[0], -1)"]),
    (checks.check_nll, lambda lp, t: lp[torch.arange(len(t)), t].mean(),
     ["-log_probs[torch.arange(len(targets)), targets].mean()", "[torch.arange(len("]),
    (checks.check_early_stopping, OffByOne,
     ["copy.deepcopy(model.state_dict())", "self.counter", "self.epochs_without_improvement = 0",
      "self.epochs_without_improvement += 1"]),
], ids=["reshape-flatten", "nll", "early-stopping"])
def test_hints_never_give_the_solution_code(check, wrong, solution_code, capsys):
    shown = code_hints_after_two_tries(check, wrong, capsys)
    assert "NOT YET" in shown
    for code in solution_code:
        assert code not in shown, f"the hint gives away {code!r}:\n{shown}"


def test_the_early_stopping_hint_names_the_skeleton_s_counter(capsys):
    shown = code_hints_after_two_tries(checks.check_early_stopping, OffByOne, capsys)
    assert "epochs_without_improvement" in shown and "counter =" not in shown


def test_the_first_early_stopping_failure_asks_before_it_tells(capsys):
    """The first try says what went wrong (the weights restored) and asks why; no answer yet."""
    checks.check_early_stopping(KeepsReferences)
    first = capsys.readouterr().out
    assert "NOT YET" in first and "did the later epochs change what you stored?" in first
    assert "deep copy" not in first and "references" not in first
    assert "cannot change later" not in first   # the rule's hint asks; it does not answer


def test_the_design_check_s_docstring_does_not_document_the_grading_split():
    assert "test" not in (checks.check_digits_design.__doc__ or "")
