"""Test-suite settings: every notebook runs in smoke mode, on synthetic data, figures off-screen.

It sits at the repository root so that it applies to every pytest run, also `pytest notebooks/NN_x.ipynb`
on its own (a conftest.py in tests/ would only be read when tests/ is collected).

nbval starts each notebook's kernel as a child of this process, so the environment variables set
here reach the notebooks too. No test may touch the network or ../shared.
"""

import os
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("HELPERS_SMOKE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")


def pytest_configure(config):
    """Point HELPERS_DATA at a fresh folder holding small synthetic datasets in the official formats,
    so that the notebooks' real loading code (torchvision and helpers.data) runs in smoke mode."""
    if os.environ.get("HELPERS_DATA"):
        return  # the caller chose a data root (e.g. to run the notebooks on real data)
    root = Path(tempfile.mkdtemp(prefix="helpers-smoke-data-"))
    os.environ["HELPERS_DATA"] = str(root)
    from helpers.data import write_synthetic_datasets
    write_synthetic_datasets(root)


@pytest.fixture(autouse=True)
def _seeded_torch():
    """Every test starts from the same random state, whatever ran before it: a model built inside a test
    gets the same initial weights in every run and in any test order (a fresh clone once drew a rare
    initialisation that a 30-step learning check could not bring down in time)."""
    import torch

    torch.manual_seed(0)
    yield
