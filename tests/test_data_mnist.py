"""MNIST loading (helpers.data.mnist) and TensorLoader, on synthetic files in the IDX format.

The real loading path runs: torchvision.datasets.MNIST reads the IDX files that
write_synthetic_mnist writes into a temporary data root. The network is never touched: torchvision's
download_url is replaced by a fake that fails like an offline machine.
"""

import gzip
import hashlib
import json
import os
from pathlib import Path
from urllib.error import URLError

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision import transforms

from helpers import settings
from helpers.settings import shown_path
from helpers.data import (
    CorruptDatasetError,
    DatasetNotFoundError,
    TensorLoader,
    ensure_mnist,
    load_mnist_splits,
    normalize_pixels,
)
from helpers.data.mnist import load_mnist, write_synthetic_mnist
from helpers.data.splits import balanced_subset
from helpers.data import downloads, mnist
from helpers.data.splits import Provenance

OFFICIAL_FILES = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                  "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    """Every download attempt fails as it would without internet (and records the URL it tried)."""
    attempts = []

    def no_network(url, root, filename=None, md5=None):
        attempts.append(url)
        raise URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(downloads, "download_url", no_network)
    return attempts


@pytest.fixture
def synthetic_root(tmp_path):
    write_synthetic_mnist(tmp_path, n_train=600, n_test=200)
    return tmp_path


def leftovers(folder: Path) -> list[str]:
    """Temporary or partial files in ``folder`` (what an interrupted write would leave behind)."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".") or "partial" in p.name)


# --- the real loading path ------------------------------------------------------------------------


def test_torchvision_reads_the_synthetic_idx_files(synthetic_root):
    images, labels = load_mnist("train", root=synthetic_root)
    expected_images, expected_labels = mnist.synthetic_digits(600, seed=0)
    assert images.shape == (600, 28, 28) and images.dtype == torch.uint8
    assert labels.shape == (600,) and labels.dtype == torch.int64
    assert np.array_equal(images.numpy(), expected_images)
    assert np.array_equal(labels.numpy(), expected_labels)
    test_images, test_labels = load_mnist("test", root=synthetic_root)
    assert test_images.shape == (200, 28, 28) and torch.bincount(test_labels).tolist() == [20] * 10
    folder = synthetic_root / "MNIST" / "raw"
    for name in OFFICIAL_FILES:  # the extracted copies torchvision read, each complete
        assert mnist.idx_problem(folder / name[:-3]) is None


def test_load_mnist_rejects_an_unknown_split(synthetic_root):
    with pytest.raises(ValueError, match="'train' or 'test'"):
        load_mnist("validation", root=synthetic_root)


def test_splits_are_normalised_stratified_disjoint_and_labelled_synthetic(synthetic_root):
    splits = load_mnist_splits(root=synthetic_root, val_fraction=0.25, seed=3)
    assert (splits.train_images.shape == (450, 1, 28, 28)
            and splits.val_images.shape == (150, 1, 28, 28))
    assert splits.test_images.shape == (200, 1, 28, 28)
    for images in (splits.train_images, splits.val_images, splits.test_images):
        assert images.dtype == torch.float32 and images.min() >= -1 and images.max() <= 1
    train, val = splits.train_indices, splits.val_indices
    assert set(train.tolist()).isdisjoint(val.tolist())
    assert sorted(train.tolist() + val.tolist()) == list(range(600))
    pixels, labels = load_mnist("train", root=synthetic_root)
    assert (torch.equal(splits.val_labels, labels[val])
            and torch.equal(splits.train_labels, labels[train]))
    assert torch.equal(splits.val_images, normalize_pixels(pixels[val]))
    assert torch.bincount(splits.val_labels).tolist() == [15] * 10  # stratified: 25% of each class
    assert torch.equal(load_mnist_splits(root=synthetic_root, val_fraction=0.25,
                                         seed=3).val_indices, val)
    assert not torch.equal(load_mnist_splits(root=synthetic_root, val_fraction=0.25,
                                             seed=4).val_indices, val)
    description = splits.describe()
    assert "SYNTHETIC" in description and "official" not in description
    assert splits.provenance is Provenance.SYNTHETIC and splits.label == "SYNTHETIC MNIST"
    assert "450" in description and "150" in description and "200" in description


