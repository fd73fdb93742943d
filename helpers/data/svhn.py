"""SVHN: the official ``.mat`` files into tensors once, a leak-free validation split, augmentation.

The files live in ``<data root>/SVHN/`` or any folder passed as ``folder=`` (e.g. a course subset):
torchvision's ``train_32x32.mat`` (73,257 images) and ``test_32x32.mat`` (26,032; the "extra" split
is not used), each holding ``X``: 32x32x3xN uint8 (row, column, colour, image) and ``y``: Nx1 with
1..10, where 10 means the digit 0.

A missing file is downloaded (offline: one clear :class:`DatasetNotFoundError`). An md5 that differs
from the official one only *warns* (mirrors, course subsets and test fixtures differ legitimately);
a structural check after loading catches real damage (:class:`CorruptDatasetError` naming the file).
The validation set is a stratified share of the **training file only**, the normalisation statistics
come from the training split only, and the test file is not read until :meth:`SvhnSplits.load_test`,
for the final evaluation.
"""

from __future__ import annotations

import io
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import scipy.io
import torch

from helpers.data.downloads import (HTML_HINT, CorruptDatasetError, RemoteFile, ensure_files,
                                    looks_like_html, recorded_files)
from helpers.data.splits import Provenance, Splits, stratified_split
from helpers.data.synthetic import synthetic_svhn, write_marked_files
from helpers.data.transforms import channel_stats, normalize_images
from helpers.settings import data_root, shown_path, svhn_folder_override

#: Written next to the files by :func:`write_synthetic_svhn`: their checksums, and a flag that makes
#: every description of the data say SYNTHETIC.
SYNTHETIC_MARKER = "SYNTHETIC-SVHN.json"
SPLITS = ("train", "test")
IMAGE_SHAPE = (32, 32, 3)  # X is stored as (row, column, colour, image)


def svhn_folder(root: str | os.PathLike | None = None) -> Path:
    """Return the folder of ``train_32x32.mat`` and ``test_32x32.mat``.

    It is ``$HELPERS_SVHN`` if set, else ``<data root>/SVHN``.
    """
    if root is None and svhn_folder_override() is not None:
        return svhn_folder_override()
    return data_root(root) / "SVHN"


def _folder(folder: str | os.PathLike | None, root: str | os.PathLike | None) -> Path:
    return Path(folder).expanduser().resolve() if folder is not None else svhn_folder(root)


def svhn_remote_file(split: str) -> RemoteFile:
    """The official file of ``split`` ("train" or "test") with torchvision's URL and md5."""
    if split not in SPLITS:
        raise ValueError("split must be 'train' or 'test' (the 'extra' split is not used), got "
                         f"{split!r}")
    # here: torchvision takes a second to import, most notebooks never need it
    from torchvision.datasets import SVHN

    url, filename, md5 = SVHN.split_list[split]
    return RemoteFile(filename, (url,), md5)


def is_synthetic(folder: str | os.PathLike | None = None,
                 root: str | os.PathLike | None = None) -> bool:
    """True when the folder holds files written by :func:`write_synthetic_svhn`."""
    return (_folder(folder, root) / SYNTHETIC_MARKER).is_file()


def official_files_present(folder: str | os.PathLike | None = None,
                           root: str | os.PathLike | None = None) -> bool:
    """Say whether both official files are in the folder and it is not a synthetic stand-in.

    Only names are looked at (no checksums, nothing read): cheap enough to decide up front whether
    a notebook can run on SVHN at all.
    """
    path = _folder(folder, root)
    return not is_synthetic(path) and all((path / svhn_remote_file(s).filename).is_file()
                                          for s in SPLITS)


def ensure_svhn(split: str, folder: str | os.PathLike | None = None,
                root: str | os.PathLike | None = None, download: bool = True) -> tuple[Path, bool]:
    """Make sure the file of ``split`` is on disk (downloading it if allowed); nothing is parsed.

    Returns (path, official): ``official`` is True when its md5 is the official one. A checksum that
    differs from the official (or, for synthetic data, the recorded) one only warns; missing:
    :class:`DatasetNotFoundError`.
    """
    path = _folder(folder, root)
    files, synthetic = recorded_files(path, SYNTHETIC_MARKER, [svhn_remote_file(split)])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        [file_path] = ensure_files("SVHN", path, files, download=download and not synthetic,
                                   checksum_mismatch="warn")
    for warning in caught:  # pass them on, pointing at the caller
        warnings.warn(str(warning.message), warning.category, stacklevel=2)
    return file_path, not caught and not synthetic


