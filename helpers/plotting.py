"""Figures, each with a description in words: the course's palette and :func:`show`.

Learning curves from a history dict, 2D data and decision boundaries, image grids, runs over seeds
and per-batch losses (notebook 05); the course's colour palette; :func:`show`, which displays a
figure together with a description of it.

Every figure a notebook stores carries a text description computed from the data it shows (the
``describe_*`` functions, each beside the figure it describes). :func:`show` stores it in the
output's metadata as ``{"image/png": {"alt": description}}`` -- the key of IPython's own
``Image(alt=...)``, which nbconvert's classic HTML template writes as the ``<img alt=...>`` -- and
as the output's plain-text form, which text-only front ends and screen readers get instead of the
image.

Colours: ``PALETTE`` is Petroff's 10-colour sequence (M. A. Petroff, "Accessible Color Sequences
for Data Visualization", 2021, arXiv:2107.02270; matplotlib's ``"petroff10"`` style), chosen to
stay distinguishable with red-green (protanopia, deuteranopia) and blue-yellow (tritanopia) colour
blindness. matplotlib's default ``tab10`` is not: its green and red, and its blue and purple, look
alike to many readers. :func:`use_course_style` makes ``PALETTE`` matplotlib's colour cycle, so
lines drawn without a colour get it too; sequential maps (viridis, Blues) and the diverging
blue-white-orange ``CLASS_PROBABILITY_MAP`` of the probabilities vary in lightness as well as hue
and read with colour blindness.
"""

from __future__ import annotations

import base64
import io
import itertools
from collections.abc import Callable, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from cycler import cycler
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.ticker import MaxNLocator

from helpers import settings

#: Petroff's 10 colours, in his order (blue, orange, red, grey, purple, brown, dark orange, tan,
#: dark grey, light blue): classes and runs take them from the start.
PALETTE = ("#3f90da", "#ffa90e", "#bd1f01", "#94a4a2", "#832db6", "#a96b59", "#e76300", "#b9ac70",
           "#717581", "#92dadd")
#: the two classes of notebook 01 (blue and orange: apart for every kind of colour blindness)
CLASS_COLORS = PALETTE[:2]
#: marks a wrong prediction or a mistake beside black or blue text and lines; always together with a
#: second cue (a word, a marker, bold type), never colour alone
MISTAKE_COLOR = PALETTE[2]



def use_course_style() -> None:
    """Make ``PALETTE`` matplotlib's colour cycle, so that lines drawn without a colour get it too.

    A notebook calls it once, after its imports: the change to matplotlib's global settings is
    then visible where it is made, not a side effect of an import.
    """
    plt.rcParams["axes.prop_cycle"] = cycler(color=PALETTE)



# --- showing a figure with its description --------------------------------------------------------


def _check_description(description) -> None:
    if not isinstance(description, str) or not description.strip():
        raise ValueError("a figure needs a description of what it shows (a non-empty string)")


def figure_output(fig, description: str) -> tuple[dict, dict]:
    """Return the display data of ``fig`` as a PNG image described by ``description``.

    (data, metadata),
    data ``{"image/png": base64 text, "text/plain": description}``, metadata
    ``{"image/png": {"alt": description}}``. The PNG is what the inline backend would show (tight
    bounding box, the figure's dpi)."""
    _check_description(description)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    return png_output(buffer.getvalue(), description)


def png_output(png: bytes, description: str) -> tuple[dict, dict]:
    """Return the display data of PNG bytes described by ``description`` (see figure_output)."""
    _check_description(description)
    data = {"image/png": base64.b64encode(png).decode("ascii"), "text/plain": description}
    return data, {"image/png": {"alt": description}}


