"""Notebook 01's playground (TensorFlow Playground in a notebook): retrain a small 2D classifier and redraw.

The notebook wires ipywidgets to :func:`playground_figure`; everything here runs headless (tests, scripts).
Full-batch training on ~600 points keeps one retrain + redraw well under a second on a 2-core CPU.
"""

from __future__ import annotations

import os
import sys

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import LogFormatter
import torch
from torch import nn

from helpers.data import make_rings, polar_features
from helpers.models import MLP
from helpers.plotting import plot_decision_boundary

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}
#: input features from (N, 2) points (x, y) -> (N, D)
FEATURES = {"x, y": lambda p: p, "r, φ": polar_features,
            "both": lambda p: torch.cat([p, polar_features(p)], dim=1)}


def widget_frontend() -> bool:
    """True where ipywidgets render live: a kernel of Jupyter Server (JupyterLab, Notebook: it sets
    $JPY_SESSION_NAME) or Colab; ``HELPERS_WIDGETS=1``/``0`` overrides (e.g. VS Code). nbconvert and nbval start
    kernels without a session, so there the notebook stores a static figure, not a widget nobody can render."""
    if os.environ.get("HELPERS_WIDGETS", "").strip():
        return os.environ["HELPERS_WIDGETS"].strip() == "1"
    return "JPY_SESSION_NAME" in os.environ or "google.colab" in sys.modules


def noisy_rings(n: int = 600, noise: float = 0.1, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Notebook 01's disc-in-a-ring points with Gaussian noise (std ``noise``) added to x and y.

    Returns (n, 2) float32 points and (n,) float32 0/1 labels.
    """
    samples, labels = make_rings(n, seed)
    samples = samples + np.random.default_rng(seed + 1).normal(0.0, noise, samples.shape).astype(np.float32)
    return torch.from_numpy(samples), torch.from_numpy(labels).float()


def train_2d_classifier(samples, labels, features: str = "x, y", hidden=(8, 8), activation: str = "relu",
                        lr: float = 0.03, epochs: int = 200, seed: int = 0):
    """Train an MLP (no hidden layer: a linear model) with full-batch Adam, one step per epoch.

    Args:
        samples: (N, 2) points (x, y); labels: (N,) 0/1 floats.
        features: a key of ``FEATURES``; hidden: units per hidden layer.
    Returns:
        probability: maps (M, 2) points (x, y) to (M,) P(class 1) -- the feature transform is inside,
            so the boundary is drawn in the (x, y) plane; losses: the training loss of each epoch.
    """
    transform = FEATURES[features]
    inputs = transform(samples)                                        # (N, D)
    torch.manual_seed(seed)
    model = MLP([inputs.shape[1], *hidden, 1], activation=ACTIVATIONS[activation])
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, foreach=False)  # per-tensor loop: faster for 6 tiny tensors
    loss_fn = nn.BCEWithLogitsLoss()
    losses, threads = [], torch.get_num_threads()
    torch.set_num_threads(1)  # tensors this small: more threads only wait for each other (10x slower on a busy CPU)
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


def playground_figure(hidden_layers: int = 2, units: int = 8, activation: str = "relu", features: str = "x, y",
                      lr: float = 0.03, epochs: int = 200, noise: float = 0.1, seed: int = 0):
    """Retrain with these settings; return a figure: decision boundary (left) and loss per epoch (right)."""
    samples, labels = noisy_rings(noise=noise, seed=seed)
    probability, losses = train_2d_classifier(samples, labels, features, [units] * hidden_layers, activation,
                                              lr, epochs, seed)
    with torch.no_grad():
        accuracy = ((probability(samples) > 0.5).float() == labels).float().mean().item()
    # fixed margins instead of tight_layout (which draws the figure once more): every redraw counts here
    fig, (ax_plane, ax_loss) = plt.subplots(1, 2, figsize=(9, 3.8), gridspec_kw={"width_ratios": [1.2, 1]})
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.13, top=0.92, wspace=0.55)
    title = f"{hidden_layers}×{units} {activation} on ({features}): training accuracy {accuracy:.1%}"
    plot_decision_boundary(probability, samples, labels, ax=ax_plane, grid_size=60, title=title)  # 60²: smooth enough
    ax_loss.plot(range(1, epochs + 1), losses)
    ax_loss.set(xlabel="epoch (one full-batch step)", ylabel="training loss", yscale="log")
    # plain-text tick labels: typesetting the default 10^k labels took a quarter of every redraw
    ax_loss.yaxis.set_major_formatter(LogFormatter())
    ax_loss.yaxis.set_minor_formatter(LogFormatter(labelOnlyBase=False))
    ax_loss.grid(alpha=0.3)  # major lines only: minor log-scale grid lines cost more to draw than the rest
    return fig
