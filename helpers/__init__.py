"""Shared plumbing for the teaching notebooks: the code the notebooks write out once, then reuse.

One module per concern, so that a notebook imports exactly what it talks about:

- ``helpers.settings``    -- every switch read from the environment (smoke mode, claims checked,
                             data root...), the repository's paths (``REPO_ROOT``), atomic writes
- ``helpers.data``        -- one module per dataset (2D rings, 8x8 digits, MNIST, SVHN), splits,
                             normalisation and augmentation, ``TensorLoader``, downloads, the
                             synthetic stand-ins the tests use (its docstring lists its modules)
- ``helpers.models``      -- the model classes and factories more than one notebook uses, the
                             parameter table
- ``helpers.training``    -- seeding, device choice, ``train_one_epoch`` (notebook 01's loop),
                             ``evaluate``, ``fit`` -> history dict, checkpoints, the run's display
- ``helpers.plotting``    -- learning curves, decision boundaries, the other figures and the
                             description (alt text) of each; the course's plotting style
- ``helpers.stats``       -- the one standard of evidence: paired intervals over seeds, Wilson
                             intervals, McNemar's test
- ``helpers.claims``      -- the statements of a conclusion, checked against the run they are about
- ``helpers.experiments`` -- notebook 05's controlled experiments: its runs and their results
- ``helpers.cache``       -- finished training runs stored by configuration
- ``helpers.recipes``     -- the training settings of notebooks 03 and 04 (the fast MNIST CNN, the
                             SVHN model and its CPU budget)
- ``helpers.playground``  -- notebook 01's interactive toy classifier
- ``helpers.checks``      -- the self-checks that follow each exercise (``core``, ``own``: the
                             student's code runs the experiment, one module per notebook)
- ``helpers.coursework``  -- student copies, grading (find, assemble, execute, judge, gradebook),
                             written answers, LMS exports, Gradescope autograders

The maintainers' tools are in ``scripts/`` (the README's layout lists them), not in the package.
"""

from helpers.settings import data_root, smoke_mode

__all__ = ["data_root", "smoke_mode"]
__version__ = "0.1.0"
