"""The 2D toy task of notebook 01: an inner disc (class 0) inside an outer ring (class 1).

No straight line separates the two classes in (x, y), but the radius r = sqrt(x² + y²) does,
which is the whole point of the notebook.

The shipped files ``data/2d/train.npz`` and ``data/2d/val.npz`` are made by::

    python -m helpers.data rings          # rewrites data/2d/{train,val}.npz (seeded, byte-stable)

Each file holds ``samples`` (N×2 float32) and ``annotations`` (N int64, 0 = disc, 1 = ring).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from helpers.settings import REPO_DATA_DIR, data_root

RINGS_DIR = REPO_DATA_DIR / "2d"
#: split name -> (number of points, seed). The seeds differ so the splits are independent draws.
RINGS_SPLITS = {"train": (1000, 0), "val": (500, 1)}

DISC_RADIUS = 1.0  # class 0: uniform over the disc r <= 1
RING_RADII = (1.5, 2.5)  # class 1: uniform over the annulus 1.5 <= r <= 2.5


def make_rings(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``n`` points, half in the inner disc (label 0), half in the outer ring (label 1).

    Points are uniform *by area* (radius drawn as the square root of a uniform), so the
    disc does not look crowded at its centre. A gap of 0.5 between the classes makes the
    task perfectly separable by radius.

    Returns:
        samples: (n, 2) float32, shuffled.
        annotations: (n,) int64 in {0, 1}, exactly n // 2 ones.
    """
    rng = np.random.default_rng(seed)
    n_ring, n_disc = n // 2, n - n // 2
    r_disc = DISC_RADIUS * np.sqrt(rng.uniform(0.0, 1.0, n_disc))
    r_ring = np.sqrt(rng.uniform(RING_RADII[0] ** 2, RING_RADII[1] ** 2, n_ring))
    radius = np.concatenate([r_disc, r_ring])
    angle = rng.uniform(-np.pi, np.pi, n)
    samples = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
    annotations = np.concatenate([np.zeros(n_disc, np.int64), np.ones(n_ring, np.int64)])
    order = rng.permutation(n)
    return samples[order].astype(np.float32), annotations[order]


def save_rings(folder: str | Path = RINGS_DIR) -> list[Path]:
    """(Re)write ``train.npz`` and ``val.npz`` in ``folder``; returns the paths written."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for split, (n, seed) in RINGS_SPLITS.items():
        samples, annotations = make_rings(n, seed)
        path = folder / f"{split}.npz"
        np.savez(path, samples=samples, annotations=annotations)
        written.append(path)
    return written


def rings_path(split: str) -> Path:
    """Path of the shipped ``<split>.npz`` file.

    In a checkout that is ``data/2d/<split>.npz``. When ``helpers`` was installed without the
    repository (e.g. in Colab) the file is regenerated from the seeded generator into
    ``<data root>/2d/`` -- the same points, so the notebook's numbers do not change.
    """
    if split not in RINGS_SPLITS:
        raise ValueError(f"split must be one of {sorted(RINGS_SPLITS)}, got {split!r}")
    path = RINGS_DIR / f"{split}.npz"
    if not path.is_file():
        path = data_root() / "2d" / f"{split}.npz"
        if not path.is_file():
            save_rings(path.parent)
    return path

