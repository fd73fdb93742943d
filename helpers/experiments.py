"""Controlled experiments (notebook 05): one recipe, one
configuration dict per run, every run trained the same way.

A run is described by a plain JSON-able dict -- which data, which model, which optimiser, which
seed, how many epochs -- and that dict is everything that decides its result. So it is also the key
under which :func:`cached` stores the result (``helpers.cache``), and a notebook of fifty runs
re-runs in seconds.

Models are described by small dicts too (``{"kind": "mlp", "layers": [784, 512, 512, 10]}``),
because a dict can be stored and compared and a model object cannot; :func:`build_model` turns one
into a fresh model. A run returns its history dict (``helpers.training.fit``); the tables
(:func:`seed_table`, :func:`runs_table`) and the figures (:func:`plot_seed_band`,
:func:`plot_loss_and_accuracy`, :func:`plot_batch_losses`) are separate functions of those results,
each with a ``describe_*`` function beside it that says what the figure shows, from the same numbers
(``helpers.plotting.show`` stores the figure with it).
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import torch
from torch import nn

import helpers.models
from helpers.cache import cached_run
from helpers.data import TensorLoader
from helpers.models import CNN, MLP
from helpers.plotting import PALETTE

#: Bump when the code of this module that trains or builds models changes: a cache key sees the
#: notebook's own functions, not this module.
VERSION = 1

ACTIVATIONS = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid}


def build_model(spec: dict) -> nn.Module:
    """A fresh model from its description. MNIST models take (N, 1, 28, 28), digits models (N, 64);
    all output (N, 10) logits (or probabilities with ``"softmax_output": True``: the double-softmax
    mistake).

    Kinds: ``mlp`` (``layers``, ``batch_norm``, ``dropout``, ``activation``), ``cnn`` (the keyword
    arguments of ``helpers.models.CNN``), ``one_layer_cnn`` (notebook 03), ``digits_cnn`` (notebook
    02), ``factory`` (a function of ``helpers.models`` by ``name``, e.g. ``mnist_best_cnn``).
    """
    kind = spec["kind"]
    activation = ACTIVATIONS[spec.get("activation", "relu")]
    if kind == "mlp":
        model = MLP(spec["layers"], activation=activation, batch_norm=spec.get("batch_norm", False),
                    dropout=spec.get("dropout", 0.0), flatten=True)
    elif kind == "cnn":
        options = {k: v for k, v in spec.items()
                   if k not in ("kind", "activation", "softmax_output")}
        model = CNN(activation=activation, **options)
    elif kind == "one_layer_cnn":
        # 10 kernels 8x8, stride 2: (N, 1, 28, 28) -> (N, 10, 11, 11) -> 1210 -> 10
        model = nn.Sequential(nn.Conv2d(1, 10, 8, stride=2), nn.ReLU(), nn.Flatten(),
                              nn.Linear(1210, 10))
    elif kind == "digits_cnn":      # notebook 02's CNN for the 8x8 digits (without its LogSoftmax)
        model = nn.Sequential(
            nn.Unflatten(1, (1, 8, 8)),                                 # (N, 64) -> (N, 1, 8, 8)
            nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(),
            nn.MaxPool2d(2), nn.Conv2d(64, 128, 3, padding=1), nn.ReLU(),
            nn.MaxPool2d(2),                                            # (N, 128, 2, 2)
            nn.Flatten(), nn.Dropout(0.3), nn.Linear(512, 10))
    elif kind == "factory":
        model = getattr(helpers.models, spec["name"])()
    else:
        raise ValueError(f"unknown model kind {kind!r}")
    if spec.get("softmax_output"):
        model = nn.Sequential(model, nn.Softmax(dim=1))
    return model


def make_optimizer(parameters, spec: dict) -> torch.optim.Optimizer:
    """``torch.optim.<name>(parameters, **options)``, e.g.
    ``{"name": "SGD", "lr": 0.05, "momentum": 0.9}``."""
    options = {k: v for k, v in spec.items() if k != "name"}
    return getattr(torch.optim, spec["name"])(parameters, **options)


def mnist_loaders(splits, batch_size: int = 128) -> tuple[TensorLoader, TensorLoader, TensorLoader]:
    """(train, validation, test) loaders of ``helpers.data.load_mnist_splits``'s tensors; only
    training shuffles. Batches: images (B, 1, 28, 28), labels (B,)."""
    return (TensorLoader(splits.train_images, splits.train_labels, batch_size=batch_size,
                         shuffle=True),
            TensorLoader(splits.val_images, splits.val_labels, batch_size=1000),
            TensorLoader(splits.test_images, splits.test_labels, batch_size=1000))


def cached(name: str, config: dict, compute, recompute: bool = False) -> dict:
    """``compute()``'s result for ``config``, stored under it the first time and loaded afterwards
    (``recompute=True``: train again). ``name`` only makes the stored file readable."""
    result = cached_run(name, config, compute, recompute=recompute, version=VERSION)
    return {key: value for key, value in result.items() if key != "cached"}


# --- tables ---------------------------------------------------------------------------------------


def test_accuracies(results: list[dict]) -> np.ndarray:
    """The test accuracies of several runs (e.g. one per seed), as an array (n_runs,)."""
    return np.array([result["test_acc"] for result in results])


def seed_table(runs: dict[str, list[dict]]) -> pd.DataFrame:
    """One row per model: test accuracy (%) over its seeds
    -- mean, standard deviation, lowest, highest."""
    rows = {}
    for name, results in runs.items():
        accuracy = test_accuracies(results) * 100
        rows[name] = {"seeds": len(accuracy), "mean": accuracy.mean(),
                      "std": accuracy.std(ddof=1) if len(accuracy) > 1 else 0.0,
                      "lowest": accuracy.min(), "highest": accuracy.max()}
    return pd.DataFrame.from_dict(rows, orient="index").round(2).rename_axis("test accuracy (%)")


def runs_table(runs: dict[str, dict]) -> pd.DataFrame:
    """One row per run: parameters, median seconds per
    epoch, final validation and test accuracy (%)."""
    return pd.DataFrame.from_dict({
        name: {"parameters": result["parameters"],
               "s/epoch": round(float(np.median(result["history"]["epoch_seconds"])), 2),
               "val acc (%)": round(100 * result["history"]["val_acc"][-1], 2),
               "test acc (%)": round(100 * result["test_acc"], 2)}
        for name, result in runs.items()}, orient="index").rename_axis("model")


def smooth(values, window: int = 20) -> np.ndarray:
    """Moving average over the last ``window`` values
    (fewer at the start); same length as ``values``."""
    values = np.asarray(values, dtype=float)
    cumulative = np.cumsum(np.insert(values, 0, 0.0))
    ends = np.arange(1, len(values) + 1)
    starts = np.maximum(ends - window, 0)
    return (cumulative[ends] - cumulative[starts]) / (ends - starts)


def find_spikes(losses, window: int = 20, factor: float = 5.0, floor: float = 0.05) -> list[int]:
    """Indices of batches whose loss is over ``factor`` x the median of the ``window`` losses before
    it, and over ``floor`` (so that noise at a loss of 0.0001 does not count)."""
    losses = np.asarray(losses)
    return [i for i in range(window, len(losses))
            if losses[i] > floor and losses[i] > factor * np.median(losses[i - window:i])]


# --- figures --------------------------------------------------------------------------------------


def plot_seed_band(ax, results: list[dict], metric: str, label: str, x=None, **style):
    """Mean over seeds of a per-epoch metric of the histories (e.g. ``"val_acc"``), with the min-max
    range as a band. ``x``: positions of the epochs (default: epoch numbers). Returns the line."""
    values = np.array([result["history"][metric] for result in results])
    x = np.asarray(results[0]["history"]["epoch"]) if x is None else x
    line, = ax.plot(x, values.mean(axis=0), label=label, **style)
    ax.fill_between(x, values.min(axis=0), values.max(axis=0), color=line.get_color(), alpha=0.2)
    return line


def describe_seed_bands(runs: dict[str, list[dict]], metric: str, what: str | None = None, x=None,
                        at: str = "epoch {:g}") -> str:
    """What :func:`plot_seed_band` draws for each of ``runs`` (name -> results of several seeds):
    the mean curve of ``metric`` (e.g. ``"val_acc"``) and the widest min-max spread over the seeds.
    x: name -> positions of the epochs (default: epoch numbers), written with ``at``."""
    from helpers.plotting import _is_rate, _value, describe_series

    what = what or metric.replace("val_", "validation ").replace("acc", "accuracy")
    curves = {name: np.mean([r["history"][metric] for r in results], axis=0)
              for name, results in runs.items()}
    spreads = {name: np.ptp([r["history"][metric] for r in results], axis=0).max()
               for name, results in runs.items()}
    percent = _is_rate(metric)
    widest = max(spreads, key=spreads.get)
    seeds = len(next(iter(runs.values())))
    return (describe_series(curves, f"{what}, mean over {seeds} seeds", x=x, at=at, percent=percent,
                            best="max" if percent and "error" not in metric else "min")
            + f" The widest spread between seeds is {_value(spreads[widest], percent)} ({widest}).")


def describe_test_accuracies(runs: dict[str, list[dict]]) -> str:
    """The test accuracies of ``runs`` (name -> results of several seeds), e.g. "Test accuracy
    over 3 seeds: 2 layers 97.1% (96.9% to 97.3%); ...": what a dot-per-seed figure shows."""
    parts = []
    for name, results in runs.items():
        accuracy = test_accuracies(results)
        parts.append(f"{name} {accuracy.mean():.2%} ({accuracy.min():.2%} to {accuracy.max():.2%})")
    seeds = len(next(iter(runs.values())))
    return f"Test accuracy over {seeds} seeds, mean (lowest to highest): " + "; ".join(parts) + "."


