"""Small, learnable stand-ins for MNIST and SVHN images, for tests and smoke runs.

This module makes the pixels and writes a folder of files with a marker recording their checksums
(loading then verifies them like official ones, and every description of the data says
SYNTHETIC). Each dataset's own module
writes its official format: ``helpers.data.mnist.write_synthetic_mnist``,
``helpers.data.svhn.write_synthetic_svhn``; this module imports neither (the data modules depend one
way).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
from pathlib import Path

import numpy as np

N_CLASSES = 10


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
    """Make ``n`` learnable 28x28 digit images: a 5x7 glyph scaled x3, shifted, with noise.

    The shift is up to 3 pixels.

    Returns:
        images (n, 28, 28) uint8 and labels (n,) uint8; labels cycle 0..9 (balanced), then shuffled.
    """
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n) % N_CLASSES).astype(np.uint8)
    glyphs = np.array([[[c == "1" for c in row] for row in g.split()] for g in _GLYPHS],
                      dtype=np.float32)
    glyphs = glyphs.repeat(3, axis=1).repeat(3, axis=2)  # (10, 21, 15)
    images = np.zeros((n, 28, 28), dtype=np.float32)
    for i, label in enumerate(labels):
        top, left = 3 + rng.integers(-3, 4), 6 + rng.integers(-3, 4)
        images[i, top:top + 21, left:left + 15] = glyphs[label] * rng.uniform(150, 255)
    images += rng.normal(0, 40, images.shape)
    return np.clip(images, 0, 255).astype(np.uint8), labels


def gzip_bytes(payload: bytes) -> bytes:
    buffer = io.BytesIO()
    # mtime=0: same bytes every time; level 1: ten times faster than 9, and noise hardly compresses
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0, compresslevel=1) as compressed:
        compressed.write(payload)
    return buffer.getvalue()


def write_marked_files(folder: Path, marker: str, dataset: str, contents: dict[str, bytes],
                       **about) -> Path:
    """Write ``contents`` (file name -> bytes) into ``folder``, then ``marker`` with their md5s.

    The marker also holds ``about``.

    Refuses to overwrite non-synthetic (official) files already in the folder.
    """
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / marker).is_file() and any((folder / name).exists() for name in contents):
        raise FileExistsError(f"{folder} already holds {dataset} files that are not synthetic; not "
                              "overwriting them")
    for name, content in contents.items():
        (folder / name).write_bytes(content)
    md5s = {name: hashlib.md5(content).hexdigest() for name, content in contents.items()}
    (folder / marker).write_text(json.dumps({"md5": md5s, **about}, indent=1))
    return folder


def synthetic_svhn(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Make ``n`` learnable 32x32 colour "house numbers": a glyph in one colour on another's ground.

    Returns:
        X (32, 32, 3, n) uint8 and y (n, 1) uint8 with 1..10 (10 = digit 0), as in the official
        files.
    """
    rng = np.random.default_rng(seed)
    glyphs, digits = synthetic_digits(n, seed)  # (n, 28, 28) uint8 with noise, (n,) 0..9 balanced
    # (n, 32, 32, 1)
    masks = np.pad(glyphs.astype(np.float32) / 255, ((0, 0), (2, 2), (2, 2)))[..., None]
    background = rng.uniform(0, 255, (n, 1, 1, 3))
    foreground = (background
                  + rng.choice([-1, 1], (n, 1, 1, 1)) * rng.uniform(90, 160, (n, 1, 1, 1))) % 256
    images = background + (foreground - background) * masks + rng.normal(0, 8, (n, 32, 32, 3))
    images = np.clip(images, 0, 255).astype(np.uint8).transpose(1, 2, 3, 0)  # (32, 32, 3, n)
    labels = np.where(digits == 0, 10, digits).astype(np.uint8)[:, None]
    return np.ascontiguousarray(images), labels