def show(fig, description: str) -> None:
    """Display ``fig`` with ``description`` and close it.

    The description says what the figure shows, in words and numbers, e.g.
    from a ``describe_*`` function; closing it means that it is not displayed a second time at the
    end of the cell. Outside IPython (a script) it displays nothing and leaves the figure open."""
    _check_description(description)
    if settings.frontend() == "script":
        return
    from IPython.display import display  # here, so that helpers.plotting imports without IPython

    data, metadata = figure_output(fig, description)
    plt.close(fig)
    display(data, raw=True, metadata=metadata)


# --- numbers in words -----------------------------------------------------------------------------


def _value(value: float, percent: bool) -> str:
    return f"{value:.1%}" if percent else f"{value:.3g}"


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _times(count: int) -> str:
    return "once" if count == 1 else f"{count} times"


def _is_rate(name: str) -> bool:
    """True for a metric between 0 and 1 shown as a percentage: accuracies and errors."""
    return "acc" in name or "error" in name


def describe_curve(values: Sequence[float], percent: bool = False, x: Sequence[float] | None = None,
                   at: str = "epoch {:g}", best: str | None = None) -> str:
    """How one curve goes, e.g. "rises from 91.2% to 97.9% (highest 98.0% at epoch 8)".

    values: the curve's (N,) values; x: their (N,) positions (default: epochs 1..N), written with
    ``at`` (given positions also say where the curve ends: "... by 12.5 s");
    best: ``"max"`` or ``"min"`` to name the highest or lowest point too.
    """
    values = np.asarray(values, dtype=float)
    positions_given = x is not None
    x = np.arange(1, len(values) + 1) if x is None else np.asarray(x, dtype=float)
    if len(values) == 0:
        return "no values"
    first, last = _value(values[0], percent), _value(values[-1], percent)
    if len(values) == 1:
        return f"{first} at {at.format(x[0])}"
    trend = ("stays at " + first if first == last
             else f"{'rises' if values[-1] > values[0] else 'falls'} from {first} to {last}")
    if positions_given:  # e.g. seconds of training: say where the curve ends
        trend += f" by {at.format(x[-1])}"
    if best in ("max", "min"):
        index = int(np.argmax(values) if best == "max" else np.argmin(values))
        if index != len(values) - 1 and _value(values[index], percent) != last:
            word = "highest" if best == "max" else "lowest"
            trend += f" ({word} {_value(values[index], percent)} at {at.format(x[index])})"
    return trend


def describe_series(series: Mapping[str, Sequence[float]], what: str, x=None,
                    at: str = "epoch {:g}", percent: bool | None = None,
                    best: str | None = None) -> str:
    """Describe several curves of the same quantity in one sentence.

    E.g. "Validation accuracy per epoch:
    MLP rises from 91.2% to 97.9%; CNN rises from 95.0% to 99.1% (best 99.2% at epoch 8)."

    series: name -> (N,) values; what: the quantity ("validation accuracy"); x: (N,) positions or
    name -> positions; percent: show as percentages (default: for accuracies and errors);
    best: ``"max"``/``"min"``: also name each curve's best point.
    """
    percent = _is_rate(what.lower()) if percent is None else percent
    parts = []
    for name, values in series.items():
        positions = x.get(name) if isinstance(x, Mapping) else x
        parts.append(f"{name} {describe_curve(values, percent, positions, at, best)}")
    return f"{_capital(what)}: " + "; ".join(parts) + "."


# --- learning curves ------------------------------------------------------------------------------


