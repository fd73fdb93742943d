"""Splits shared by the datasets: stratified held-out sets, class-balanced subsets, ``Splits``.

:class:`Splits` (with the :class:`Provenance` of its files) is what ``load_mnist_splits`` and
``load_svhn_splits`` both return.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import ClassVar

import numpy as np
import torch


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


def balanced_subset(labels: torch.Tensor, per_class: int, seed: int = 0) -> torch.Tensor:
    """Indices of ``per_class`` randomly chosen items of every class, in their original order.

    Args:
        labels: (N,) integer class labels.
    Returns:
        (n_classes · per_class,) int64 indices into ``labels``, sorted.
    """
    generator = torch.Generator().manual_seed(seed)
    chosen = []
    for label in torch.unique(labels):
        members = torch.nonzero(labels == label).squeeze(1)
        if len(members) < per_class:
            raise ValueError(f"class {int(label)} has only {len(members)} items, fewer than "
                             f"per_class={per_class}")
        chosen.append(members[torch.randperm(len(members), generator=generator)[:per_class]])
    return torch.sort(torch.cat(chosen)).values


class Provenance(Enum):
    """Where a dataset's files come from.

    Every name and description of the data is derived from it (:attr:`Splits.label`,
    :attr:`Splits.source`), so a result is never shown as another's.
    """

    OFFICIAL = "official"    # the official files, checksums verified
    SAMPLE = "sample"        # the official format, other checksums: e.g. a course's sample
    SYNTHETIC = "synthetic"  # a stand-in written by write_synthetic_mnist / write_synthetic_svhn

    def label(self, dataset: str) -> str:
        """Return the name printed beside every number, e.g. "official SVHN" or "SVHN sample".

        The third is "SYNTHETIC SVHN".
        """
        return {"official": f"official {dataset}", "sample": f"{dataset} sample",
                "synthetic": f"SYNTHETIC {dataset}"}[self.value]


@dataclass
class Splits:
    """A dataset cut for training: training and validation tensors from its training file, test set.

    Images (N, C, H, W) float32, normalised; labels (N,) int64. ``train_indices``/``val_indices``:
    positions of those images in the training file (disjoint, stratified by class). ``provenance``
    and ``folder`` (as shown, relative to the repository): which data, from where. The test set
    comes from ``load_test()``: call it once, for the final evaluation, after every choice is made.
    """

    train_images: torch.Tensor
    train_labels: torch.Tensor
    val_images: torch.Tensor
    val_labels: torch.Tensor
    train_indices: torch.Tensor
    val_indices: torch.Tensor
    provenance: Provenance
    folder: str
    test_loaded: bool = field(default=False, init=False)
    dataset: ClassVar[str] = "data"          # its name: "MNIST", "SVHN"
    real_content: ClassVar[str] = "images"   # what the official files hold: "digits", "photos"

    @property
    def label(self) -> str:
        """"official SVHN", "SVHN sample" or "SYNTHETIC SVHN": printed beside every number."""
        return self.provenance.label(self.dataset)

    @property
    def source(self) -> str:
        """Which data, in words, e.g. "official MNIST (checksums verified) from data/MNIST/raw"."""
        name, kind = self.dataset, self.provenance
        if kind is Provenance.OFFICIAL:
            what = f"official {name} (checksums verified)"
        elif kind is Provenance.SAMPLE:
            what = (f"{name} sample: {name}-format files whose checksums are NOT the official ones "
                    f"(e.g. the course's sample of real {name} digits; not the official split, "
                    f"results on them are not {name} results)")
        else:
            what = (f"SYNTHETIC stand-in for {name} (write_synthetic_{name.lower()}; "
                    f"not real {self.real_content})")
        return f"{what} from {self.folder}"

    def load_test(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The test images and labels, normalised like the training images."""
        raise NotImplementedError
