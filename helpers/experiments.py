"""Controlled experiments (notebook 05): one recipe, every run trained the same way, each run
kept once it is trained (:func:`remember`), and the tables and figures of runs over seeds.

The notebook writes its recipe out (``train(make_model, seed, ...)``) and decorates it with
:func:`remember`; its models are plain functions that build them. The older interface below -- runs
described by JSON dicts (:func:`build_model`, :func:`make_optimizer`, :func:`cached`) -- stays for
the scripts and tests that use it.

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

import functools
import inspect
import itertools
import types

import numpy as np
import pandas as pd
import torch
from torch import nn

import helpers.models
from helpers.cache import cached_run, code_fingerprint
from helpers.data import TensorLoader
from helpers.models import CNN, MLP
from helpers.plotting import PALETTE
from helpers.training import choose_device

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


# --- runs kept once they are trained --------------------------------------------------------------


def _describe(value):
    """A JSON-able description of an argument of a run: numbers and strings as they are, a function
    by its code (its source and that of the notebook's functions it uses), a module (e.g. a loss) by
    its ``repr``."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (list, tuple)):
        return [_describe(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _describe(item) for key, item in value.items()}
    if isinstance(value, types.FunctionType):
        return {"function": value.__name__, "code": code_fingerprint(value)}
    return repr(value)


def remember(**context):
    """Decorator: a run of the decorated function is trained once; calling it again with the same
    arguments (and the same code, and the same ``context``, e.g. the data) returns the same result.

    ``@remember(data=splits.describe())`` above ``def train(make_model, seed, ...)``: each
    argument is described by its value, a function by its source code (so editing the model
    function trains it again), a module such as a loss by its ``repr``. The result must be
    JSON-able (numbers, strings, lists, dicts). Where the results are kept: ``helpers.cache``.
    """
    def decorator(function):
        signature = inspect.signature(function)

        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            key = {"function": function.__name__, "code": code_fingerprint(function),
                   "context": _describe(context), "device": choose_device().type,
                   "arguments": {name: _describe(value)
                                 for name, value in bound.arguments.items()}}
            return cached(function.__name__, key, lambda: function(*args, **kwargs))
        return wrapper
    return decorator


# --- accuracies over seeds ------------------------------------------------------------------------


def values(results: list[dict], key: str = "val_acc") -> np.ndarray:
    """``key`` of several runs (one per seed), as an array (n_runs,), e.g. the validation accuracy
    of their kept weights."""
    return np.array([result[key] for result in results], dtype=float)


def accuracy_table(runs: dict[str, list[dict]]) -> pd.DataFrame:
    """One row per variant (name -> runs, one per seed): the validation accuracy (%) of the kept
    weights -- mean, lowest, highest over the seeds -- and the mean test accuracy (%)."""
    rows = {}
    for name, results in runs.items():
        validation = values(results) * 100
        rows[name] = {"seeds": len(results), "val acc mean": validation.mean(),
                      "lowest": validation.min(), "highest": validation.max(),
                      "test acc mean": values(results, "test_acc").mean() * 100}
    return pd.DataFrame.from_dict(rows, orient="index").round(2).rename_axis("accuracy (%)")


def plot_paired_seeds(ax, runs: dict[str, list[dict]], key: str = "val_acc", scale: float = 100):
    """One dot per seed and variant, the dots of the same seed joined by a grey line (the runs are
    paired by seed), the mean of each variant as a black bar."""
    names = list(runs)
    table = np.array([values(runs[name], key) * scale for name in names])   # (variants, seeds)
    for seed_values in table.T:
        ax.plot(range(len(names)), seed_values, color="0.7", lw=1, zorder=1)
    for position, (name, color) in enumerate(zip(names, itertools.cycle(PALETTE))):
        ax.scatter(np.full(table.shape[1], position), table[position], color=color, zorder=2)
        ax.hlines(table[position].mean(), position - 0.2, position + 0.2, color="k", zorder=3)
    ax.set(xticks=range(len(names)), xticklabels=names, xlim=(-0.5, len(names) - 0.5))
    ax.grid(alpha=0.3)
    return ax


def describe_paired_seeds(runs: dict[str, list[dict]], key: str = "val_acc",
                          what: str = "validation accuracy of the kept weights",
                          percent: bool = True) -> str:
    """What :func:`plot_paired_seeds` shows: each variant's values by seed and their mean
    (``percent``: written as percentages, else with three significant digits)."""
    form = "{:.2%}" if percent else "{:.3g}"
    parts = [f"{name} " + ", ".join(form.format(value) for value in values(results, key))
             + f" (mean {form.format(values(results, key).mean())})"
             for name, results in runs.items()]
    seeds = len(next(iter(runs.values())))
    return (f"One dot per seed, dots of the same seed joined; {what} over {seeds} seeds: "
            + "; ".join(parts) + ".")


# --- the course's versions of notebook 05's exercises (used when a student's does not pass yet) ---


def vgg_features(cfg, in_channels: int = 1, batch_norm: bool = False) -> nn.Sequential:
    """VGG's convolutional part from a configuration list: a number C is a 3x3 convolution to C
    channels (padding 1), [batch norm,] ReLU; ``"M"`` a 2x2 max pooling."""
    layers: list[nn.Module] = []
    for item in cfg:
        if item == "M":
            layers.append(nn.MaxPool2d(2))
            continue
        layers.append(nn.Conv2d(in_channels, item, kernel_size=3, padding=1))
        if batch_norm:
            layers.append(nn.BatchNorm2d(item))
        layers.append(nn.ReLU())
        in_channels = item
    return nn.Sequential(*layers)


def time_to_accuracy(history: dict, target: float) -> float | None:
    """Seconds of training (``epoch_seconds`` summed) until the first epoch whose validation
    accuracy is at least ``target``, that epoch included; None when no epoch reaches it."""
    elapsed = 0.0
    for accuracy, seconds in zip(history["val_acc"], history["epoch_seconds"]):
        elapsed += seconds
        if accuracy >= target:
            return elapsed
    return None


def leak_free_split(n_items: int, val_fraction: float, seed: int):
    """Disjoint random (train_indices, val_indices) of 0..n_items-1, the validation part
    ``round(val_fraction * n_items)`` long; the seed fixes the order."""
    order = torch.randperm(n_items, generator=torch.Generator().manual_seed(seed))
    n_val = round(val_fraction * n_items)
    return order[n_val:], order[:n_val]


def load_balanced_mnist(per_class: int, seed: int = 0):
    """``helpers.data.load_mnist_splits`` with a class-balanced training subset of ``per_class``
    images of each digit -- or of as many as the smallest class has, if that is fewer (a small
    copy of the data)."""
    from helpers.data import load_mnist_splits

    full = load_mnist_splits(seed=seed)
    available = int(torch.bincount(full.train_labels).min())
    return load_mnist_splits(per_class=min(per_class, available), seed=seed)
