"""Notebook 01's self-checks pass on right answers, fail on wrong ones, re-raise on stubs."""

import pytest
import torch
from torch import nn

from helpers import checks


def stub(*args, **kwargs):
    raise NotImplementedError


def verdicts(capsys):
    return [line.split(":")[0] for line in capsys.readouterr().out.splitlines()
            if not line.startswith("  ")]


def right_polar(points):
    return torch.stack([points.norm(dim=1), torch.atan2(points[:, 1], points[:, 0])], dim=1)


def test_check_polar(capsys):
    assert checks.check_polar(right_polar)
    wrong = lambda p: torch.stack([p.norm(dim=1), torch.atan(p[:, 1] / p[:, 0])], dim=1)  # noqa: E731
    assert not checks.check_polar(wrong)
    assert not checks.check_polar(lambda p: p)  # crashes are verdicts, not tracebacks
    with pytest.raises(NotImplementedError):
        checks.check_polar(stub)
    assert verdicts(capsys) == ["PASSED", "NOT YET", "NOT YET", "NOT YET"]


def right_mlp():
    return nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(),
                         nn.Linear(16, 1))


def test_check_mlp(capsys):
    assert checks.check_mlp(right_mlp())
    # no ReLU
    assert not checks.check_mlp(nn.Sequential(nn.Linear(2, 16), nn.Linear(16, 16),
                                              nn.Linear(16, 1)))
    # one hidden layer
    assert not checks.check_mlp(nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 1)))
    # squashed before BCEWithLogits
    assert not checks.check_mlp(nn.Sequential(right_mlp(), nn.Sigmoid()))
    capsys.readouterr()


def test_check_does_not_change_the_random_stream():
    model = right_mlp()
    torch.manual_seed(5)
    expected = torch.rand(3)
    torch.manual_seed(5)
    checks.check_mlp(model)
    assert torch.equal(torch.rand(3), expected)


def right_train_one_epoch(model, loader, optimizer, loss_fn):
    model.train()
    total = 0.0
    for points, labels in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(points), labels)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(labels)
    return total / len(loader.dataset)


def no_step_train_one_epoch(model, loader, optimizer, loss_fn):
    total = 0.0
    for points, labels in loader:
        loss = loss_fn(model(points), labels)
        loss.backward()
        total += loss.item()
    return total


def test_check_train_one_epoch(capsys):
    assert checks.check_train_one_epoch(right_train_one_epoch)
    assert not checks.check_train_one_epoch(no_step_train_one_epoch)
    with pytest.raises(NotImplementedError):
        checks.check_train_one_epoch(stub)
    assert verdicts(capsys) == ["PASSED", "NOT YET", "NOT YET"]


class Points(torch.utils.data.Dataset):
    def __init__(self, label_slice=True):
        self.samples, self.labels, self.label_slice = (torch.zeros(10, 2), torch.ones(10),
                                                       label_slice)

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        return self.samples[i], self.labels[i : i + 1] if self.label_slice else self.labels[i]


def test_check_points_dataset(capsys):
    assert checks.check_points_dataset(Points(), 10)
    # label of shape () not (1,)
    assert not checks.check_points_dataset(Points(label_slice=False), 10)
    assert not checks.check_points_dataset(Points(), 11)
    capsys.readouterr()


def no_zero_grad_train_one_epoch(model, loader, optimizer, loss_fn):
    total = 0.0
    for points, labels in loader:
        loss = loss_fn(model(points), labels)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(labels)
    return total / len(loader.dataset)


def test_the_public_check_catches_a_missing_zero_grad(capsys):
    # gradients of earlier batches add up: the loss still falls on easy data, the weights differ
    assert not checks.check_train_one_epoch(no_zero_grad_train_one_epoch)
    assert "one step per batch" in capsys.readouterr().out


def test_the_training_step_hints_teach_before_they_tell(capsys):
    for _ in range(3):
        assert not checks.check_train_one_epoch(no_zero_grad_train_one_epoch)
    out = capsys.readouterr().out
    assert "section 2" in out   # where the three calls are explained
    assert "optimizer.zero_grad()" not in out   # never the missing line itself


def test_the_mlp_hints_teach_before_they_tell(capsys):
    no_relu = nn.Sequential(nn.Linear(2, 16), nn.Linear(16, 16), nn.Linear(16, 1))
    for _ in range(3):
        assert not checks.check_mlp(no_relu)
    out = capsys.readouterr().out
    assert "section 3" in out   # the concept and where it is explained
    assert "nn.ReLU()" not in out   # never the layer itself
