"""Figures: learning curves from a history dict, 2D data and decision boundaries."""

from __future__ import annotations

from collections.abc import Callable

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.ticker import MaxNLocator

CLASS_COLORS = ("tab:blue", "tab:orange")


def plot_history(history: dict, title: str | None = None, axes=None):
    """Learning curves of a ``helpers.training.fit`` history: loss and accuracy per epoch, training vs validation,
    on two matplotlib ``axes`` (default: a new 1×2 figure). Returns the figure."""
    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
    else:
        fig = axes[0].figure
    epochs = history["epoch"]
    for ax, metric, label in zip(axes, ("loss", "acc"), ("loss", "accuracy")):
        ax.plot(epochs, history[f"train_{metric}"], label="train")
        ax.plot(epochs, history[f"val_{metric}"], label="validation")
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.legend()
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # whole epochs, also with 2 or 3 of them
    if history.get("best_epoch"):
        axes[0].axvline(history["best_epoch"], color="gray", linestyle=":", label="best")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


class LiveCurves:
    """Learning curves redrawn in place after every epoch: ``fit(..., live=True)`` uses one per run.

    One figure, shown once and then replaced through its display id: JupyterLab and Colab redraw it where it
    is, and an executed notebook (nbconvert, nbval) keeps only the last version -- the final static figure.
    A redraw costs a small fraction of an epoch (``scripts/benchmark_live_curves.py``).
    Call it with the history dict after each epoch.
    """

    def __init__(self, title: str | None = None):
        self.title, self.handle = title, None
        self.fig, self.axes = plt.subplots(1, 2, figsize=(10, 3.5))
        plt.close(self.fig)  # shown through the display handle only, not a second time at the end of the cell

    def __call__(self, history: dict) -> None:
        if not self.axes[0].lines:  # the first epoch: the whole figure
            plot_history(history, self.title, axes=self.axes)
        else:  # later epochs: new data for the same lines -- no new legend, no new layout: a third cheaper
            for ax, metric in zip(self.axes, ("loss", "acc")):
                for line, split in zip(ax.lines, ("train", "val")):
                    line.set_data(history["epoch"], history[f"{split}_{metric}"])
                ax.relim()
                ax.autoscale_view()
            if history.get("best_epoch") and len(self.axes[0].lines) > 2:
                self.axes[0].lines[2].set_xdata([history["best_epoch"]] * 2)
        from IPython import get_ipython  # here, so that helpers.plotting imports without IPython
        from IPython.display import display

        if get_ipython() is None:  # a script or a test: keep self.fig up to date, show nothing
            return
        if self.handle is None:
            self.handle = display(self.fig, display_id=True)
        else:
            self.handle.update(self.fig)


def plot_points(samples, labels, ax=None, title: str | None = None, class_names=("class 0", "class 1")):
    """Scatter plot of 2D points, (N, 2) array or tensor, coloured by their (N,) 0/1 labels. Returns the axes."""
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 4.5))
    samples, labels = np.asarray(samples), np.asarray(labels).reshape(-1)
    for value, (color, name) in enumerate(zip(CLASS_COLORS, class_names)):
        chosen = samples[labels == value]
        ax.scatter(chosen[:, 0], chosen[:, 1], s=8, color=color, label=name, alpha=0.8)
    ax.set_aspect("equal")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    # above the axes, under the title: inside, the legend would hide points (the ring reaches every corner)
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=len(class_names), frameon=False, fontsize="small",
              borderaxespad=0.1)
    if title:
        ax.set_title(title, pad=16)
    return ax


def plot_decision_boundary(probability_fn: Callable[[torch.Tensor], torch.Tensor], samples, labels,
                           ax=None, title: str | None = None, grid_size: int = 200, margin: float = 0.3,
                           class_names=("class 0", "class 1")):
    """A binary classifier's probability over the plane, its 0.5 boundary, and the data (N, 2), labels (N,) 0/1, on
    top. Returns the axes.

    ``probability_fn`` maps an (M, 2) float tensor of points (x, y) to (M,) or (M, 1) probabilities of class 1.
    Feature transforms (e.g. to polar coordinates) belong inside it, so that the boundary is always drawn in the
    original (x, y) plane.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 4.5))
    samples = np.asarray(samples)
    low, high = samples.min(axis=0) - margin, samples.max(axis=0) + margin
    xs, ys = np.linspace(low[0], high[0], grid_size), np.linspace(low[1], high[1], grid_size)
    grid_x, grid_y = np.meshgrid(xs, ys)
    grid = torch.tensor(np.stack([grid_x.ravel(), grid_y.ravel()], axis=1), dtype=torch.float32)
    with torch.no_grad():
        probability = probability_fn(grid).reshape(grid_size, grid_size).cpu().numpy()
    filled = ax.contourf(grid_x, grid_y, probability, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.35)
    if probability.min() < 0.5 < probability.max():  # draw the boundary only where there is one
        ax.contour(grid_x, grid_y, probability, levels=[0.5], colors="k", linewidths=1.5)
    ax.figure.colorbar(filled, ax=ax, fraction=0.046, pad=0.04, label=f"P({class_names[1]})")
    plot_points(samples, labels, ax=ax, title=title, class_names=class_names)
    return ax
