"""Datasets, loaders, splits, normalisation and augmentation.

One file per dataset, and one per concern they share. What the notebooks and scripts use is
re-exported here, so they write ``from helpers.data import ...``; the rest (and the tests) import
from the module itself:

- ``toy2d``         -- the 2D "disc inside a ring" data of notebook 01 (shipped in ``data/2d``)
- ``digits``        -- scikit-learn's 8x8 digits of notebook 02, split in order 1000/350/447
                       (no download)
- ``mnist``         -- MNIST through torchvision into tensors once
- ``svhn``          -- SVHN's official .mat files into tensors once, the test file read only
                       on request
- ``splits``        -- stratified splits, class-balanced subsets, ``Splits`` (what MNIST and
                       SVHN loading return)
- ``transforms``    -- features, normalisation and augmentation, all in one place
- ``tensor_loader`` -- ``TensorLoader``: batches of in-memory tensors, no per-item Python
- ``downloads``     -- getting files onto disk: offline use, verified atomic downloads, clear errors
- ``synthetic``     -- small stand-ins for MNIST and SVHN in their official formats, for tests

``__main__`` -- ``python -m helpers.data``: regenerate the 2D data, download or check MNIST/SVHN.
"""

from helpers.data import mnist, svhn
from helpers.data.digits import DIGITS_SPLITS, DigitsDataset, digits_loaders, load_digits_split
from helpers.data.downloads import CorruptDatasetError, DatasetNotFoundError
from helpers.data.mnist import ensure_mnist, load_mnist_splits
from helpers.data.splits import stratified_split
from helpers.data.svhn import load_svhn_splits, official_files_present, svhn_folder
from helpers.data.tensor_loader import TensorLoader
from helpers.data.toy2d import make_rings, rings_path
from helpers.data.transforms import (RandomShift, channel_stats, normalize_images, normalize_pixels,
                                     polar_features, random_affine)


def write_synthetic_datasets(root) -> None:
    """Write small synthetic MNIST and SVHN in their official formats into ``root``.

    They go to ``root/MNIST/raw`` and ``root/SVHN``: the data of the test suite (conftest.py) and
    of grading (helpers.coursework.grade).
    """
    mnist.write_synthetic_mnist(root)
    svhn.write_synthetic_svhn(root)