def plot_loss_and_accuracy(runs: dict[str, dict], title: str | None = None):
    """Training loss and validation accuracy per epoch of
    several runs, side by side. Returns the two axes."""
    import matplotlib.pyplot as plt

    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 3.5))
    for (name, result), color in zip(runs.items(), itertools.cycle(PALETTE)):
        history = result["history"]
        ax_loss.plot(history["epoch"], history["train_loss"], marker=".", label=name, color=color)
        ax_acc.plot(history["epoch"], history["val_acc"], marker=".", label=name, color=color)
    ax_loss.set(xlabel="epoch", ylabel="training loss", title=title)
    ax_acc.set(xlabel="epoch", ylabel="validation accuracy")
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    return ax_loss, ax_acc


def describe_loss_and_accuracy(runs: dict[str, dict], title: str | None = None) -> str:
    """What :func:`plot_loss_and_accuracy` shows: each run's training loss and validation accuracy
    per epoch."""
    from helpers.plotting import describe_series

    histories = {name: result["history"] for name, result in runs.items()}
    head = f"{title}. " if title else ""
    losses = {name: history["train_loss"] for name, history in histories.items()}
    accuracies = {name: history["val_acc"] for name, history in histories.items()}
    return (head + describe_series(losses, "training loss per epoch") + " "
            + describe_series(accuracies, "validation accuracy per epoch", best="max"))


