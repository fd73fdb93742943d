"""MNIST: the official files through torchvision, into tensors once; a synthetic stand-in for tests.

The four official files (``train-images-idx3-ubyte.gz``, ``train-labels-idx1-ubyte.gz``,
``t10k-images-...``, ``t10k-labels-...``) live in ``<data root>/MNIST/raw/``
(:func:`helpers.settings.data_root`). Before torchvision reads anything, :func:`ensure_mnist`
downloads missing ones (offline: one clear error saying what to put where), refuses a wrong
checksum, and extracts the *uncompressed* files torchvision reads atomically, so an interrupted
extraction never leaves a truncated file in place (one left by another tool is seen from its IDX
header). :func:`write_synthetic_mnist` writes a tiny, learnable stand-in in the official format for
the test suite.
"""

from __future__ import annotations

import gzip
import math
import os
import shutil
import struct
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import torch

from helpers.data.downloads import CorruptDatasetError, RemoteFile, ensure_files, recorded_files
from helpers.data.splits import Provenance, Splits, balanced_subset, stratified_split
from helpers.data.synthetic import gzip_bytes, synthetic_digits, write_marked_files
from helpers.data.transforms import normalize_pixels
from helpers.settings import atomic_write, data_root, shown_path

#: Written next to the files by :func:`write_synthetic_mnist`: their checksums, and a flag that
#: makes every description of the data say "synthetic".
SYNTHETIC_MARKER = "SYNTHETIC-MNIST.json"
IDX_UBYTE = 0x08  # IDX type code of unsigned bytes, the only one MNIST uses


def mnist_folder(root: str | os.PathLike | None = None) -> Path:
    """``<data root>/MNIST/raw``: where the ``.gz`` files and their extracted copies live."""
    return data_root(root) / "MNIST" / "raw"


def mnist_remote_files() -> list[RemoteFile]:
    """The four official files with torchvision's mirrors and md5 checksums."""
    from torchvision.datasets import MNIST  # here: torchvision takes a second to import

    return [RemoteFile(filename, tuple(mirror + filename for mirror in MNIST.mirrors), md5)
            for filename, md5 in MNIST.resources]


def is_synthetic(root: str | os.PathLike | None = None) -> bool:
    """True when the MNIST folder holds files written by :func:`write_synthetic_mnist`."""
    return (mnist_folder(root) / SYNTHETIC_MARKER).is_file()


# --- the IDX format -------------------------------------------------------------------------------


def idx_header(shape: tuple[int, ...]) -> bytes:
    """Return the header of an IDX file of unsigned bytes for an array of ``shape``.

    It is 0, 0, type 0x08, the number of dims, then each dim (big-endian).
    """
    return bytes([0, 0, IDX_UBYTE, len(shape)]) + struct.pack(f">{len(shape)}I", *shape)


def idx_problem(path: str | os.PathLike) -> str | None:
    """Say why the IDX file at ``path`` is unusable (None when its size matches its header).

    The header says how many bytes follow, so a truncated file (an interrupted extraction) is
    recognised without reading it all.
    """
    path = Path(path)
    size = path.stat().st_size
    with open(path, "rb") as file:
        head = file.read(4)
        if len(head) < 4 or head[:3] != bytes([0, 0, IDX_UBYTE]) or not 1 <= head[3] <= 3:
            return f"not an IDX file of unsigned bytes (starts with {head.hex() or 'nothing'})"
        dims_bytes = file.read(4 * head[3])
    if len(dims_bytes) < 4 * head[3]:
        return "its header is cut off"
    dims = struct.unpack(f">{head[3]}I", dims_bytes)
    expected = 4 + 4 * len(dims) + math.prod(dims)
    if size != expected:
        return f"{size:,} bytes, but its header {tuple(dims)} needs {expected:,}"
    return None


def _extract(gz_path: Path, target: Path) -> None:
    """Decompress ``gz_path`` to ``target`` and check the result; never half-written."""
    try:
        with atomic_write(target) as partial:
            with open(partial, "wb") as out, gzip.open(gz_path, "rb") as compressed:
                shutil.copyfileobj(compressed, out, length=1 << 20)
            problem = idx_problem(partial)
            if problem:
                raise CorruptDatasetError(f"{gz_path} does not hold a valid IDX file ({problem}). "
                                          "Delete it and run again to get a fresh copy.")
    except (gzip.BadGzipFile, EOFError, zlib.error) as error:
        # a damaged .gz (disk errors pass through)
        raise CorruptDatasetError(f"{gz_path} could not be decompressed "
                                  f"({type(error).__name__}: {error}). Delete it and run again to "
                                  "get a fresh copy.") from None


