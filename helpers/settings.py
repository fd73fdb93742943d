"""The switches every notebook reads from the environment.

``HELPERS_SMOKE=1``
    Smoke mode: tiny data, one or two epochs, no progress bars. The test suite sets it so
    that every notebook runs in seconds; a student or an instructor never needs it.
``HELPERS_SVHN=/some/folder``
    Where notebook 04 reads SVHN's two ``.mat`` files (default ``<data root>/SVHN``).
``HELPERS_DATA=/some/folder``
    Where datasets are looked for and downloaded to (default: ``data/`` in the repository).
    Point it at a course-provided copy of MNIST/SVHN to skip downloading.

Also the two path helpers everything shares: :func:`shown_path` and :func:`atomic_write`.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SMOKE_ENV = "HELPERS_SMOKE"
DATA_ENV = "HELPERS_DATA"

#: ``data/`` next to the ``helpers`` package: the repository's data folder in a checkout.
REPO_DATA_DIR = Path(__file__).resolve().parent.parent / "data"


def smoke_mode() -> bool:
    """True when ``HELPERS_SMOKE`` is set to 1/true/yes (the test suite does this)."""
    return os.environ.get(SMOKE_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def data_root(root: str | os.PathLike | None = None) -> Path:
    """The folder that datasets are read from and downloaded to.

    Priority: the ``root`` argument, then ``$HELPERS_DATA``, then ``data/`` in the repository
    (or ``~/.cache/dl-notebooks`` when ``helpers`` was installed without a checkout, e.g. in Colab).
    The result is always an absolute path, so nothing lands in the current working directory
    by accident.
    """
    if root is None and os.environ.get(DATA_ENV, "").strip():
        root = Path(os.environ[DATA_ENV].strip()).expanduser().resolve()
        if not root.is_dir():  # a typo must not start a 250 MB download into a new folder
            what = "a file" if root.exists() else "not there"
            raise NotADirectoryError(f"{DATA_ENV}={os.environ[DATA_ENV]} is {what}: it must name an existing folder. "
                                     f"Fix the path, `mkdir -p {root}` to download the datasets there, or unset "
                                     f"{DATA_ENV} to use the default.")
    if root is None:
        in_checkout = (REPO_DATA_DIR.parent / "pyproject.toml").is_file()
        root = REPO_DATA_DIR if in_checkout else Path.home() / ".cache" / "dl-notebooks"
    return Path(root).expanduser().resolve()


def shown_path(path: str | os.PathLike) -> str:
    """``path`` relative to the repository when it is inside it, so stored outputs show no home folder."""
    path, repository = Path(path), REPO_DATA_DIR.parent
    if path.is_relative_to(repository):
        return str(path.relative_to(repository))
    if path.is_relative_to(repository.parent) and repository.parent != Path(repository.anchor):
        # beside the checkout, e.g. a course's shared data folder: no machine path in a stored notebook
        return str(Path("..") / path.relative_to(repository.parent))
    return str(path)


@contextmanager
def atomic_write(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` to write; it replaces ``path`` in one step when the block ends.

    On an error (Ctrl-C included) it is deleted instead: ``path`` is never half-written, an older file stays.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    os.close(handle)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; the result is as readable as any other file
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
