"""Notebook 01's playground (TensorFlow Playground in a notebook): retrain a 2D classifier, redraw.

The notebook wires ipywidgets to :meth:`Playground.show`; everything here runs headless (tests,
scripts). Full-batch training on 600 points and one figure redrawn in place (not a new one per
change) keep a change well under a second from click to new figure
(scripts/benchmark_playground_browser.py measures it in JupyterLab).
"""

from __future__ import annotations

import io

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.colors import BoundaryNorm
from matplotlib.ticker import FuncFormatter, LogLocator, NullLocator, ScalarFormatter
from torch import nn

from helpers.data import make_rings, polar_features
from helpers.models import MLP
from helpers.plotting import CLASS_COLORS, CLASS_PROBABILITY_MAP, describe_curve, png_output

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}
#: input features from (N, 2) points (x, y) -> (N, D)
FEATURES = {"x, y": lambda p: p, "r, φ": polar_features,
            "both": lambda p: torch.cat([p, polar_features(p)], dim=1)}


def noisy_rings(n: int = 600, noise: float = 0.1,
                seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Notebook 01's disc-in-a-ring points with Gaussian noise (std ``noise``) added to x and y.

    Returns (n, 2) float32 points and (n,) float32 0/1 labels.
    """
    samples, labels = make_rings(n, seed)
    jitter = np.random.default_rng(seed + 1).normal(0.0, noise, samples.shape)
    samples = samples + jitter.astype(np.float32)
    return torch.from_numpy(samples), torch.from_numpy(labels).float()


def _adam(parameters, lr: float) -> torch.optim.Adam:
    """Return Adam, fused into one kernel per step where this PyTorch has it on the CPU (2.4+).

    For tensors this small the per-tensor overhead is most of the time. The same updates either
    way."""
    parameters = list(parameters)
    try:
        return torch.optim.Adam(parameters, lr=lr, fused=True)
    except (RuntimeError, TypeError):
        return torch.optim.Adam(parameters, lr=lr, foreach=False)


def train_2d_classifier(samples, labels, features: str = "x, y", hidden=(8, 8),
                        activation: str = "relu", lr: float = 0.03, epochs: int = 200,
                        seed: int = 0):
    """Train an MLP (no hidden layer: a linear model) with full-batch Adam, one step per epoch.

    Args:
        samples: (N, 2) points (x, y); labels: (N,) 0/1 floats.
        features: a key of ``FEATURES``; hidden: units per hidden layer.
    Returns:
        probability: maps (M, 2) points (x, y) to (M,) P(class 1) -- the feature transform is
            inside, so the boundary is drawn in the (x, y) plane; losses: the training loss of each
            epoch.
    """
    transform = FEATURES[features]
    inputs = transform(samples)                                        # (N, D)
    torch.manual_seed(seed)
    model = MLP([inputs.shape[1], *hidden, 1], activation=ACTIVATIONS[activation])
    optimizer = _adam(model.parameters(), lr)
    loss_fn = nn.BCEWithLogitsLoss()
    losses, threads = [], torch.get_num_threads()
    # tensors this small: more threads only wait for each other (10x slower on a busy CPU)
    torch.set_num_threads(1)
    try:
        for _ in range(epochs):
            optimizer.zero_grad()
            loss = loss_fn(model(inputs).squeeze(1), labels)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    finally:
        torch.set_num_threads(threads)
    model.eval()
    return (lambda points: torch.sigmoid(model(transform(points))).squeeze(1)), losses


CLASS_NAMES = ("disc", "ring")


def _plain_number(value, _position=None) -> str:
    return f"{value:g}"  # 0.02, 0.5, 1 -- not 2e-02 or 10^-1


def set_loss_scale(ax, losses) -> None:
    """Give the loss axis a log scale when the loss falls by more than a factor 3, else linear.

    The log scale keeps the slow late part visible,
    labelled with plain numbers at 1, 2, 5 × 10^k; a linear one for a narrow range (a log axis would
    have no decade in view to label)."""
    low, high = min(losses), max(losses)
    if high > 3 * low > 0:
        ax.set_yscale("log")
        ax.set_ylabel("training loss (log scale)")
        ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0), numticks=30))
        ax.yaxis.set_major_formatter(FuncFormatter(_plain_number))
        # unlabelled minor ticks: clutter, and costly to draw
        ax.yaxis.set_minor_locator(NullLocator())
    else:
        ax.set_yscale("linear")
        ax.set_ylabel("training loss")
        ax.yaxis.set_major_formatter(ScalarFormatter(useOffset=False))


class Playground:
    """One figure (decision boundary, loss per epoch) redrawn in place for new settings.

    Redrawing the same figure skips building axes, colour bar and legend at every change; the
    boundary is an image of P(ring) over a grid (cheaper to draw than filled contours) with the 0.5
    contour on top.
    """

    def __init__(self, seed: int = 0, grid_size: int = 80):
        self.seed, self.grid_size = seed, grid_size
        self.fig, (self.ax_plane, self.ax_loss) = plt.subplots(
            1, 2, figsize=(9, 3.8), gridspec_kw={"width_ratios": [1.2, 1]})
        # shown as a PNG by show(), never by the inline backend at the end of a cell
        plt.close(self.fig)
        self.fig.subplots_adjust(left=0.07, right=0.98, bottom=0.13, top=0.84, wspace=0.55)
        self.image = self.ax_plane.imshow(np.full((2, 2), 0.5), origin="lower",
                                          cmap=CLASS_PROBABILITY_MAP, alpha=0.45,
                                          norm=BoundaryNorm(np.linspace(0, 1, 11), 256),
                                          aspect="auto", interpolation="bilinear")
        colorbar = self.fig.colorbar(self.image, ax=self.ax_plane, fraction=0.046, pad=0.04,
                                     label=f"P({CLASS_NAMES[1]})")
        colorbar.set_ticks(np.linspace(0, 1, 6))
        colorbar.minorticks_off()
        self.points = [self.ax_plane.scatter(np.zeros(0), np.zeros(0), s=8, color=color,
                                             label=name, alpha=0.8)
                       for color, name in zip(CLASS_COLORS, CLASS_NAMES)]
        # above the plane, not over the points
        self.ax_plane.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, frameon=False,
                             fontsize="small", borderaxespad=0.1)
        self.ax_plane.set(xlabel="x", ylabel="y")
        self.boundary, self.description = None, None
        (self.loss_line,) = self.ax_loss.plot([], [], color=CLASS_COLORS[0])
        self.ax_loss.set(xlabel="epoch (one full-batch step)", ylabel="training loss")
        self.ax_loss.grid(alpha=0.3)

    def figure(self, hidden_layers: int = 2, units: int = 8, activation: str = "relu",
               features: str = "x, y", lr: float = 0.03, epochs: int = 200, noise: float = 0.1):
        """Retrain with these settings and redraw; returns the (same) matplotlib figure."""
        samples, labels = noisy_rings(noise=noise, seed=self.seed)
        probability, losses = train_2d_classifier(samples, labels, features,
                                                  [units] * hidden_layers, activation, lr, epochs,
                                                  self.seed)
        points = samples.numpy()
        low, high = points.min(axis=0) - 0.3, points.max(axis=0) + 0.3
        grid_x, grid_y = np.meshgrid(np.linspace(low[0], high[0], self.grid_size),
                                     np.linspace(low[1], high[1], self.grid_size))
        grid = np.stack([grid_x.ravel(), grid_y.ravel()], axis=1).astype(np.float32)
        grid = torch.from_numpy(grid)
        with torch.no_grad():
            # (grid, grid)
            surface = probability(grid).reshape(self.grid_size, self.grid_size).numpy()
            accuracy = ((probability(samples) > 0.5).float() == labels).float().mean().item()
        self.image.set_data(surface)
        self.image.set_extent((low[0], high[0], low[1], high[1]))
        if self.boundary is not None:
            self.boundary.remove()
            self.boundary = None
        if surface.min() < 0.5 < surface.max():  # draw the boundary only where there is one
            self.boundary = self.ax_plane.contour(grid_x, grid_y, surface, levels=[0.5], colors="k",
                                                  linewidths=1.5)
        for value, scatter in enumerate(self.points):
            scatter.set_offsets(points[labels.numpy() == value])
        self.ax_plane.set(xlim=(low[0], high[0]), ylim=(low[1], high[1]))
        title = (f"{hidden_layers}×{units} {activation} on ({features}): "
                 f"training accuracy {accuracy:.1%}")
        self.ax_plane.set_title(title, pad=16)
        self.loss_line.set_data(np.arange(1, epochs + 1), losses)
        set_loss_scale(self.ax_loss, losses)
        self.ax_loss.relim()
        self.ax_loss.autoscale_view()
        centre = surface[self.grid_size // 2, self.grid_size // 2]
        self.description = (   # the figure in words: its alt text
            f"{title}, after {epochs} full-batch steps at learning rate {lr:g} on {len(points)} "
            f"points with noise {noise:g}. P({CLASS_NAMES[1]}) goes from {surface.min():.2f} to "
            f"{surface.max():.2f} over the plane, {CLASS_NAMES[1]} predicted on "
            f"{np.mean(surface > 0.5):.0%} of it, {centre:.2f} at the centre. The training loss "
            f"({'log' if self.ax_loss.get_yscale() == 'log' else 'linear'} scale) "
            f"{describe_curve(losses, at='step {:g}')}.")
        return self.fig

    def png(self, **settings) -> bytes:
        """Return the figure for ``settings`` as PNG bytes.

        Fixed margins (no tight bounding box: that
        draws the figure twice) and light compression -- the picture goes to a browser on the same
        machine."""
        buffer = io.BytesIO()
        self.figure(**settings).savefig(buffer, format="png", pil_kwargs={"compress_level": 1})
        return buffer.getvalue()

    def show(self, hidden_layers: int = 2, units: int = 8, activation: str = "relu",
             features: str = "x, y", lr: float = 0.03, epochs: int = 200,
             noise: float = 0.1) -> None:
        """Retrain, redraw and display the figure (the function that the notebook's controls call).

        It is described in words (``self.description``: the image's alt text and plain-text
        form).
        """
        from IPython.display import display  # here: the rest of this module runs without IPython

        png = self.png(hidden_layers=hidden_layers, units=units, activation=activation,
                       features=features, lr=lr, epochs=epochs, noise=noise)
        data, metadata = png_output(png, self.description)
        display(data, raw=True, metadata=metadata)