def ensure_mnist(root: str | os.PathLike | None = None, download: bool = True) -> Path:
    """Make sure the four MNIST files are present, verified and extracted; return their folder.

    The folder is ``<root>/MNIST/raw``.

    ``download``: get missing ``.gz`` files from torchvision's mirrors (never for synthetic data).
    Raises :class:`DatasetNotFoundError` (missing, not downloadable) or :class:`CorruptDatasetError`
    (naming the file).
    """
    folder = mnist_folder(root)
    files, synthetic = recorded_files(folder, SYNTHETIC_MARKER, mnist_remote_files())
    gz_paths = ensure_files("MNIST", folder, files, download=download and not synthetic,
                            checksum_mismatch="error")
    for gz_path in gz_paths:
        extracted = gz_path.with_suffix("")  # what torchvision reads: train-images-idx3-ubyte, ...
        if extracted.is_file():
            problem = idx_problem(extracted)
            if problem is None:
                continue
            warnings.warn(f"{extracted} is damaged ({problem}), probably by an interrupted "
                          f"extraction; extracting it again from {gz_path.name}.", stacklevel=2)
        try:
            _extract(gz_path, extracted)
        except PermissionError:  # a read-only course copy holding only the .gz files
            raise PermissionError(f"{folder} is read-only and lacks {extracted.name}, the "
                                  f"extracted copy of {gz_path.name} that torchvision reads. "
                                  "Extract the .gz files there once (gunzip -k *.gz), or copy the "
                                  "folder somewhere writable and point HELPERS_DATA at the "
                                  "copy.") from None
    return folder


# --- tensors --------------------------------------------------------------------------------------


def load_mnist(split: str = "train", root: str | os.PathLike | None = None,
               download: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """Return the images and labels of ``split``, read once by ``torchvision.datasets.MNIST``.

    Images (N, 28, 28) uint8 0..255 (0 = background), labels (N,) int64; ``split`` is ``"train"``
    (60,000 images) or ``"test"`` (10,000).
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    ensure_mnist(root, download)
    from torchvision.datasets import MNIST

    dataset = MNIST(data_root(root), train=split == "train", download=False)
    return dataset.data, dataset.targets


@dataclass
class MnistSplits(Splits):
    """Normalised MNIST tensors: images (N, 1, 28, 28) float32 in [-1, 1], labels (N,) int64.

    See :class:`Splits`.

    MNIST is small: the test set is loaded with the rest (``test_images``, ``test_labels``, or
    ``load_test()``).
    """

    test_images: torch.Tensor = None
    test_labels: torch.Tensor = None
    dataset: ClassVar[str] = "MNIST"
    real_content: ClassVar[str] = "digits"

    def load_test(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The test images and labels (the t10k-* files), normalised like the training images."""
        self.test_loaded = True
        return self.test_images, self.test_labels

    def describe(self) -> str:
        """One line per split: how many images, from which data."""
        return "\n".join([
            f"data: {self.source}",
            f"  train      {len(self.train_labels):>6,} images "
            "(the training file minus the validation images)",
            f"  validation {len(self.val_labels):>6,} images "
            "(held out from the training file, stratified by class)",
            f"  test       {len(self.test_labels):>6,} images (the test file, t10k-*)",
        ])


def load_mnist_splits(root: str | os.PathLike | None = None, val_fraction: float = 1 / 12,
                      per_class: int | None = None, seed: int = 0,
                      download: bool = True) -> MnistSplits:
    """Load MNIST as normalised tensors with a stratified validation split.

    Optionally a class-balanced subset of the training images.

    ``val_fraction`` of the training file is held out (1/12: 55,000 train / 5,000 validation);
    ``per_class`` keeps only that many training images per class (600 -> 6,000), for quick
    experiments; ``seed``: split and subset.
    """
    train_pixels, train_labels = load_mnist("train", root, download)
    test_pixels, test_labels = load_mnist("test", root, download)
    kept, held_out = (torch.from_numpy(i)
                      for i in stratified_split(train_labels.numpy(), val_fraction, seed))
    if per_class is not None:
        kept = kept[balanced_subset(train_labels[kept], per_class, seed)]
    # files with other checksums are refused (ensure_mnist): official or synthetic, no sample
    provenance = Provenance.SYNTHETIC if is_synthetic(root) else Provenance.OFFICIAL
    train_images = normalize_pixels(train_pixels)
    return MnistSplits(train_images[kept], train_labels[kept], train_images[held_out],
                       train_labels[held_out], kept, held_out, provenance,
                       shown_path(mnist_folder(root)), test_images=normalize_pixels(test_pixels),
                       test_labels=test_labels)


def write_synthetic_mnist(root: str | os.PathLike, n_train: int = 1200, n_test: int = 400,
                          seed: int = 0) -> Path:
    """Write a small synthetic MNIST as gzipped IDX files into ``root/MNIST/raw``; return it.

    The official format, as downloaded.

    A model learns its digit glyphs within an epoch or two, so a smoke run shows sane curves.
    """
    contents = {}
    for prefix, n, split_seed in (("train", n_train, seed), ("t10k", n_test, seed + 1)):
        for kind, array in zip(("images-idx3", "labels-idx1"), synthetic_digits(n, split_seed)):
            contents[f"{prefix}-{kind}-ubyte.gz"] = gzip_bytes(idx_header(array.shape)
                                                               + array.tobytes())
    folder = write_marked_files(mnist_folder(root), SYNTHETIC_MARKER, "MNIST", contents,
                                n_train=n_train, n_test=n_test,
                          seed=seed)
    for name in contents:
        (folder / name[:-3]).unlink(missing_ok=True)  # a stale extracted copy would be read instead
    return folder