def read_svhn_mat(path: str | os.PathLike) -> tuple[torch.Tensor, torch.Tensor]:
    """Read one SVHN ``.mat`` file: images (N, 3, 32, 32) uint8 (R, G, B), labels (N,) int64 0..9.

    The label 10 becomes 0.

    :class:`CorruptDatasetError`, naming the file, when scipy cannot read it (truncated, not a .mat)
    or ``X``/``y`` are missing or have the wrong shape, dtype or label range.
    """
    path = Path(path)

    def corrupt(problem: str) -> CorruptDatasetError:
        return CorruptDatasetError(f"{path} is not a usable SVHN file: {problem}. Delete it and "
                                   "run again to download it afresh (or copy a good one there).")

    if looks_like_html(path):
        raise corrupt(HTML_HINT)
    try:
        content = scipy.io.loadmat(path, variable_names=["X", "y"])
    except Exception as error:  # truncated or foreign files fail in many ways inside scipy
        raise corrupt(f"scipy.io.loadmat cannot read it ({type(error).__name__}: {error}); "
                      "it is probably truncated") from None
    missing = [key for key in ("X", "y") if key not in content]
    if missing:
        raise corrupt(f"the variable(s) {missing} are missing "
                      f"(it has {sorted(k for k in content if k[0] != '_')})")
    images, labels = content["X"], content["y"]
    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[:3] != IMAGE_SHAPE:
        raise corrupt(f"X should be 32x32x3xN uint8, it is {'x'.join(map(str, images.shape))} "
                      f"{images.dtype}")
    if labels.size != images.shape[3] or labels.ndim != 2 or 1 not in labels.shape:
        raise corrupt(f"y should be Nx1 with N = {images.shape[3]} (one label per image), it is "
                      f"{'x'.join(map(str, labels.shape))}")
    labels = labels.reshape(-1)
    if not np.issubdtype(labels.dtype, np.number) or not np.all(np.isin(labels, np.arange(1, 11))):
        bad = (labels[~np.isin(labels, np.arange(1, 11))][:5]
               if np.issubdtype(labels.dtype, np.number) else labels[:5])
        raise corrupt("labels in y should be whole numbers 1..10 (10 = digit 0), found e.g. "
                      f"{bad.tolist()}")
    images = torch.from_numpy(np.ascontiguousarray(images.transpose(3, 2, 0, 1)))  # (N, C, H, W)
    labels = torch.from_numpy(labels.astype(np.int64) % 10)  # 10 -> 0, 1..9 unchanged
    return images, labels


# --- splits ---------------------------------------------------------------------------------------

