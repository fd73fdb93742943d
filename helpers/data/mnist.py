"""MNIST: the official files through torchvision, into tensors once; a synthetic stand-in for tests.

Where the files live: ``<data root>/MNIST/raw/`` (data root: ``data/`` in the repository, or
``$HELPERS_DATA``, or the ``root=`` argument; see :func:`helpers.settings.data_root`). The four
official ``.gz`` files are

    train-images-idx3-ubyte.gz  train-labels-idx1-ubyte.gz  t10k-images-idx3-ubyte.gz  t10k-labels-idx1-ubyte.gz

What :func:`ensure_mnist` guarantees before torchvision reads anything:

- missing ``.gz`` files are downloaded with torchvision's mirrors and md5 checksums
  (:func:`helpers.data.downloads.ensure_files`); offline, one clear error says what to put where;
- a ``.gz`` with the wrong checksum raises :class:`CorruptDatasetError` naming the file;
- torchvision reads the *uncompressed* files next to them. They are extracted here, to a temporary
  name and renamed when complete, so an interrupted extraction never leaves a truncated file in
  place; a truncated file left by some other tool is detected (its IDX header gives its size) and
  extracted again.

:func:`write_synthetic_mnist` writes a tiny, learnable stand-in (digit glyphs, shifted, plus noise) in
the official format. The test suite uses it so that the real loading path runs without the network.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import math
import os
import shutil
import struct
import tempfile
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torchvision.datasets import MNIST

from helpers.data.downloads import CorruptDatasetError, RemoteFile, ensure_files
from helpers.data.transforms import stratified_split
from helpers.settings import data_root, shown_path

#: Written next to the files by :func:`write_synthetic_mnist`: their checksums, and a flag that
#: makes every description of the data say "synthetic".
SYNTHETIC_MARKER = "SYNTHETIC-MNIST.json"
IMAGE_SIZE = 28
N_CLASSES = 10
IDX_UBYTE = 0x08  # IDX type code of unsigned bytes, the only one MNIST uses


def mnist_folder(root: str | os.PathLike | None = None) -> Path:
    """``<data root>/MNIST/raw``: where the ``.gz`` files and their extracted copies live."""
    return data_root(root) / "MNIST" / "raw"


def mnist_remote_files() -> list[RemoteFile]:
    """The four official files with torchvision's mirrors and md5 checksums."""
    return [RemoteFile(filename, tuple(mirror + filename for mirror in MNIST.mirrors), md5)
            for filename, md5 in MNIST.resources]


def is_synthetic(root: str | os.PathLike | None = None) -> bool:
    """True when the MNIST folder holds files written by :func:`write_synthetic_mnist`."""
    return (mnist_folder(root) / SYNTHETIC_MARKER).is_file()


def _expected_files(folder: Path) -> tuple[list[RemoteFile], bool]:
    """The files to check: the official ones, or the synthetic ones with their recorded checksums."""
    official = mnist_remote_files()
    marker = folder / SYNTHETIC_MARKER
    if not marker.is_file():
        return official, False
    md5s = json.loads(marker.read_text())["md5"]
    return [RemoteFile(f.filename, f.urls, md5s[f.filename]) for f in official], True


# --- the IDX format ---------------------------------------------------------------------------------


def idx_header(shape: tuple[int, ...]) -> bytes:
    """Header of an IDX file of unsigned bytes: 0, 0, type 0x08, number of dims, then each dim (big-endian)."""
    return bytes([0, 0, IDX_UBYTE, len(shape)]) + struct.pack(f">{len(shape)}I", *shape)