def plot_history(history: dict, title: str | None = None, axes=None):
    """Draw the learning curves of a ``helpers.training.fit`` history.

    Loss and accuracy per epoch, training
    vs validation, on two matplotlib ``axes`` (default: a new 1×2 figure). Returns the figure
    (describe it with :func:`describe_history`)."""
    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
    else:
        fig = axes[0].figure
    epochs = history["epoch"]
    for ax, metric, label in zip(axes, ("loss", "acc"), ("loss", "accuracy")):
        ax.plot(epochs, history[f"train_{metric}"], label="train", color=PALETTE[0])
        ax.plot(epochs, history[f"val_{metric}"], label="validation", color=PALETTE[1])
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        # whole epochs, also with 2 or 3 of them
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    losses = np.asarray(history["train_loss"] + history["val_loss"], dtype=float)
    if len(losses) and (losses > 0).all() and losses.max() / losses.min() > 100:
        axes[0].set_yscale("log")   # a loss that falls by decades: a linear axis shows a flat 0
        axes[0].set_ylabel("loss (log scale)")
    if history.get("best_epoch"):
        axes[0].axvline(history["best_epoch"], color="gray", linestyle=":",
                        label="best epoch (lowest validation loss)")
    for ax in axes:
        # below the panel: inside, the legend box can sit on the curves or the best-epoch line
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=3, frameon=False,
                  fontsize="small")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def describe_history(history: dict, name: str | None = None) -> str:
    """Describe what :func:`plot_history` shows, in one sentence from the history's numbers.

    E.g. "MLP, 10
    epochs: training loss falls from 0.52 to 0.031, validation loss falls from 0.31 to 0.082 (lowest
    0.075 at epoch 8); validation accuracy rises from 91.2% to 97.9% (highest 98.0% at epoch 8),
    training accuracy rises from 85.0% to 99.1%. The dotted line marks the best epoch (lowest
    validation loss), 8."
    ``name`` (e.g. the figure's title) starts the sentence; default "Learning curves"."""
    epochs = len(history["epoch"])
    head = f"{name or 'Learning curves'}, {epochs} epoch{'s' if epochs != 1 else ''}"
    if not epochs:
        return head + ": no epoch finished."
    loss = (f"training loss {describe_curve(history['train_loss'])}, "
            f"validation loss {describe_curve(history['val_loss'], best='min')}")
    accuracy = f"validation accuracy {describe_curve(history['val_acc'], True, best='max')}"
    if history.get("train_acc"):
        accuracy += f", training accuracy {describe_curve(history['train_acc'], True)}"
    best = (f" The dotted line marks the best epoch (lowest validation loss), "
            f"{history['best_epoch']}." if history.get("best_epoch") else "")
    if len(history["val_loss"]) and min(history["val_loss"] + history["train_loss"]) > 0 and (
            max(history["val_loss"] + history["train_loss"])
            / min(history["val_loss"] + history["train_loss"]) > 100):
        best += " The loss axis is logarithmic."
    return f"{head}: {loss}; {accuracy}.{best}"


class LiveCurves:
    """Learning curves redrawn in place after every epoch: ``fit(..., live=True)`` uses one per run.

    One figure, shown once and then replaced through its display id: JupyterLab and Colab redraw it
    where it is, and an executed notebook (nbconvert, nbval) keeps only the last version -- the
    final static figure, with :func:`describe_history`'s description of it (``self.description``).
    A redraw costs a small fraction of an epoch (``scripts/benchmark_live_curves.py``).
    Call it with the history dict after each epoch.
    """

    def __init__(self, title: str | None = None):
        self.title, self.handle, self.description = title, None, None
        self.fig, self.axes = plt.subplots(1, 2, figsize=(10, 3.5))
        # shown through the display handle only, not a second time at the end of the cell
        plt.close(self.fig)

    def __call__(self, history: dict) -> None:
        if not self.axes[0].lines:  # the first epoch: the whole figure
            plot_history(history, self.title, axes=self.axes)
        else:
            # later epochs: new data for the same lines --
            # no new legend, no new layout: a third cheaper
            for ax, metric in zip(self.axes, ("loss", "acc")):
                for line, split in zip(ax.lines, ("train", "val")):
                    line.set_data(history["epoch"], history[f"{split}_{metric}"])
                ax.relim()
                ax.autoscale_view()
            if history.get("best_epoch") and len(self.axes[0].lines) > 2:
                self.axes[0].lines[2].set_xdata([history["best_epoch"]] * 2)
        self.description = describe_history(history, self.title)
        if settings.frontend() == "script":
            # a script or a test: keep self.fig up to date, show nothing
            return
        # here, so that helpers.plotting imports without IPython
        from IPython.display import display

        data, metadata = figure_output(self.fig, self.description)
        if self.handle is None:
            self.handle = display(data, raw=True, metadata=metadata, display_id=True)
        else:
            self.handle.update(data, raw=True, metadata=metadata)