@dataclass
class SvhnSplits(Splits):
    """Training and validation tensors from the training file; the test file, read only on request.

    Images are (N, 3, 32, 32) float32, normalised per channel with ``mean``/``std`` (computed on
    ``train`` only); labels (N,) int64 0..9 (see :class:`Splits`).
    """

    mean: torch.Tensor = None
    std: torch.Tensor = None
    test_path: Path = None
    dataset: ClassVar[str] = "SVHN"
    real_content: ClassVar[str] = "photos"

    def load_test(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Read the test file, the first time it is read at all, normalised with the training stats.

        Images (N, 3, 32, 32) float32, labels (N,) int64. Once, for the final evaluation, after
        every choice is made.
        """
        images, labels = read_svhn_mat(self.test_path)
        self.test_loaded = True
        return normalize_images(images, self.mean, self.std), labels

    def summary(self) -> str:
        """Describe the data in one line: ``data: SVHN sample, 4,500 train / 500 validation ...``.

        The test file's size comes from its header (``scipy.io.whosmat``): its pixels are not read.
        """
        [n_test] = [shape[-1] for name, shape, _ in scipy.io.whosmat(self.test_path)
                    if name == "X"] or [0]
        what = {Provenance.OFFICIAL: "the official split, checksums verified",
                Provenance.SAMPLE: "real SVHN digits from a sample, NOT the official split: "
                                   "not SVHN results",
                Provenance.SYNTHETIC: "synthetic stand-in, not real photos"}[self.provenance]
        return (f"data: {self.label}, {len(self.train_labels):,} train / {len(self.val_labels):,} "
                f"validation / {n_test:,} test images ({what})")

    def describe(self) -> str:
        """One line per split: how many images, from which data."""
        n_file = len(self.train_indices) + len(self.val_indices)
        return "\n".join([
            f"data: {self.source}",
            f"  train      {len(self.train_labels):>6,} images "
            "(train_32x32.mat minus the validation images)",
            f"  validation {len(self.val_labels):>6,} images "
            f"({len(self.val_labels) / n_file:.1%} of train_32x32.mat, stratified by class, never "
            "trained on)",
            f"  test       {self.test_path.name} -- "
            f"{'read' if self.test_loaded else 'not read yet'}; "
            "read once, for the final evaluation",
        ])


def load_svhn_splits(folder: str | os.PathLike | None = None, root: str | os.PathLike | None = None,
                     val_fraction: float = 0.1, seed: int = 0, download: bool = True) -> SvhnSplits:
    """Split SVHN's training file into normalised training and validation tensors.

    The test file is checked, not read.

    ``val_fraction``: share of each class held out for validation (at least 0.1: 7,326 of the 73,257
    official training images). Both files must be there (or downloadable) before anything is
    trained, so a missing test file is reported now, not after hours of training. Files whose
    checksums are not the official ones load without a warning: ``source``, ``label`` ("SVHN
    sample") and ``summary()`` say so, printed beside every result.
    """
    if not 0.1 <= val_fraction < 1:
        raise ValueError(f"val_fraction must be at least 0.1 (and below 1), got {val_fraction}")
    path = _folder(folder, root)
    with warnings.catch_warnings():
        # a warning would print this file's machine path into a stored notebook
        warnings.filterwarnings("ignore", message=".*does not have the official checksum")
        train_path, official_train = ensure_svhn("train", path, download=download)
        test_path, official_test = ensure_svhn("test", path, download=download)
    pixels, labels = read_svhn_mat(train_path)
    kept, held_out = (torch.from_numpy(i)
                      for i in stratified_split(labels.numpy(), val_fraction, seed))
    # the training split only: nothing from validation or test
    mean, std = channel_stats(pixels[kept])
    return SvhnSplits(normalize_images(pixels[kept], mean, std), labels[kept],
                      normalize_images(pixels[held_out], mean, std), labels[held_out], kept,
                      held_out, _provenance(path, official_train and official_test),
                      shown_path(path), mean=mean, std=std, test_path=test_path)


def _provenance(folder: Path, official_checksums: bool) -> Provenance:
    if is_synthetic(folder):
        return Provenance.SYNTHETIC
    return Provenance.OFFICIAL if official_checksums else Provenance.SAMPLE


def write_synthetic_svhn(root: str | os.PathLike | None = None, n_train: int = 600,
                         n_test: int = 200, seed: int = 0,
                         folder: str | os.PathLike | None = None) -> Path:
    """Write a small synthetic SVHN into ``folder`` or ``<root>/SVHN``; return the folder.

    The official layout (``savemat``: ``X`` 32x32x3xN, ``y`` Nx1).
    """
    contents = {}
    for split, n, split_seed in zip(SPLITS, (n_train, n_test), (seed, seed + 1)):
        images, labels = synthetic_svhn(n, split_seed)
        scipy.io.savemat(buffer := io.BytesIO(), {"X": images, "y": labels})
        contents[svhn_remote_file(split).filename] = buffer.getvalue()
    return write_marked_files(_folder(folder, root), SYNTHETIC_MARKER, "SVHN", contents,
                              n_train=n_train, n_test=n_test,
                        seed=seed)
