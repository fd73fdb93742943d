"""scripts/benchmark_speed.py in its tiny mode: both benchmarks run, print and write the JSON.

MNIST comes from the suite's synthetic data root, SVHN from a synthetic folder.
"""

import json

import pytest
import torch

from helpers.data.svhn import write_synthetic_svhn
from scripts import benchmark_speed


@pytest.mark.slow   # a benchmark script, in its tiny mode
def test_benchmark_speed_runs_in_tiny_mode(tmp_path, capsys):
    folder = write_synthetic_svhn(folder=tmp_path / "svhn", n_train=128, n_test=64)
    out_json = tmp_path / "speed.json"
    benchmark_speed.main(["--tiny", "--seeds", "2", "--threads", "1", "--svhn", str(folder),
                          "--json", str(out_json), "--profile"])
    out = capsys.readouterr().out
    assert "SYNTHETIC MNIST" in out and "SYNTHETIC SVHN" in out and "threads" in out
    for name in ("notebook 03 fast CNN", "speedrun", "notebook 04 recipe", "reference SVHN CNN"):
        assert f"{name}: 1 epochs" in out and f"profile of one epoch, {name}: " in out
    report = json.loads(out_json.read_text())
    assert report["tiny"] and report["torch"] and report["threads"] == 1
    mnist = report["mnist"]
    assert {r["seed"] for r in mnist["runs"]} == {0, 1} and len(mnist["runs"]) == 4
    assert [r["recipe"] for r in mnist["runs"][:2]] == ["notebook 03 fast CNN", "speedrun"]
    summary = mnist["recipes"]["speedrun"]
    assert {"mean_test_acc", "min_test_acc", "median_train_seconds", "median_seconds_to_99",
            "median_first_epoch_seconds"} <= set(summary)
    assert "paired t over 2 seeds" in mnist["comparison"]["accuracy_difference"]
    assert set(report["svhn"]["targets"]) == {"at least 1 point more accurate",
                                              "training time <= 1.0x the reference's (wall)",
                                              "training time <= 1.0x the reference's (CPU)"}
    assert "mean accuracy >= 99.3%" in mnist["targets"] and len(mnist["targets"]) == 5


def test_speedrun_network_is_the_published_one():
    """tuomaso/train_mnist_fast's final net: 1->24 5x5, 24->32 3x3, 800->256->10."""
    from helpers.models import count_parameters

    model = benchmark_speed.SpeedrunNet()
    assert count_parameters(model) == (25 * 24 + 24) + (9 * 24 * 32 + 32) + (800 * 256 + 256) \
        + (256 * 10 + 10)
    assert count_parameters(benchmark_speed.reference_svhn_cnn()) > 0


@pytest.mark.slow   # a benchmark script, in its tiny mode
def test_one_benchmark_keeps_the_other_benchmarks_earlier_result(tmp_path):
    """``--only svhn`` rewrites the SVHN part of the JSON and keeps the MNIST part, with its run."""
    folder = write_synthetic_svhn(folder=tmp_path / "svhn", n_train=128, n_test=64)
    out_json = tmp_path / "speed.json"
    earlier = {"date": "2026-12-08 00:04 UTC", "threads": 1, "mnist": {"recipes": {"x": 1}}}
    out_json.write_text(json.dumps(earlier))
    benchmark_speed.main(["--tiny", "--only", "svhn", "--seeds", "1", "--threads", "1",
                          "--svhn", str(folder), "--json", str(out_json)])
    report = json.loads(out_json.read_text())
    assert report["mnist"]["recipes"] == {"x": 1}
    assert report["mnist"]["measured"]["date"] == "2026-12-08 00:04 UTC"
    assert report["svhn"]["data"] == "SYNTHETIC SVHN"
    assert report["svhn"]["recipes"]["notebook 04 recipe"]["batch_size"] == 64


def test_notebook_04_recipe_in_the_benchmark_is_the_one_its_ablation_chose():
    """The benchmark trains notebook 04's chosen variant (dropout off), not the full recipe."""
    from helpers.recipes import SVHN_CHOSEN_VARIANT, ablation_recipe

    mine = benchmark_speed.svhn_recipes()[0]
    assert mine.name == "notebook 04 recipe" and SVHN_CHOSEN_VARIANT in mine.notes
    model = mine.make_model()
    chosen = ablation_recipe(SVHN_CHOSEN_VARIANT)
    has_dropout = any(isinstance(layer, torch.nn.Dropout) for layer in model.modules())
    assert has_dropout == (chosen["dropout"] > 0)
    assert mine.batch_size == chosen["batch_size"]