# --- 2D data and decision boundaries --------------------------------------------------------------


def plot_points(samples, labels, ax=None, title: str | None = None,
                class_names=("class 0", "class 1")):
    """Scatter plot of 2D points, (N, 2) array or tensor, coloured by their (N,) 0/1 labels.

    Returns the axes (describe them with :func:`describe_points`)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 4.5))
    samples, labels = np.asarray(samples), np.asarray(labels).reshape(-1)
    for value, (color, name) in enumerate(zip(CLASS_COLORS, class_names)):
        chosen = samples[labels == value]
        ax.scatter(chosen[:, 0], chosen[:, 1], s=8, color=color, label=name, alpha=0.8)
    ax.set_aspect("equal")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    # above the axes, under the title: inside, the legend would hide points
    # (the ring reaches every corner)
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=len(class_names), frameon=False,
              fontsize="small", borderaxespad=0.1)
    if title:
        ax.set_title(title, pad=16)
    return ax


def describe_points(samples, labels, class_names=("class 0", "class 1"), name: str | None = None,
                    axis_names=("x", "y")) -> str:
    """Describe what :func:`plot_points` shows: how many points of each class, where they lie.

    E.g. "training
    set: 400 points, 200 disc and 200 ring. disc: x from -0.99 to 0.98, y from -1 to 0.99, median
    distance from the centre 0.7; ring: ...". samples: (N, 2); labels: (N,) 0/1; axis_names: the
    coordinates' names (the distance from the centre only for ("x", "y"))."""
    samples, labels = np.asarray(samples, dtype=float), np.asarray(labels).reshape(-1)
    centre = samples.mean(axis=0)
    counts = " and ".join(f"{int((labels == value).sum())} {class_name}"
                          for value, class_name in enumerate(class_names))
    places = []
    for value, class_name in enumerate(class_names):
        chosen = samples[labels == value]
        if not len(chosen):
            continue
        ranges = ", ".join(f"{axis} from {low:.2g} to {high:.2g}" for axis, low, high
                           in zip(axis_names, chosen.min(axis=0), chosen.max(axis=0)))
        if tuple(axis_names) == ("x", "y"):  # points in the plane: how far out each class lies
            distance = np.median(np.linalg.norm(chosen - centre, axis=1))
            ranges += f", median distance from the centre {distance:.2g}"
        places.append(f"{class_name}: {ranges}")
    return f"{name or 'Points'}: {len(samples)} points, {counts}. " + "; ".join(places) + "."


def _probability_grid(probability_fn, samples, grid_size: int, margin: float):
    """Return P(class 1) over a grid covering ``samples`` (N, 2) and ``margin``.

    (grid_x, grid_y, probability), each (grid_size, grid_size).
    """
    samples = np.asarray(samples)
    low, high = samples.min(axis=0) - margin, samples.max(axis=0) + margin
    xs, ys = np.linspace(low[0], high[0], grid_size), np.linspace(low[1], high[1], grid_size)
    grid_x, grid_y = np.meshgrid(xs, ys)
    grid = torch.tensor(np.stack([grid_x.ravel(), grid_y.ravel()], axis=1), dtype=torch.float32)
    with torch.no_grad():
        probability = probability_fn(grid).reshape(grid_size, grid_size).cpu().numpy()
    return grid_x, grid_y, probability