def idx_problem(path: str | os.PathLike) -> str | None:
    """Why the IDX file at ``path`` is unusable (``None`` when its size matches its header).

    The header says how many bytes must follow it, so a truncated file (an interrupted extraction)
    is recognised without reading it all.
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
    """Decompress ``gz_path`` to ``target`` via a temporary file renamed only once complete and valid."""
    handle, partial = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".partial")
    try:
        with os.fdopen(handle, "wb") as out, gzip.open(gz_path, "rb") as compressed:
            shutil.copyfileobj(compressed, out, length=1 << 20)
        problem = idx_problem(partial)
        if problem:
            raise CorruptDatasetError(f"{gz_path} does not hold a valid IDX file ({problem}). "
                                      "Delete it and run again to get a fresh copy.")
        os.chmod(partial, 0o644)  # mkstemp makes it private; the extracted file is as readable as the .gz
        os.replace(partial, target)
    except (gzip.BadGzipFile, EOFError, zlib.error) as error:  # a damaged .gz (disk errors pass through)
        raise CorruptDatasetError(f"{gz_path} could not be decompressed ({type(error).__name__}: {error}). "
                                  "Delete it and run again to get a fresh copy.") from None
    finally:  # also on KeyboardInterrupt: never leave the partial file behind
        Path(partial).unlink(missing_ok=True)


def ensure_mnist(root: str | os.PathLike | None = None, download: bool = True) -> Path:
    """Make sure the four MNIST files are present, verified and extracted; return their folder.

    Args:
        root: data root (default: ``$HELPERS_DATA``, else ``data/`` in the repository).
        download: download missing ``.gz`` files from torchvision's mirrors (never for synthetic data).
    Returns:
        ``<root>/MNIST/raw``, holding the ``.gz`` files and their uncompressed IDX copies.
    Raises:
        DatasetNotFoundError: files missing and not downloadable (the message says what to do).
        CorruptDatasetError: a ``.gz`` file with the wrong checksum or content (named in the message).
    """
    folder = mnist_folder(root)
    files, synthetic = _expected_files(folder)
    gz_paths = ensure_files("MNIST", folder, files, download=download and not synthetic, checksum_mismatch="error")
    for gz_path in gz_paths:
        extracted = gz_path.with_suffix("")  # what torchvision reads: train-images-idx3-ubyte, ...
        if extracted.is_file():
            problem = idx_problem(extracted)
            if problem is None:
                continue
            warnings.warn(f"{extracted} is damaged ({problem}), probably by an interrupted extraction; "
                          f"extracting it again from {gz_path.name}.", stacklevel=2)
        _extract(gz_path, extracted)
    return folder


# --- tensors -----------------------------------------------------------------------------------------


def load_mnist(split: str = "train", root: str | os.PathLike | None = None,
               download: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """The images and labels of one official split, read by ``torchvision.datasets.MNIST`` once.

    Args:
        split: ``"train"`` (60,000 images) or ``"test"`` (10,000 images).
    Returns:
        images: (N, 28, 28) uint8, pixel values 0..255 (0 = background);
        labels: (N,) int64 digits 0..9.
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    ensure_mnist(root, download)
    dataset = MNIST(data_root(root), train=split == "train", download=False)
    return dataset.data, dataset.targets


def normalize_pixels(images: torch.Tensor) -> torch.Tensor:
    """uint8 pixels p in 0..255 -> floats x = 2·p/255 - 1 in [-1, 1], with a channel dimension.

    The same as torchvision's ``ToTensor()`` (p/255) followed by ``Normalize(mean=0.5, std=0.5)``.

    Args:
        images: (N, 28, 28) uint8.
    Returns:
        (N, 1, 28, 28) float32.
    """
    return (images.float() * (2 / 255) - 1).unsqueeze(1)


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
            raise ValueError(f"class {int(label)} has only {len(members)} items, fewer than per_class={per_class}")
        chosen.append(members[torch.randperm(len(members), generator=generator)[:per_class]])
    return torch.sort(torch.cat(chosen)).values


@dataclass
class MnistSplits:
    """Normalised MNIST tensors: images (N, 1, 28, 28) float32 in [-1, 1], labels (N,) int64."""

    train_images: torch.Tensor
    train_labels: torch.Tensor
    val_images: torch.Tensor
    val_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor
    source: str  # e.g. "official MNIST (checksums verified) from data/MNIST/raw"
    train_indices: torch.Tensor  # (N_train,) positions of the training images in the official training file
    val_indices: torch.Tensor    # (N_val,) positions of the validation images there (disjoint from train_indices)

    def describe(self) -> str:
        """One line per split: how many images, from which data."""
        return "\n".join([
            f"data: {self.source}",
            f"  train      {len(self.train_labels):>6,} images (the training file minus the validation images)",
            f"  validation {len(self.val_labels):>6,} images (held out from the training file, stratified by class)",
            f"  test       {len(self.test_labels):>6,} images (the test file, t10k-*)",
        ])


