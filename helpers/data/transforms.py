"""Feature transforms, normalisation and splits used by more than one notebook."""

from __future__ import annotations

import numpy as np
import torch


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