#: P(class 1) from class 0's colour (0) through white (0.5) to class 1's colour (1): a region is
#: tinted like the points of the class predicted there (blue and orange: apart for every kind of
#: colour blindness), where a red-blue map painted the class-1 side a colour no point has
CLASS_PROBABILITY_MAP = LinearSegmentedColormap.from_list(
    "class_probability", [CLASS_COLORS[0], "#ffffff", CLASS_COLORS[1]])


def _side(mask) -> str:
    """Name where the True cells of a (rows, columns) grid lie, seen from its centre.

    For example "mostly in the upper left"; "" when they lie all around it (a ring, a disc).
    Row 0 is the bottom of the plot (``np.meshgrid`` over increasing y).
    """
    rows, cols = np.nonzero(mask)
    if len(rows) == 0:
        return ""
    size = np.array(mask.shape, dtype=float) - 1
    dy, dx = rows.mean() / size[0] - 0.5, cols.mean() / size[1] - 0.5
    if np.hypot(dx, dy) < 0.1:  # centred: around the middle, or all over the plane
        return ""
    vertical = "upper" if dy > 0 else "lower"
    horizontal = "right" if dx > 0 else "left"
    if abs(dy) < abs(dx) / 2:
        return f"mostly on the {horizontal}"
    if abs(dx) < abs(dy) / 2:
        return f"mostly in the {vertical} part"
    return f"mostly in the {vertical} {horizontal}"