def load_mnist_splits(root: str | os.PathLike | None = None, val_fraction: float = 1 / 12,
                      per_class: int | None = None, seed: int = 0, download: bool = True) -> MnistSplits:
    """MNIST as normalised tensors: a stratified validation split, optionally a class-balanced subset.

    Args:
        val_fraction: share of the official training set held out for validation
            (1/12: 55,000 train / 5,000 validation).
        per_class: keep only this many training images per class (e.g. 600 -> 6,000 images), for
            quick experiments; validation and test sets stay whole.
        seed: seed of the split and the subset.
    """
    train_pixels, train_labels = load_mnist("train", root, download)
    test_pixels, test_labels = load_mnist("test", root, download)
    kept, held_out = (torch.from_numpy(i) for i in stratified_split(train_labels.numpy(), val_fraction, seed))
    if per_class is not None:
        kept = kept[balanced_subset(train_labels[kept], per_class, seed)]
    folder = shown_path(mnist_folder(root))
    source = (f"SYNTHETIC stand-in for MNIST (write_synthetic_mnist; not real digits) from {folder}"
              if is_synthetic(root) else f"official MNIST (checksums verified) from {folder}")
    train_images = normalize_pixels(train_pixels)
    return MnistSplits(train_images[kept], train_labels[kept], train_images[held_out], train_labels[held_out],
                       normalize_pixels(test_pixels), test_labels, source, kept, held_out)


# --- a synthetic MNIST for tests -----------------------------------------------------------------------

#: 5x7 bitmaps of the digits 0..9, one string of 7 rows of 5 pixels each.
_GLYPHS = (
    "01110 10001 10011 10101 11001 10001 01110",
    "00100 01100 00100 00100 00100 00100 01110",
    "01110 10001 00001 00010 00100 01000 11111",
    "11111 00010 00100 00010 00001 10001 01110",
    "00010 00110 01010 10010 11111 00010 00010",
    "11111 10000 11110 00001 00001 10001 01110",
    "00110 01000 10000 11110 10001 10001 01110",
    "11111 00001 00010 00100 01000 01000 01000",
    "01110 10001 10001 01110 10001 10001 01110",
    "01110 10001 10001 01111 00001 00010 01100",
)


def synthetic_digits(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` learnable 28x28 digit images: a 5x7 glyph scaled x3, shifted up to 3 pixels, with noise.

    Returns:
        images (n, 28, 28) uint8 and labels (n,) uint8; labels cycle 0..9 (balanced), then shuffled.
    """
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n) % N_CLASSES).astype(np.uint8)
    glyphs = np.array([[[c == "1" for c in row] for row in g.split()] for g in _GLYPHS], dtype=np.float32)
    glyphs = glyphs.repeat(3, axis=1).repeat(3, axis=2)  # (10, 21, 15)
    images = np.zeros((n, IMAGE_SIZE, IMAGE_SIZE), dtype=np.float32)
    for i, label in enumerate(labels):
        top, left = 3 + rng.integers(-3, 4), 6 + rng.integers(-3, 4)
        images[i, top:top + 21, left:left + 15] = glyphs[label] * rng.uniform(150, 255)
    images += rng.normal(0, 40, images.shape)
    return np.clip(images, 0, 255).astype(np.uint8), labels


def _gzip_bytes(payload: bytes) -> bytes:
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as compressed:  # mtime=0: same bytes every time
        compressed.write(payload)
    return buffer.getvalue()


def write_synthetic_mnist(root: str | os.PathLike, n_train: int = 1200, n_test: int = 400, seed: int = 0) -> Path:
    """Write a small synthetic MNIST in the official format (gzipped IDX files) under ``root/MNIST/raw``.

    The images are digit glyphs with random shifts and noise: a model learns them within an epoch
    or two, so a smoke run shows sane curves. A marker file records their checksums; loading then
    verifies them like the official ones and labels the data as synthetic everywhere.

    Refuses to overwrite non-synthetic (official) files already in the folder.
    Returns:
        The folder written, ``root/MNIST/raw``.
    """
    folder = mnist_folder(root)
    folder.mkdir(parents=True, exist_ok=True)
    official = mnist_remote_files()
    if not (folder / SYNTHETIC_MARKER).is_file() and any((folder / f.filename).exists() for f in official):
        raise FileExistsError(f"{folder} already holds MNIST files that are not synthetic; not overwriting them")
    md5s = {}
    for prefix, n, split_seed in (("train", n_train, seed), ("t10k", n_test, seed + 1)):
        images, labels = synthetic_digits(n, split_seed)
        for kind, array in (("images-idx3", images), ("labels-idx1", labels)):
            filename = f"{prefix}-{kind}-ubyte.gz"
            content = _gzip_bytes(idx_header(array.shape) + array.tobytes())
            (folder / filename).write_bytes(content)
            (folder / filename[:-3]).unlink(missing_ok=True)  # a stale extracted copy would be read instead
            md5s[filename] = hashlib.md5(content).hexdigest()
    (folder / SYNTHETIC_MARKER).write_text(json.dumps({"md5": md5s, "n_train": n_train, "n_test": n_test,
                                                       "seed": seed}, indent=1))
    return folder
