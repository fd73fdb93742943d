"""helpers.experiments: models from their descriptions,
cached runs, tables and the spike finder (notebook 05)."""

import numpy as np
import pytest
import torch

from helpers.experiments import (accuracy_table, build_model, cached, find_spikes,
                                 leak_free_split, make_optimizer, remember,
                                 runs_table, seed_table, smooth, time_to_accuracy, values,
                                 vgg_features)
from helpers.models import count_parameters


@pytest.mark.parametrize("spec, shape, parameters", [
    ({"kind": "mlp", "layers": [784, 10]}, (2, 1, 28, 28), 7_850),
    ({"kind": "cnn", "channels": [8, 16, 32]}, (2, 1, 28, 28), 6_218),
    ({"kind": "one_layer_cnn"}, (2, 1, 28, 28), 12_760),
    ({"kind": "factory", "name": "mnist_best_cnn"}, (2, 1, 28, 28), 212_986),
    ({"kind": "digits_cnn"}, (2, 64), 97_802),
])
def test_build_model_makes_the_described_model(spec, shape, parameters):
    model = build_model(spec).eval()
    assert model(torch.zeros(shape)).shape == (2, 10)
    if parameters is not None:
        assert count_parameters(model) == parameters


def test_build_model_options_and_unknown_kinds():
    probabilities = build_model({"kind": "mlp", "layers": [4, 3],
                                 "softmax_output": True})(torch.randn(5, 4))
    assert torch.allclose(probabilities.sum(dim=1), torch.ones(5))
    assert any(isinstance(m, torch.nn.Sigmoid) for m in build_model(
        {"kind": "cnn", "channels": [4], "activation": "sigmoid"}).modules())
    with pytest.raises(ValueError, match="unknown model kind"):
        build_model({"kind": "transformer"})


def test_make_optimizer_passes_the_options():
    optimizer = make_optimizer([torch.nn.Parameter(torch.zeros(1))],
                               {"name": "SGD", "lr": 0.05, "momentum": 0.9})
    assert isinstance(optimizer, torch.optim.SGD) and optimizer.defaults["momentum"] == 0.9


def test_cached_computes_once_and_hides_the_bookkeeping(tmp_path, monkeypatch):
    monkeypatch.setenv("HELPERS_CACHE", str(tmp_path))
    calls = []

    def compute():
        calls.append(1)
        return {"test_acc": 0.5}

    assert cached("run", {"seed": 0}, compute) == {"test_acc": 0.5}
    # loaded: no "cached" key either way
    assert cached("run", {"seed": 0}, compute) == {"test_acc": 0.5}
    assert len(calls) == 1
    cached("run", {"seed": 0}, compute, recompute=True)
    assert len(calls) == 2


def test_tables_and_spikes():
    history = {"epoch_seconds": [1.0, 2.0, 3.0], "val_acc": [0.5, 0.6, 0.7]}
    runs = {"a": [{"test_acc": 0.9, "history": history, "parameters": 10},
                  {"test_acc": 0.8, "history": history, "parameters": 10}]}
    table = seed_table(runs)
    assert table.loc["a", "mean"] == pytest.approx(85.0) and table.loc["a", "seeds"] == 2
    assert runs_table({"a": runs["a"][0]}).loc["a", "s/epoch"] == 2.0
    assert np.allclose(smooth([1, 3, 5, 7], window=2), [1, 2, 4, 6])
    losses = [0.1] * 30 + [1.0] + [0.1] * 5 + [0.001] * 30 + [0.01]
    assert find_spikes(losses) == [30]   # the jump from 0.001 to 0.01 is under the 0.05 floor


def test_remember_trains_once_per_arguments_and_code(tmp_path, monkeypatch):
    monkeypatch.setenv("HELPERS_CACHE", str(tmp_path))
    calls = []

    def make_small():
        return torch.nn.Linear(2, 2)

    def make_other():
        return torch.nn.Linear(2, 3)

    @remember(data="toy")
    def train(make_model, seed, loss=torch.nn.CrossEntropyLoss()):
        calls.append(seed)
        return {"outputs": make_model().out_features, "seed": seed}

    assert train(make_small, 0) == {"outputs": 2, "seed": 0}
    assert train(make_small, 0) == {"outputs": 2, "seed": 0} and calls == [0]   # kept
    assert train(make_small, seed=1)["seed"] == 1 and calls == [0, 1]           # another seed
    assert train(make_other, 0)["outputs"] == 3 and len(calls) == 3            # another model


def test_accuracy_table_and_values():
    runs = {"a": [{"val_acc": 0.9, "test_acc": 0.8}, {"val_acc": 0.7, "test_acc": 0.6}]}
    assert values(runs["a"]).tolist() == [0.9, 0.7]
    table = accuracy_table(runs)
    assert table.loc["a", "val acc mean"] == pytest.approx(80.0)
    assert table.loc["a", "test acc mean"] == pytest.approx(70.0)


def test_the_course_versions_of_the_exercises():
    from helpers import checks

    assert checks.check_vgg_features(vgg_features)
    assert checks.check_time_to_accuracy(time_to_accuracy)
    assert checks.check_leak_free_split(leak_free_split)
