"""Notebook 04's self-checks pass on right answers, fail on wrong ones, re-raise on stubs."""

import pytest
# imported before the checks run: their 10 s time limit must not count a slow first import
import sklearn.model_selection  # noqa: F401
import torch
from torch import nn

from helpers import checks
from helpers.data import RandomShift, channel_stats, stratified_split


def stub(*args, **kwargs):
    raise NotImplementedError


def verdicts(capsys):
    return [line.split(":")[0] for line in capsys.readouterr().out.splitlines()
            if not line.startswith("  ")]


# --- the validation split -------------------------------------------------------------------------


def right_split(labels, fraction, seed):  # what the notebook's solution does, written differently
    return stratified_split(labels, fraction, seed)


def leaky_split(labels, fraction, seed):
    # the reference solution's mistake: validation taken from the train set
    generator = torch.Generator().manual_seed(seed)
    n = len(labels)
    return torch.arange(n), torch.randperm(n, generator=generator)[: int(fraction * n)]


def unstratified_split(labels, fraction, seed):
    # disjoint, but random: small classes get the wrong share
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed))
    n_val = round(fraction * len(labels))
    return order[n_val:], order[:n_val]


def dropping_split(labels, fraction, seed):  # disjoint and stratified, but loses images
    train, val = stratified_split(labels, fraction, seed)
    return train[:-10], val


def test_check_validation_split(capsys):
    assert checks.check_validation_split(right_split)
    assert not checks.check_validation_split(leaky_split)
    assert not checks.check_validation_split(unstratified_split)
    assert not checks.check_validation_split(dropping_split)
    # crashes are verdicts
    assert not checks.check_validation_split(lambda labels, fraction, seed: None)
    with pytest.raises(NotImplementedError):
        checks.check_validation_split(stub)
    assert verdicts(capsys) == ["PASSED", "NOT YET", "NOT YET", "NOT YET", "NOT YET", "NOT YET"]


def test_check_validation_split_explains_the_leak(capsys):
    checks.check_validation_split(leaky_split)
    assert "in both parts" in capsys.readouterr().out


# --- per-channel statistics -----------------------------------------------------------------------


def test_check_channel_stats(capsys):
    assert checks.check_channel_stats(channel_stats)
    assert checks.check_channel_stats(lambda x: ((x / 255).mean(dim=(0, 2, 3)),
                                                 (x / 255).std(dim=(0, 2, 3))))
    # one number overall
    assert not checks.check_channel_stats(lambda x: ((x / 255).mean(), (x / 255).std()))
    # per pixel
    assert not checks.check_channel_stats(lambda x: ((x / 255).mean(0), (x / 255).std(0)))
    assert not checks.check_channel_stats(lambda x: (x.float().mean(dim=(0, 2, 3)),
                                                     x.float().std(dim=(0, 2, 3))))
    with pytest.raises(NotImplementedError):
        checks.check_channel_stats(stub)
    assert verdicts(capsys) == ["PASSED", "PASSED", "NOT YET", "NOT YET", "NOT YET", "NOT YET"]


# --- the shift augmentation -----------------------------------------------------------------------


def test_check_random_shift(capsys):
    assert checks.check_random_shift(lambda images, max_shift: RandomShift(max_shift)(images))
    assert not checks.check_random_shift(lambda images, max_shift: images.flip(-1))  # mirrored
    # wraps around
    assert not checks.check_random_shift(lambda images, s: torch.roll(images, (1, -1), dims=(2, 3)))

    def same_shift_for_all(images, s):
        padded = nn.functional.pad(images, (s, s, s, s))
        return padded[:, :, : images.shape[2], : images.shape[3]]

    assert not checks.check_random_shift(same_shift_for_all)
    # cropped, not padded back
    assert not checks.check_random_shift(lambda images, s: images[:, :, s:, s:])
    with pytest.raises(NotImplementedError):
        checks.check_random_shift(stub)
    assert verdicts(capsys) == ["PASSED", "NOT YET", "NOT YET", "NOT YET", "NOT YET", "NOT YET"]


def test_check_random_shift_names_a_flip(capsys):
    checks.check_random_shift(lambda images, max_shift: images.flip(-1))
    assert "mirrored" in capsys.readouterr().out


# --- the design exercise --------------------------------------------------------------------------


def small_model():
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.AdaptiveMaxPool2d(1),
                         nn.Flatten(), nn.Linear(8, 10))


def untrained(model, images, labels):
    return model


def test_check_svhn_design_counts_parameters_and_trains_on_the_training_split(capsys):
    """The design check stops an oversized model and scores one within the budget.

    Over the parameter budget: stopped before training, the count and the excess in the
    feedback. Within it, the score (error, images, seconds) is in the feedback; an untrained model
    misses the target; one that meets it passes and says grading checks more."""
    from helpers.checks import nb04

    def too_big():
        return nn.Sequential(nn.Flatten(), nn.Linear(3 * 32 * 32, 10))   # 30,730 parameters

    assert not checks.check_svhn_design(too_big, untrained)
    out = capsys.readouterr().out
    assert "30,730 parameters, 5,730 over" in out and "error" not in out.split("NOT YET")[-1][:40]
    seen = {}

    def recorded(model, images, labels):
        seen.update(shape=tuple(images.shape), labels=tuple(labels.shape))
        return model

    assert not checks.check_svhn_design(small_model, recorded)
    assert seen["shape"][1:] == (3, 32, 32) and seen["labels"] == seen["shape"][:1]
    assert seen["shape"][0] <= nb04.DESIGN_TRAIN_IMAGES
    out = capsys.readouterr().out
    assert "PASSED: the model has at most 25,000 parameters" in out and "validation images" in out


def test_check_svhn_design_passes_a_recipe_that_meets_its_target(capsys, monkeypatch):
    from helpers.checks import nb04

    monkeypatch.setattr(nb04, "DESIGN_VAL_ERROR", 1.0)   # any trained model meets it
    assert checks.check_svhn_design(small_model, untrained)
    assert verdicts(capsys) == ["PASSED", "PASSED"]
    with pytest.raises(NotImplementedError):
        checks.check_svhn_design(stub, untrained)