def test_per_class_subset_of_the_training_split(synthetic_root):
    splits = load_mnist_splits(root=synthetic_root, val_fraction=0.25, per_class=20)
    assert torch.bincount(splits.train_labels).tolist() == [20] * 10
    assert len(splits.val_labels) == 150 and len(splits.test_labels) == 200  # stay whole
    assert set(splits.train_indices.tolist()).isdisjoint(splits.val_indices.tolist())


def test_without_the_synthetic_marker_files_need_the_official_checksums(synthetic_root):
    (synthetic_root / "MNIST" / "raw" / mnist.SYNTHETIC_MARKER).unlink()
    with pytest.raises(CorruptDatasetError, match="train-images-idx3-ubyte.gz"):
        load_mnist_splits(root=synthetic_root)


def test_files_with_the_official_checksums_are_described_as_official(synthetic_root, monkeypatch):
    folder = synthetic_root / "MNIST" / "raw"
    recorded = json.loads((folder / mnist.SYNTHETIC_MARKER).read_text())["md5"]
    (folder / mnist.SYNTHETIC_MARKER).unlink()
    official = mnist.mnist_remote_files()  # pretend these files are the published ones
    monkeypatch.setattr(mnist, "mnist_remote_files",
                        lambda: [mnist.RemoteFile(f.filename, f.urls, recorded[f.filename])
                                 for f in official])
    splits = load_mnist_splits(root=synthetic_root)
    description = splits.describe()
    assert description.startswith("data: official MNIST (checksums verified) from ")
    assert "SYNTHETIC" not in description
    assert splits.provenance is Provenance.OFFICIAL and splits.label == "official MNIST"


# --- normalisation and subsets --------------------------------------------------------------------


def test_normalize_pixels_formula_and_torchvision_equivalent():
    # (1, 3, 3)
    pixels = torch.tensor([[[0, 51, 255], [102, 204, 153], [1, 2, 3]]], dtype=torch.uint8)
    normalised = normalize_pixels(pixels)
    assert normalised.shape == (1, 1, 3, 3) and normalised.dtype == torch.float32
    assert torch.allclose(normalised, 2 * pixels.float().unsqueeze(1) / 255 - 1)
    assert normalised[0, 0, 0, 0] == -1 and normalised[0, 0, 0, 2] == 1
    to_tensor = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])
    assert torch.allclose(normalised[0], to_tensor(Image.fromarray(pixels[0].numpy(), mode="L")),
                          atol=1e-6)


def test_balanced_subset():
    order = torch.randperm(22, generator=torch.Generator().manual_seed(1))
    labels = torch.tensor([0] * 10 + [1] * 5 + [2] * 7)[order]
    chosen = balanced_subset(labels, per_class=4, seed=0)
    assert chosen.dtype == torch.int64 and len(chosen) == 12
    assert torch.equal(chosen, torch.sort(chosen).values) and len(set(chosen.tolist())) == 12
    assert torch.bincount(labels[chosen]).tolist() == [4, 4, 4]
    assert torch.equal(balanced_subset(labels, 4, seed=0), chosen)
    assert not torch.equal(balanced_subset(labels, 4, seed=1), chosen)
    with pytest.raises(ValueError, match="class 1 has only 5"):
        balanced_subset(labels, per_class=6)


# --- TensorLoader ---------------------------------------------------------------------------------


def test_tensor_loader_batches_in_order():
    images, labels = torch.arange(10.0).reshape(10, 1), torch.arange(10)
    loader = TensorLoader(images, labels, batch_size=4)
    batches = list(loader)
    assert len(loader) == 3 and [len(y) for _, y in batches] == [4, 4, 2]
    assert torch.equal(torch.cat([y for _, y in batches]), labels)
    assert all(torch.equal(x.squeeze(1).long(), y) for x, y in batches)  # rows stay paired
    assert list(loader)[0][1].tolist() == [0, 1, 2, 3]  # a new pass starts again
    dropped = TensorLoader(images, labels, batch_size=4, drop_last=True)
    assert len(dropped) == 2 and [len(y) for _, y in dropped] == [4, 4]


