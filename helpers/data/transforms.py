"""Feature transforms, normalisation and splits used by more than one notebook."""

from __future__ import annotations

import math

import numpy as np
import torch
from torch.nn import functional as F


def polar_features(points: torch.Tensor) -> torch.Tensor:
    """Cartesian (x, y) -> polar (r, φ).

    Args:
        points: (N, 2) tensor of x, y coordinates.
    Returns:
        (N, 2) tensor: r = sqrt(x² + y²) and φ = atan2(y, x) in (-π, π].
    """
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"polar_features expects an (N, 2) tensor of points, got shape {tuple(points.shape)}")
    x, y = points[:, 0], points[:, 1]
    return torch.stack([torch.sqrt(x**2 + y**2), torch.atan2(y, x)], dim=1)


def random_affine(pixels: torch.Tensor, degrees: float = 20.0, scale: float = 0.2, shear: float = 0.3,
                  shift: float = 1.0, ink: float = 0.3) -> torch.Tensor:
    """Randomly rotate, scale, shear, shift and lighten/darken each 8x8 digit of a batch on its own.

    Written out and explained in notebook 02; this copy is for scripts and later notebooks.

    Args:
        pixels: (N, 64) images in [0, 1], each an 8x8 image read row by row.
        degrees, scale, shear, ink: largest rotation (degrees), relative zoom, shear factor and relative
            change of ink; each amount is drawn uniformly in [-max, max] per image.
        shift: largest shift in pixels, per direction.
    Returns:
        (N, 64) tensor in [0, 1]. Draws from PyTorch's global generator (seed it for repeatable runs).
    """
    if pixels.ndim != 2 or pixels.shape[1] != 64:
        raise ValueError(f"random_affine expects (N, 64) batches of 8x8 images, got shape {tuple(pixels.shape)}")
    n = pixels.shape[0]
    images = pixels.reshape(n, 1, 8, 8)

    def uniform(limit, *size):
        return (torch.rand(n, *size) * 2 - 1) * limit

    angle, zoom, skew = uniform(math.radians(degrees)), 1 + uniform(scale), uniform(shear)
    cos, sin = torch.cos(angle), torch.sin(angle)
    # theta maps each output position to where it is read from, in coordinates -1..1 (8 pixels = 2 units)
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0], theta[:, 0, 1] = cos / zoom, (skew * cos - sin) / zoom
    theta[:, 1, 0], theta[:, 1, 1] = sin / zoom, (skew * sin + cos) / zoom
    theta[:, :, 2] = uniform(shift * 2 / 8, 2)
    grid = F.affine_grid(theta, images.shape, align_corners=False)
    moved = F.grid_sample(images, grid, align_corners=False).reshape(n, 64)
    return (moved * (1 + uniform(ink, 1))).clamp(0, 1)


def standardization_stats(features: torch.Tensor, dim: int | tuple[int, ...] = 0):
    """Mean and standard deviation of ``features`` over ``dim`` (compute them on training data only).

    Returns:
        (mean, std) with the reduced dims kept (so they broadcast against ``features``);
        a std of 0 is replaced by 1 so that constant features do not divide by zero.
    """
    mean = features.mean(dim=dim, keepdim=True)
    std = features.std(dim=dim, keepdim=True)
    return mean, torch.where(std > 0, std, torch.ones_like(std))


def standardize(features: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """(features - mean) / std, with statistics from :func:`standardization_stats`."""
    return (features - mean) / std


def stratified_split(labels, fraction: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Split indices ``0..N-1`` into two disjoint sets with the same class proportions.

    Args:
        labels: (N,) integer class labels (array or tensor).
        fraction: share of each class that goes to the second (held-out) set, 0 < fraction < 1.
        seed: seed of the shuffle, so the split is the same every run.
    Returns:
        (kept_indices, held_out_indices), each sorted, disjoint, covering 0..N-1.
    """
    from sklearn.model_selection import train_test_split

    labels = np.asarray(labels)
    kept, held_out = train_test_split(
        np.arange(len(labels)), test_size=fraction, stratify=labels, random_state=seed
    )
    return np.sort(kept), np.sort(held_out)