def plot_decision_boundary(probability_fn: Callable[[torch.Tensor], torch.Tensor], samples, labels,
                           ax=None, title: str | None = None, grid_size: int = 200,
                           margin: float = 0.3, class_names=("class 0", "class 1")):
    """Draw a binary classifier's probability over the plane, its 0.5 boundary, and the data.

    The data (N, 2),
    labels (N,) 0/1, on top. Returns the axes (describe them with
    :func:`describe_decision_boundary`).

    ``probability_fn`` maps an (M, 2) float tensor of points (x, y) to (M,) or (M, 1) probabilities
    of class 1. Feature transforms (e.g. to polar coordinates) belong inside it, so that the
    boundary is always drawn in the original (x, y) plane.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 4.5))
    grid_x, grid_y, probability = _probability_grid(probability_fn, samples, grid_size, margin)
    filled = ax.contourf(grid_x, grid_y, probability, levels=np.linspace(0, 1, 11),
                         cmap=CLASS_PROBABILITY_MAP, alpha=0.45)
    if probability.min() < 0.5 < probability.max():  # draw the boundary only where there is one
        ax.contour(grid_x, grid_y, probability, levels=[0.5], colors="k", linewidths=1.5)
    ax.figure.colorbar(filled, ax=ax, fraction=0.046, pad=0.04, label=f"P({class_names[1]})")
    plot_points(samples, labels, ax=ax, title=title, class_names=class_names)
    return ax


def describe_decision_boundary(probability_fn, samples, labels, class_names=("class 0", "class 1"),
                               name: str | None = None, grid_size: int = 100,
                               margin: float = 0.3) -> str:
    """Describe what :func:`plot_decision_boundary` shows, from the same probabilities.

    Their range over the
    plotted plane, its share on the class-1 side of 0.5, the probability at the centre and at the
    corners, and how many of the points (N, 2) with labels (N,) 0/1 lie on their class's side."""
    _, _, probability = _probability_grid(probability_fn, samples, grid_size, margin)
    points = torch.as_tensor(np.asarray(samples), dtype=torch.float32)
    with torch.no_grad():
        predicted = probability_fn(points).reshape(-1).cpu().numpy() > 0.5
    correct = float(np.mean(predicted == (np.asarray(labels).reshape(-1) > 0.5)))
    middle = probability[grid_size // 2, grid_size // 2]
    corners = probability[[0, 0, -1, -1], [0, -1, 0, -1]].mean()
    positive = f"P({class_names[1]})"
    boundary = ("a 0.5 boundary, drawn in black" if probability.min() < 0.5 < probability.max()
                else "no 0.5 boundary anywhere in view")
    side = _side(probability > 0.5)
    where = f" ({side})" if side else ""
    return (f"{name or 'Decision boundary'}: {positive} from {probability.min():.2f} to "
            f"{probability.max():.2f} over the plotted plane ({boundary}); {class_names[1]} is "
            f"predicted on {np.mean(probability > 0.5):.0%} of it{where}; {positive} is "
            f"{middle:.2f} at "
            f"the centre and {corners:.2f} at the corners on average. {correct:.1%} of the "
            f"{len(points)} points shown lie on their class's side.")


# --- images and predictions -----------------------------------------------------------------------


def _labels_text(labels, limit: int = 20) -> str:
    labels = [str(int(label)) if not isinstance(label, str) else label for label in labels]
    shown = ", ".join(labels[:limit])
    return shown + (f" and {len(labels) - limit} more" if len(labels) > limit else "")


def describe_images(labels, what: str = "Images") -> str:
    """Describe a grid of labelled images in words.

    E.g. "The first 20 training images, labelled 5, 0, 4,
    1, ...". labels: (N,) the labels shown, in the grid's order (row by row)."""
    labels = np.asarray(labels).reshape(-1).tolist() if not isinstance(labels, list) else labels
    return f"{_capital(what)}, labelled {_labels_text(labels)}."


def describe_predictions(true, predicted, what: str = "Images", confidence=None) -> str:
    """Describe a grid of images with their true and predicted labels.

    E.g. "The first 16 test images: 15
    of 16 predicted correctly; wrong: 4 taken for 9 (p = 0.63)". true, predicted: (N,) labels in
    the grid's order; confidence: (N,) the probability given to each predicted label, or None."""
    true, predicted = np.asarray(true).reshape(-1), np.asarray(predicted).reshape(-1)
    wrong = np.flatnonzero(true != predicted)
    mistakes = [f"{true[i]} taken for {predicted[i]}"
                + (f" (p = {float(confidence[i]):.2f})" if confidence is not None else "")
                for i in wrong[:12]]
    more = f" and {len(wrong) - 12} more" if len(wrong) > 12 else ""
    text = f"{_capital(what)}: {len(true) - len(wrong)} of {len(true)} predicted correctly"
    return text + (f"; wrong: {', '.join(mistakes)}{more}." if len(wrong) else ".")


def describe_confusion_matrix(matrix, what: str = "test images", class_names=None,
                              top: int = 3) -> str:
    """Describe a confusion matrix (C, C) in words (rows: true class, columns: predicted).

    How many on the
    diagonal and the ``top`` most frequent confusions, e.g. "Confusion matrix of 10,000 test images:
    9,912 (99.1%) predicted correctly; most frequent confusions: 4 taken for 9 (7 times), ..."."""
    matrix = np.asarray(matrix)
    names = class_names or [str(i) for i in range(len(matrix))]
    total, correct = int(matrix.sum()), int(np.trace(matrix))
    off_diagonal = matrix - np.diag(np.diag(matrix))
    order = np.argsort(off_diagonal, axis=None)[::-1][:top]
    confusions = [f"{names[i]} taken for {names[j]} ({_times(off_diagonal[i, j])})"
                  for i, j in zip(*np.unravel_index(order, matrix.shape)) if off_diagonal[i, j] > 0]
    text = (f"Confusion matrix of {total:,} {what} (rows: true class, columns: predicted): "
            f"{correct:,} ({correct / max(total, 1):.1%}) predicted correctly")
    return text + (f"; most frequent confusions: {', '.join(confusions)}." if confusions else ".")


# --- runs over seeds and per-batch losses (notebook 05's experiments) -----------------------------


def plot_seed_band(ax, results: list[dict], metric: str, label: str, x=None, **style):
    """Draw the mean over seeds of a per-epoch metric (e.g. ``"val_acc"``) with its min-max band.

    ``x``: positions of the epochs (default: epoch numbers). Returns the line.
    """
    values = np.array([result["history"][metric] for result in results])
    x = np.asarray(results[0]["history"]["epoch"]) if x is None else x
    line, = ax.plot(x, values.mean(axis=0), label=label, **style)
    ax.fill_between(x, values.min(axis=0), values.max(axis=0), color=line.get_color(), alpha=0.2)
    return line


def describe_seed_bands(runs: dict[str, list[dict]], metric: str, what: str | None = None, x=None,
                        at: str = "epoch {:g}") -> str:
    """Describe what :func:`plot_seed_band` draws for each of ``runs`` (name -> runs over seeds).

    The mean curve of ``metric`` (e.g. ``"val_acc"``) and the widest min-max spread over the seeds;
    ``x``: name -> positions of the epochs (default: epoch numbers), written with ``at``.
    """
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
    """Describe the test accuracies of ``runs`` (name -> runs over seeds), as a dot per seed shows.

    E.g. "Test accuracy over 3 seeds, mean (lowest to highest): 2 layers 97.1% (96.9% to
    97.3%); ...".
    """
    parts = []
    for name, results in runs.items():
        accuracy = np.array([result["test_acc"] for result in results])
        parts.append(f"{name} {accuracy.mean():.2%} ({accuracy.min():.2%} to {accuracy.max():.2%})")
    seeds = len(next(iter(runs.values())))
    return f"Test accuracy over {seeds} seeds, mean (lowest to highest): " + "; ".join(parts) + "."


def plot_loss_and_accuracy(runs: dict[str, dict], title: str | None = None):
    """Draw the training loss and the validation accuracy per epoch of several runs, side by side.

    Returns the two axes.
    """
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
    """Describe what :func:`plot_loss_and_accuracy` shows: each run's curves per epoch."""
    histories = {name: result["history"] for name, result in runs.items()}
    head = f"{title}. " if title else ""
    losses = {name: history["train_loss"] for name, history in histories.items()}
    accuracies = {name: history["val_acc"] for name, history in histories.items()}
    return (head + describe_series(losses, "training loss per epoch") + " "
            + describe_series(accuracies, "validation accuracy per epoch", best="max"))


def plot_batch_losses(runs: dict[str, dict], title: str, ax=None):
    """Draw the per-batch training loss (faint) of runs and its 20-batch moving average.

    The runs carry ``"batch_losses"`` and ``"batches_per_epoch"``; x in epochs, log scale. Returns
    the axes.
    """
    from helpers.stats import smooth

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
    """Describe what :func:`plot_batch_losses` shows, per run.

    How its 20-batch moving average goes, its highest single batch loss and how many spikes
    ``helpers.stats.find_spikes`` finds.
    """
    from helpers.stats import find_spikes, smooth

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


def _seed_values(results: list[dict], key: str) -> np.ndarray:
    """Return ``key`` of several runs (one per seed) as an array (n_runs,)."""
    return np.array([result[key] for result in results], dtype=float)


def plot_paired_seeds(ax, runs: dict[str, list[dict]], key: str = "val_acc", scale: float = 100):
    """Draw one dot per seed and variant, the dots of the same seed joined by a grey line.

    The runs are paired by seed; the mean of each variant is a black bar.
    """
    names = list(runs)
    table = np.array([_seed_values(runs[name], key) * scale for name in names])  # (variants, seeds)
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
    """Describe what :func:`plot_paired_seeds` shows: each variant's values by seed and their mean.

    ``percent``: written as percentages, else with three significant digits.
    """
    form = "{:.2%}" if percent else "{:.3g}"
    parts = [f"{name} " + ", ".join(form.format(value) for value in _seed_values(results, key))
             + f" (mean {form.format(_seed_values(results, key).mean())})"
             for name, results in runs.items()]
    seeds = len(next(iter(runs.values())))
    return (f"One dot per seed, dots of the same seed joined; {what} over {seeds} seeds: "
            + "; ".join(parts) + ".")
