"""Notebook 05's controlled experiments: one recipe for every run, each run kept once it is trained.

The notebook writes its recipe out (``train(make_model, seed, ...)``) and decorates it with
:func:`remember`, which keeps each finished run (``helpers.cache.cached_run``, the one place runs
are stored), keyed by the arguments, the code of the functions passed in and the data. The rest
of this module reads the results: the values of runs over seeds (:func:`values`,
:func:`accuracy_table`) and the spikes of a loss curve (:func:`smooth`, :func:`find_spikes`). The
figures of these results and their descriptions are in ``helpers.plotting``; the course's versions
of the notebook's exercises in ``helpers.checks.nb05``.
"""

from __future__ import annotations

import functools
import inspect
import types

import numpy as np
import pandas as pd

from helpers.cache import cached_run, code_fingerprint
from helpers.data import TensorLoader
from helpers.stats import find_spikes, smooth  # noqa: F401  (notebook 05 reads them here)
from helpers.training import choose_device

#: Bump when the code of this module that trains changes: a cache key sees the notebook's own
#: functions, not this module.
VERSION = 1


def mnist_loaders(splits, batch_size: int = 128) -> tuple[TensorLoader, TensorLoader, TensorLoader]:
    """Return (train, validation, test) loaders of ``load_mnist_splits``'s tensors.

    Only the training loader shuffles.

    Batches: images (B, 1, 28, 28), labels (B,).
    """
    return (TensorLoader(splits.train_images, splits.train_labels, batch_size=batch_size,
                         shuffle=True),
            TensorLoader(splits.val_images, splits.val_labels, batch_size=1000),
            TensorLoader(splits.test_images, splits.test_labels, batch_size=1000))


def load_balanced_mnist(per_class: int, seed: int = 0):
    """Return ``load_mnist_splits`` with a class-balanced training subset, ``per_class`` a digit.

    If the smallest class has fewer images, it takes as many as that class has (a small copy of the
    data).
    """
    from helpers.data import load_mnist_splits

    full = load_mnist_splits(seed=seed)
    available = int(np.bincount(full.train_labels.numpy()).min())
    return load_mnist_splits(per_class=min(per_class, available), seed=seed)


# --- runs kept once they are trained --------------------------------------------------------------


def _describe(value):
    """Return a JSON-able description of an argument of a run.

    Numbers and strings as they are, a function by its code (its source and that of the notebook's
    functions it uses), a module (e.g. a loss) by its ``repr``.
    """
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
    """Decorate a training function so that each run of it is trained once and then kept.

    ``@remember(data=splits.describe())`` above ``def train(make_model, seed, ...)``: calling it
    again with the same arguments (and the same code, and the same ``context``, e.g. the data)
    returns the same result. Each argument is described by its value, a function by its source code
    (so editing the model function trains it again), a module such as a loss by its ``repr``. The
    result must be JSON-able (numbers, strings, lists, dicts). Where the results are kept:
    ``helpers.cache``.
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
            result = cached_run(function.__name__, key, lambda: function(*args, **kwargs),
                                version=VERSION)
            return {name: value for name, value in result.items() if name != "cached"}
        return wrapper
    return decorator


# --- results over seeds ---------------------------------------------------------------------------


def values(results: list[dict], key: str = "val_acc") -> np.ndarray:
    """Return ``key`` of several runs (one per seed) as an array (n_runs,).

    The default is the validation accuracy of their kept weights.
    """
    return np.array([result[key] for result in results], dtype=float)


def accuracy_table(runs: dict[str, list[dict]]) -> pd.DataFrame:
    """Tabulate the accuracies (%) of each variant (name -> runs, one per seed).

    One row per variant: the validation accuracy of the kept weights (mean, lowest, highest over
    the seeds) and the mean test accuracy.
    """
    rows = {}
    for name, results in runs.items():
        validation = values(results) * 100
        rows[name] = {"seeds": len(results), "val acc mean": validation.mean(),
                      "lowest": validation.min(), "highest": validation.max(),
                      "test acc mean": values(results, "test_acc").mean() * 100}
    return pd.DataFrame.from_dict(rows, orient="index").round(2).rename_axis("accuracy (%)")