def test_tensor_loader_shuffles_every_epoch_reproducibly():
    images, labels = torch.arange(100.0).reshape(100, 1), torch.arange(100)
    loader = TensorLoader(images, labels, batch_size=32, shuffle=True,
                          generator=torch.Generator().manual_seed(0))
    first, second = (torch.cat([y for _, y in loader]) for _ in range(2))
    assert (sorted(first.tolist()) == list(range(100))
            and sorted(second.tolist()) == list(range(100)))
    # a new order each epoch
    assert not torch.equal(first, labels) and not torch.equal(first, second)
    for x, y in loader:
        assert torch.equal(x.squeeze(1).long(), y)
    again = TensorLoader(images, labels, batch_size=32, shuffle=True,
                         generator=torch.Generator().manual_seed(0))
    assert torch.equal(torch.cat([y for _, y in again]), first)
    # without a generator the global one is used, so
    # torch.manual_seed (seed_everything) fixes the order
    torch.manual_seed(5)
    global_first = torch.cat([y for (y,) in TensorLoader(labels, batch_size=7, shuffle=True)])
    torch.manual_seed(5)
    assert torch.equal(torch.cat([y for (y,) in TensorLoader(labels, batch_size=7, shuffle=True)]),
                       global_first)


def test_tensor_loader_errors():
    with pytest.raises(ValueError, match="at least one tensor"):
        TensorLoader()
    with pytest.raises(ValueError, match=r"same first dimension.*\[3, 4\]"):
        TensorLoader(torch.zeros(3), torch.zeros(4))
    with pytest.raises(ValueError, match="batch_size"):
        TensorLoader(torch.zeros(3), batch_size=0)


# --- error paths ----------------------------------------------------------------------------------


def test_offline_without_files_names_the_files_the_folder_and_the_url(tmp_path, offline):
    with pytest.raises(DatasetNotFoundError) as caught:
        ensure_mnist(root=tmp_path)
    message = str(caught.value)
    folder = tmp_path / "MNIST" / "raw"
    assert all(name in message for name in OFFICIAL_FILES)
    assert str(folder) in message
    assert "https://ossci-datasets.s3.amazonaws.com/mnist/train-images-idx3-ubyte.gz" in message
    assert "HELPERS_DATA" in message
    assert offline, "it should have tried to download"
    assert list(folder.iterdir()) == [], "nothing half-written may stay behind"


def test_offline_error_reaches_the_notebook_api(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="MNIST is not available"):
        load_mnist_splits(root=tmp_path)


def test_download_switched_off_says_so(tmp_path, offline):
    with pytest.raises(DatasetNotFoundError, match="downloading is switched off"):
        ensure_mnist(root=tmp_path, download=False)
    assert offline == []


def test_a_truncated_official_gz_is_named_and_nothing_is_extracted(tmp_path):
    folder = tmp_path / "MNIST" / "raw"
    folder.mkdir(parents=True)
    for name in OFFICIAL_FILES:
        # cut off: not the official bytes
        (folder / name).write_bytes(gzip.compress(b"\x00" * 100)[:30])
    with pytest.raises(CorruptDatasetError) as caught:
        ensure_mnist(root=tmp_path)
    assert (shown_path(folder / OFFICIAL_FILES[0]) in str(caught.value)
            and "corrupt or truncated" in str(caught.value))
    assert sorted(p.name for p in folder.iterdir()) == sorted(OFFICIAL_FILES)


