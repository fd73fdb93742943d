"""Shared plumbing for the teaching notebooks.

One module per concern, so that a notebook imports exactly what it talks about:

- ``helpers.settings``  -- every switch read from the environment (smoke mode, data root...)
- ``helpers.data``      -- datasets, loaders, splits, normalisation, feature transforms
- ``helpers.models``    -- model classes that more than one notebook uses
- ``helpers.training``  -- seeding, device choice, the training loop that returns a history dict
- ``helpers.plotting``  -- learning curves, decision boundaries and the other figures
- ``helpers.checks``    -- the self-checks that follow each exercise (PASSED / NOT YET with a hint)
- ``helpers.cache``     -- finished training runs stored by configuration, so notebook 05 re-runs
                           in seconds
- ``helpers.experiments`` -- notebook 05's recipe: models from JSON descriptions, optimisers,
                             cached runs, tables
- ``helpers.claims``    -- the statements of a conclusion, checked against the results they are
                           about
"""

from helpers.settings import data_root, smoke_mode

__all__ = ["data_root", "environment_line", "smoke_mode"]
__version__ = "0.1.0"


def environment_line() -> str:
    """One line naming what a notebook ran with, e.g.
    ``made with Python 3.11.7, torch 2.5.1, ... on cpu``."""
    import platform
    from importlib.metadata import version

    import numpy
    import torch

    from helpers.training import choose_device

    line = (f"made with Python {platform.python_version()}, torch {torch.__version__}, torchvision "
            f"{version('torchvision')}, numpy {numpy.__version__}, helpers {__version__} on "
            f"{choose_device().type}")
    # a stored notebook must come from a full run: tests/test_project.py looks for this mark
    return line + (" (smoke run: tiny data, results mean nothing)" if smoke_mode() else "")
