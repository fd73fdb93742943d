"""scikit-learn's 8x8 handwritten digits (notebook 02): 1797 grey images of the digits 0-9.

They ship inside scikit-learn (``sklearn.datasets.load_digits``: nothing to download).

The rows are split **in their stored order** -- no shuffle -- into train: rows 0-999 (1000 images),
val: rows 1000-1349 (350) and test: rows 1350-1796 (447), so every run, every machine and every
student sees the same three sets. Each image is a vector of 64 pixels (row by row), scaled from the
stored counts 0..16 to [0, 1]; the label is the digit as an int64.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

DIGITS_SOURCE = "scikit-learn load_digits"
#: split name -> (first row, one past the last row) in load_digits' order.
DIGITS_SPLITS = {"train": (0, 1000), "val": (1000, 1350), "test": (1350, 1797)}
# stored pixel values are counts 0..16 (on-pixels in 4x4 blocks of a 32x32 bitmap)
DIGITS_MAX_COUNT = 16.0


@lru_cache(maxsize=1)
def _all_digits() -> tuple[np.ndarray, np.ndarray]:
    """All 1797 rows of load_digits: (1797, 64) float32 in [0, 1] and (1797,) int64. Read once."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    pixels = (bunch.data / DIGITS_MAX_COUNT).astype(np.float32)
    labels = bunch.target.astype(np.int64)
    pixels.setflags(write=False)  # cached and shared: nobody may change it in place
    labels.setflags(write=False)
    return pixels, labels


def digits_rows(split: str) -> range:
    """The rows of load_digits that make up ``split`` (``"train"``, ``"val"`` or ``"test"``)."""
    if split not in DIGITS_SPLITS:
        raise ValueError(f"split must be one of {list(DIGITS_SPLITS)}, got {split!r}")
    return range(*DIGITS_SPLITS[split])


def load_digits_split(split: str) -> tuple[np.ndarray, np.ndarray]:
    """Return one split of the digits as NumPy arrays (pixels, labels), in load_digits' order.

    Pixels (N, 64) float32 in [0, 1], each row an 8x8 image read row by row, and labels (N,) int64;
    N is 1000 (train), 350 (val) or 447 (test).
    """
    rows = digits_rows(split)
    pixels, labels = _all_digits()
    return pixels[rows.start:rows.stop].copy(), labels[rows.start:rows.stop].copy()


class DigitsDataset(Dataset):
    """One split (``"train"``, ``"val"`` or ``"test"``) of the 8x8 digits as a PyTorch ``Dataset``.

    ``limit`` keeps only its first images (smoke runs).

    Item i: ``(pixels, label)`` with ``pixels`` a (64,) float32 tensor in [0, 1] (reshape to
    (1, 8, 8) to see it as an image) and ``label`` a 0-dim int64 tensor -- so a batch is (B, 64) and
    (B,), what ``nn.NLLLoss`` and ``nn.CrossEntropyLoss`` expect. ``rows``: the load_digits rows
    used.
    """

    def __init__(self, split: str, limit: int | None = None):
        pixels, labels = load_digits_split(split)
        rows = digits_rows(split)
        if limit is not None:
            if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
                raise ValueError("limit must be a positive whole number of images (or None), got "
                                 f"{limit!r}")
            pixels, labels, rows = pixels[:limit], labels[:limit], rows[:limit]
        self.split, self.rows = split, rows
        self.pixels, self.labels = torch.from_numpy(pixels), torch.from_numpy(labels)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i):
        return self.pixels[i], self.labels[i]

    def describe(self) -> str:
        """Say where the images come from.

        For example ``test set: 447 images of scikit-learn load_digits (rows 1350-1796)``.
        """
        name = {"train": "training", "val": "validation", "test": "test"}[self.split]
        return (f"{name} set: {len(self)} images of {DIGITS_SOURCE} "
                f"(rows {self.rows.start}-{self.rows.stop - 1})")


def digits_loaders(batch_size: int = 32, limit: int | None = None) -> dict[str, DataLoader]:
    """Return a DataLoader over :class:`DigitsDataset` for each split: train, val and test.

    ``limit`` is passed to each; batches are (B, 64) float32 pixels and (B,) int64 labels. Only the
    training loader shuffles, ``batch_size`` at a time, with PyTorch's global generator (seed it
    first, e.g. with ``helpers.training.seed_everything``); validation and test come in one batch
    each, in order.
    """
    datasets = {split: DigitsDataset(split, limit) for split in DIGITS_SPLITS}
    return {split: DataLoader(dataset, batch_size=batch_size if split == "train" else len(dataset),
                              shuffle=split == "train")
            for split, dataset in datasets.items()}
