"""Datasets, loaders, splits, normalisation and feature transforms.

One file per dataset, all re-exported here so notebooks write ``from helpers.data import ...``:

- ``toy2d``       -- the 2D "disc inside a ring" data of notebook 01 (shipped in ``data/2d``)
- ``transforms``  -- feature transforms and splits shared by several notebooks
- ``downloads``   -- getting files onto disk: offline use, verified atomic downloads, clear errors
"""

from helpers.data.downloads import CorruptDatasetError, DatasetNotFoundError, RemoteFile, ensure_files

from helpers.data.toy2d import RINGS_DIR, load_rings, make_rings, rings_path, save_rings
from helpers.data.transforms import (
    polar_features,
    standardize,
    standardization_stats,
    stratified_split,
)

__all__ = [
    "CorruptDatasetError",
    "DatasetNotFoundError",
    "RemoteFile",
    "ensure_files",
    "RINGS_DIR",
    "load_rings",
    "make_rings",
    "rings_path",
    "save_rings",
    "polar_features",
    "standardize",
    "standardization_stats",
    "stratified_split",
]
