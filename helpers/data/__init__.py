"""Datasets, loaders, splits, normalisation and feature transforms.

One file per dataset, all re-exported here so notebooks write ``from helpers.data import ...``:

- ``toy2d``       -- the 2D "disc inside a ring" data of notebook 01 (shipped in ``data/2d``)
- ``digits``      -- scikit-learn's 8x8 digits of notebook 02, split in order 1000/350/447 (no download)
- ``mnist``       -- MNIST through torchvision into tensors once; a synthetic stand-in for tests
- ``svhn``        -- SVHN's official .mat files into tensors once, leak-free split, batch augmentation
- ``tensor_loader`` -- ``TensorLoader``: batches of in-memory tensors, no per-item Python
- ``transforms``  -- feature transforms and splits shared by several notebooks
- ``downloads``   -- getting files onto disk: offline use, verified atomic downloads, clear errors
"""

from helpers.data.downloads import CorruptDatasetError, DatasetNotFoundError, RemoteFile, ensure_files

from helpers.data.digits import DIGITS_SPLITS, DigitsDataset, digits_loaders, load_digits_split
from helpers.data.mnist import (
    MnistSplits,
    balanced_subset,
    ensure_mnist,
    load_mnist,
    load_mnist_splits,
    normalize_pixels,
    write_synthetic_mnist,
)
from helpers.data.svhn import (
    RandomShift,
    SvhnSplits,
    channel_stats,
    load_svhn,
    load_svhn_splits,
    normalize_images,
    official_files_present,
    svhn_folder,
    write_synthetic_svhn,
)
from helpers.data.tensor_loader import TensorLoader
from helpers.data.toy2d import RINGS_DIR, load_rings, make_rings, rings_path, save_rings
from helpers.data.transforms import (
    polar_features,
    random_affine,
    standardize,
    standardization_stats,
    stratified_split,
)

__all__ = [
    "CorruptDatasetError",
    "DatasetNotFoundError",
    "RemoteFile",
    "ensure_files",
    "DIGITS_SPLITS",
    "DigitsDataset",
    "digits_loaders",
    "load_digits_split",
    "MnistSplits",
    "balanced_subset",
    "ensure_mnist",
    "load_mnist",
    "load_mnist_splits",
    "normalize_pixels",
    "write_synthetic_mnist",
    "RandomShift",
    "SvhnSplits",
    "channel_stats",
    "load_svhn",
    "load_svhn_splits",
    "normalize_images",
    "official_files_present",
    "svhn_folder",
    "write_synthetic_svhn",
    "TensorLoader",
    "RINGS_DIR",
    "load_rings",
    "make_rings",
    "rings_path",
    "save_rings",
    "polar_features",
    "random_affine",
    "standardize",
    "standardization_stats",
    "stratified_split",
]