def plot_batch_losses(runs: dict[str, dict], title: str, ax=None):
    """Per-batch training loss (faint) and its 20-batch moving average of runs with
    ``"batch_losses"`` and ``"batches_per_epoch"``; x in epochs, log scale. Returns the axes."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(11, 4))
    for (name, result), color in zip(runs.items(), itertools.cycle(PALETTE)):
        losses = np.asarray(result["batch_losses"])
        x = np.arange(1, len(losses) + 1) / result["batches_per_epoch"]
        line, = ax.plot(x, smooth(losses), label=name, lw=1.6, color=color)
        ax.plot(x, losses, color=line.get_color(), alpha=0.25, lw=0.6)
    ax.set(yscale="log", xlabel="epoch", ylabel="training loss per batch", title=title)
    ax.grid(alpha=0.3, which="both")
    ax.legend(loc="upper right")
    return ax


def describe_batch_losses(runs: dict[str, dict], title: str | None = None) -> str:
    """What :func:`plot_batch_losses` shows, per run: how its 20-batch moving average goes, its
    highest single batch loss and how many spikes :func:`find_spikes` finds."""
    parts = []
    for name, result in runs.items():
        losses = np.asarray(result["batch_losses"])
        average = smooth(losses)
        highest = int(np.argmax(losses))
        epochs = len(losses) / result["batches_per_epoch"]
        spikes = len(find_spikes(losses))
        in_epoch = highest // result["batches_per_epoch"] + 1
        parts.append(f"{name}: {len(losses)} batches ({epochs:g} epochs), moving average from "
                     f"{average[0]:.3g} to {average[-1]:.3g}, highest batch loss "
                     f"{losses[highest]:.3g} in epoch {in_epoch}, "
                     f"{spikes} spike{'s' if spikes != 1 else ''}")
    head = f"{title}. " if title else ""
    return head + "Training loss per batch (log scale): " + "; ".join(parts) + "."
