"""Notebook 05's self-checks pass on the solutions, fail on wrong answers and re-raise on stubs."""

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


def classify_with(normalise=True, cross_entropy=True, zero_grad=True, epochs=30):
    """The debugging exercise's loop (7.10) with a chosen set of its three mistakes repaired."""
    def classify(train_images, train_labels, new_images):
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Dropout(0.3), nn.Linear(128, 10))
        optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        loss_fn = nn.CrossEntropyLoss() if cross_entropy else nn.NLLLoss()
        if normalise:
            train_images, new_images = train_images / 16, new_images / 16
        for _ in range(epochs):
            model.train()
            for batch in torch.randperm(len(train_images)).split(32):
                if zero_grad:
                    optimizer.zero_grad()
                loss_fn(model(train_images[batch]), train_labels[batch]).backward()
                optimizer.step()
        model.eval()
        with torch.no_grad():
            return model(new_images).argmax(dim=1)
    return classify


def classify_digits(train_images, train_labels, new_images, epochs: int = 30):
    """Notebook 05's debugging exercise, repaired (here, not in helpers, which students get).

    Train a small MLP on 8x8 digits given as pixel
    counts 0..16 (N, 64) with labels (N,), return the predicted classes (M,) of ``new_images``."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Dropout(0.3), nn.Linear(128, 10))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    train_images, new_images = train_images / 16, new_images / 16   # counts 0..16 -> [0, 1]
    for _ in range(epochs):
        model.train()
        for batch in torch.randperm(len(train_images)).split(32):
            optimizer.zero_grad()
            loss = loss_fn(model(train_images[batch]), train_labels[batch])
            loss.backward()
            optimizer.step()
    model.eval()
    with torch.no_grad():
        return model(new_images).argmax(dim=1)



@pytest.mark.slow   # trains small MLPs on the 8x8 digits
def test_check_repaired_classifier_passes_the_repair_and_fails_each_mistake_left_in(capsys):

    assert checks.nb05.check_repaired_classifier(classify_digits)
    assert checks.nb05.check_repaired_classifier(classify_digits, split="test")
    for mistake in ({"normalise": False}, {"cross_entropy": False}, {"zero_grad": False}):
        assert not checks.nb05.check_repaired_classifier(classify_with(**mistake))
    with pytest.raises(NotImplementedError):
        checks.nb05.check_repaired_classifier(stub)
    out = capsys.readouterr().out
    assert "held-out test digits" in out and out.count("NOT YET") == 4


def test_check_repaired_classifier_fails_a_wrong_shape_quickly(capsys):
    assert not checks.nb05.check_repaired_classifier(lambda train, labels, new: labels[:3])
    assert "returned shape" in capsys.readouterr().out


def test_course_version_names_each_exercise():
    """The notebook asks for the course's versions by name: none is named in the student's copy."""
    from helpers.checks import nb05

    assert nb05.course_version("vgg_features") is nb05.vgg_features
    assert nb05.course_version("time_to_accuracy") is nb05.time_to_accuracy
    assert nb05.course_version("leak_free_split") is nb05.leak_free_split
