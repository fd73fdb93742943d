"""helpers.experiments: runs kept once trained, tables and the spike finder (notebook 05).

Also the course's versions of notebook 05's exercises (helpers.checks.nb05).
"""

import numpy as np
import pytest
import torch

from helpers.checks.nb05 import leak_free_split, time_to_accuracy, vgg_features
from helpers.experiments import accuracy_table, find_spikes, remember, smooth, values


def test_smooth_and_spikes():
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


def test_experiments_holds_runs_only_figures_and_models_live_elsewhere():
    from helpers import experiments, plotting

    assert hasattr(plotting, "describe_seed_bands")
    assert not hasattr(experiments, "describe_seed_bands")
    assert not hasattr(experiments, "build_model") and not hasattr(experiments, "ACTIVATIONS")
