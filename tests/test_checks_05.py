"""Notebook 05's self-checks pass on the solutions, fail
on typical wrong answers, and re-raise on stubs."""

import pytest
import torch
from torch import nn

from helpers import checks


def stub(*args, **kwargs):
    raise NotImplementedError


def verdicts(capsys):
    return [line.split(":")[0] for line in capsys.readouterr().out.splitlines()
            if not line.startswith("  ")]


def vgg_features(cfg, in_channels=1, batch_norm=False, padding=1, activation=nn.ReLU):
    layers = []
    for item in cfg:
        if item == "M":
            layers.append(nn.MaxPool2d(2))
        else:
            layers.append(nn.Conv2d(in_channels, item, kernel_size=3, padding=padding))
            if batch_norm:
                layers.append(nn.BatchNorm2d(item))
            if activation is not None:
                layers.append(activation())
            in_channels = item
    return nn.Sequential(*layers)


def test_check_vgg_features(capsys):
    assert checks.check_vgg_features(vgg_features)
    assert not checks.check_vgg_features(lambda cfg, c=1, bn=False: vgg_features(cfg, c, bn,
                                                                                 padding=0))
    assert not checks.check_vgg_features(lambda cfg, c=1, bn=False: vgg_features(cfg, c, bn,
                                                                                 activation=None))
    # ignores BN
    assert not checks.check_vgg_features(lambda cfg, c=1, bn=False: vgg_features(cfg, c, False))
    with pytest.raises(NotImplementedError):
        checks.check_vgg_features(stub)
    assert verdicts(capsys) == ["PASSED", "NOT YET", "NOT YET", "NOT YET", "NOT YET"]


def time_to_accuracy(history, target):
    elapsed = 0.0
    for acc, seconds in zip(history["val_acc"], history["epoch_seconds"]):
        elapsed += seconds
        if acc >= target:
            return elapsed
    return None


def epoch_not_seconds(history, target):
    return next((e for e, acc in zip(history["epoch"], history["val_acc"]) if acc >= target), None)


def only_that_epoch(history, target):
    return next((s for s, acc in zip(history["epoch_seconds"], history["val_acc"])
                 if acc >= target), None)


def strictly_above(history, target):
    elapsed = 0.0
    for acc, seconds in zip(history["val_acc"], history["epoch_seconds"]):
        elapsed += seconds
        if acc > target:
            return elapsed
    return None


def test_check_time_to_accuracy(capsys):
    assert checks.check_time_to_accuracy(time_to_accuracy)
    for wrong in (epoch_not_seconds, only_that_epoch, strictly_above):
        assert not checks.check_time_to_accuracy(wrong)
    with pytest.raises(NotImplementedError):
        checks.check_time_to_accuracy(stub)
    assert verdicts(capsys) == ["PASSED", "NOT YET", "NOT YET", "NOT YET", "NOT YET"]


def leak_free_split(n_items, val_fraction, seed):
    order = torch.randperm(n_items, generator=torch.Generator().manual_seed(seed))
    n_val = round(val_fraction * n_items)
    return order[n_val:], order[:n_val]


def leaky_split(n_items, val_fraction, seed):
    # the reference solution's mistake: validation drawn from training
    train = torch.arange(n_items)
    generator = torch.Generator().manual_seed(seed)
    return (train[: round((1 - val_fraction) * n_items)],
            train[torch.randperm(n_items, generator=generator)][:20])


def unseeded_order_split(n_items, val_fraction, seed):
    n_val = round(val_fraction * n_items)
    return torch.arange(n_val, n_items), torch.arange(n_val)


def test_check_leak_free_split(capsys):
    assert checks.check_leak_free_split(leak_free_split)
    assert not checks.check_leak_free_split(leaky_split)
    assert not checks.check_leak_free_split(unseeded_order_split)
    with pytest.raises(NotImplementedError):
        checks.check_leak_free_split(stub)
    assert verdicts(capsys) == ["PASSED", "NOT YET", "NOT YET", "NOT YET"]


def save_weights(model, path):
    torch.save(model.state_dict(), path)


def load_weights(model, path):
    model.load_state_dict(torch.load(path, weights_only=True))
    return model


def test_check_weights_roundtrip(capsys):
    assert checks.check_weights_roundtrip(save_weights, load_weights)
    whole_model = lambda model, path: torch.save(model, path)  # noqa: E731 -- the classic mistake
    assert not checks.check_weights_roundtrip(whole_model, load_weights)
    # forgets to load
    assert not checks.check_weights_roundtrip(save_weights, lambda model, path: model)
    with pytest.raises(NotImplementedError):
        checks.check_weights_roundtrip(stub, load_weights)
    with pytest.raises(NotImplementedError):
        checks.check_weights_roundtrip(save_weights, stub)
    assert verdicts(capsys) == ["PASSED", "NOT YET", "NOT YET", "NOT YET", "NOT YET"]