def test_a_gz_that_cannot_be_decompressed_leaves_nothing_half_written(synthetic_root):
    folder = synthetic_root / "MNIST" / "raw"
    gz = folder / "train-images-idx3-ubyte.gz"
    # truncated, with a checksum that matches it:
    gz.write_bytes(gz.read_bytes()[: gz.stat().st_size // 2])
    # only decompressing shows the damage
    marker = json.loads((folder / mnist.SYNTHETIC_MARKER).read_text())
    marker["md5"][gz.name] = hashlib.md5(gz.read_bytes()).hexdigest()
    (folder / mnist.SYNTHETIC_MARKER).write_text(json.dumps(marker))
    with pytest.raises(CorruptDatasetError) as caught:
        ensure_mnist(root=synthetic_root)
    assert str(gz) in str(caught.value) and "could not be decompressed" in str(caught.value)
    assert not (folder / "train-images-idx3-ubyte").exists()
    assert leftovers(folder) == []


def test_a_gz_holding_a_wrong_idx_file_is_refused(synthetic_root):
    folder = synthetic_root / "MNIST" / "raw"
    gz = folder / "train-labels-idx1-ubyte.gz"
    # header promises 600 labels
    gz.write_bytes(gzip.compress(mnist.idx_header((600,)) + b"\x01" * 10))
    marker = json.loads((folder / mnist.SYNTHETIC_MARKER).read_text())
    marker["md5"][gz.name] = hashlib.md5(gz.read_bytes()).hexdigest()
    (folder / mnist.SYNTHETIC_MARKER).write_text(json.dumps(marker))
    with pytest.raises(CorruptDatasetError, match="does not hold a valid IDX file"):
        ensure_mnist(root=synthetic_root)
    assert not (folder / "train-labels-idx1-ubyte").exists() and leftovers(folder) == []


def test_a_truncated_extracted_file_is_detected_and_extracted_again(synthetic_root):
    ensure_mnist(root=synthetic_root)
    extracted = synthetic_root / "MNIST" / "raw" / "train-images-idx3-ubyte"
    complete = extracted.read_bytes()
    # as an interrupted extraction by another tool would leave it
    extracted.write_bytes(complete[:1000])
    assert "needs" in mnist.idx_problem(extracted)
    with pytest.warns(UserWarning, match="train-images-idx3-ubyte is damaged"):
        images, _ = load_mnist("train", root=synthetic_root)
    assert extracted.read_bytes() == complete and images.shape == (600, 28, 28)
    assert leftovers(extracted.parent) == []


def test_idx_problem_recognises_non_idx_files(tmp_path):
    path = tmp_path / "file"
    path.write_bytes(b"PK\x03\x04 a zip file")
    assert "not an IDX file" in mnist.idx_problem(path)
    path.write_bytes(bytes([0, 0, 8, 3, 0, 0]))
    assert "header is cut off" in mnist.idx_problem(path)
    path.write_bytes(mnist.idx_header((2, 3)) + bytes(6))
    assert mnist.idx_problem(path) is None


def test_synthetic_writer_never_overwrites_official_files(tmp_path):
    folder = tmp_path / "MNIST" / "raw"
    folder.mkdir(parents=True)
    (folder / OFFICIAL_FILES[0]).write_bytes(b"official")
    with pytest.raises(FileExistsError, match="not synthetic"):
        write_synthetic_mnist(tmp_path)
    assert (folder / OFFICIAL_FILES[0]).read_bytes() == b"official"


# --- where the data lives -------------------------------------------------------------------------


def test_data_root_default_environment_and_argument(tmp_path, monkeypatch):
    monkeypatch.delenv(settings.DATA_ENV, raising=False)
    assert settings.data_root() == settings.REPO_DATA_DIR
    assert mnist.mnist_folder() == settings.REPO_DATA_DIR / "MNIST" / "raw"
    (tmp_path / "course").mkdir()
    (tmp_path / "relative").mkdir()
    monkeypatch.setenv(settings.DATA_ENV, str(tmp_path / "course"))
    assert settings.data_root() == tmp_path / "course"
    assert settings.data_root(tmp_path / "mine") == tmp_path / "mine"  # the argument wins
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(settings.DATA_ENV, "relative")
    assert settings.data_root() == tmp_path / "relative" and settings.data_root().is_absolute()


def test_nothing_is_written_to_the_working_directory(tmp_path, monkeypatch):
    data, work = tmp_path / "data", tmp_path / "work"
    write_synthetic_mnist(data, n_train=100, n_test=50)
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv(settings.DATA_ENV, str(data))
    load_mnist_splits(val_fraction=0.2)
    with pytest.raises(DatasetNotFoundError):
        ensure_mnist(root=tmp_path / "empty")
    assert os.listdir(work) == []
