"""Every switch read from the environment, in one place, and where the code runs.

``HELPERS_SMOKE=1``
    Smoke mode: tiny data, one or two epochs, no progress bars. The test suite and grading set
    it so that every notebook runs in seconds; a student or an instructor never needs it.
``HELPERS_STRICT=1``
    A false claim stops the run (:class:`helpers.claims.ClaimFailed`). ``make notebooks`` sets it,
    so that no notebook is stored with a conclusion its own run contradicts; in any other run a
    false claim is shown as not supported by that run, and the notebook goes on.
``HELPERS_DATA=/some/folder``
    Where datasets are looked for and downloaded to (default: ``data/`` in the repository).
    Point it at a course-provided copy of MNIST/SVHN to skip downloading. It must exist.
``HELPERS_SVHN=/some/folder``
    Where notebook 04 reads SVHN's two ``.mat`` files (default ``<data root>/SVHN``);
    ``make notebooks`` points it at the course's SVHN sample when the official files are absent.
``HELPERS_CACHE=/some/folder``
    Where finished training runs are cached (default ``<data root>/cache``): an empty folder
    times a notebook from scratch.
``HELPERS_RECOMPUTE=1``
    Train every cached run again (what ``RECOMPUTE = True`` in a parameters cell does).
``HELPERS_DEVICE=cpu``
    The device :func:`helpers.training.choose_device` returns (default: CUDA, then MPS, then CPU).
``HELPERS_WIDGETS=1`` or ``0``
    Whether the front end renders ipywidgets (default: found out, see :func:`frontend`), e.g.
    ``1`` for VS Code; ``make notebooks`` sets ``0`` so that no widget state is stored.

Only this module reads them (``tests/test_settings.py`` fails otherwise); code that sets one for
a child process uses the names below. Also the two path helpers everything shares:
:func:`shown_path` and :func:`atomic_write`.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SMOKE_ENV = "HELPERS_SMOKE"
STRICT_ENV = "HELPERS_STRICT"
DATA_ENV = "HELPERS_DATA"
SVHN_ENV = "HELPERS_SVHN"
CACHE_ENV = "HELPERS_CACHE"
RECOMPUTE_ENV = "HELPERS_RECOMPUTE"
DEVICE_ENV = "HELPERS_DEVICE"
WIDGETS_ENV = "HELPERS_WIDGETS"

#: The folder holding the ``helpers`` package: the repository's root in a checkout (the one place
#: it is computed; scripts and the coursework tools import it).
REPO_ROOT = Path(__file__).resolve().parent.parent
#: ``data/`` next to the ``helpers`` package: the repository's data folder in a checkout.
REPO_DATA_DIR = REPO_ROOT / "data"


def _text(name: str) -> str:
    """The switch's value without surrounding spaces; "" when it is not set."""
    return os.environ.get(name, "").strip()


def _flag(name: str) -> bool | None:
    """True for 1/true/yes/on, False for any other value, None when the switch is not set."""
    value = _text(name).lower()
    return value in {"1", "true", "yes", "on"} if value else None


def _folder(name: str) -> Path | None:
    """The switch's folder as an absolute path, or None when it is not set."""
    return Path(_text(name)).expanduser().resolve() if _text(name) else None


def smoke_mode() -> bool:
    """True when ``HELPERS_SMOKE`` is set to 1/true/yes/on (the test suite does this)."""
    return bool(_flag(SMOKE_ENV))


def claims_must_hold() -> bool:
    """True when ``HELPERS_STRICT`` is set to 1/true/yes/on (``make notebooks`` does this)."""
    return bool(_flag(STRICT_ENV))


def recompute_requested() -> bool:
    """True when ``HELPERS_RECOMPUTE`` is set to 1/true/yes/on: cached runs are trained again."""
    return bool(_flag(RECOMPUTE_ENV))


def device_override() -> str | None:
    """``$HELPERS_DEVICE`` (e.g. ``"cpu"``), or None when it is not set."""
    return _text(DEVICE_ENV) or None


def svhn_folder_override() -> Path | None:
    """``$HELPERS_SVHN`` as an absolute path, or None when it is not set."""
    return _folder(SVHN_ENV)


def cache_folder_override() -> Path | None:
    """``$HELPERS_CACHE`` as an absolute path, or None when it is not set."""
    return _folder(CACHE_ENV)


def data_root(root: str | os.PathLike | None = None) -> Path:
    """The folder that datasets are read from and downloaded to.

    Priority: the ``root`` argument, then ``$HELPERS_DATA``, then ``data/`` in the repository
    (or ``~/.cache/dl-notebooks`` when ``helpers`` was installed without a checkout, e.g. in
    Colab). The result is always an absolute path, so nothing lands in the current working
    directory by accident.
    """
    if root is None and _text(DATA_ENV):
        root = _folder(DATA_ENV)
        if not root.is_dir():  # a typo must not start a 250 MB download into a new folder
            what = "a file" if root.exists() else "not there"
            raise NotADirectoryError(
                f"{DATA_ENV}={os.environ[DATA_ENV]} is {what}: it must name an existing folder. "
                f"Fix the path, `mkdir -p {root}` to download the datasets there, or unset "
                f"{DATA_ENV} to use the default.")
    if root is None:
        in_checkout = (REPO_DATA_DIR.parent / "pyproject.toml").is_file()
        root = REPO_DATA_DIR if in_checkout else Path.home() / ".cache" / "dl-notebooks"
    return Path(root).expanduser().resolve()


def _kernel_running() -> bool:
    """True inside a Jupyter kernel (JupyterLab, Colab, nbconvert, nbval, VS Code)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    return getattr(get_ipython(), "kernel", None) is not None


def frontend() -> str:
    """Say where this code runs, which decides what it may display.

    - ``"script"``: no Jupyter kernel (a terminal, a script, pytest): text only, no displays;
    - ``"notebook"``: a kernel whose outputs are stored or shown statically (nbconvert, nbval;
      also VS Code unless ``HELPERS_WIDGETS=1``): displays updated in place, but no ipywidgets,
      which nobody could render there;
    - ``"widgets"``: a kernel of a live front end that renders ipywidgets: JupyterLab or
      Notebook (Jupyter Server sets ``$JPY_SESSION_NAME``; nbconvert and nbval do not) or Colab.
      ``HELPERS_WIDGETS=1``/``0`` decides instead.
    """
    if not _kernel_running():
        return "script"
    widgets = _flag(WIDGETS_ENV)
    if widgets is None:
        widgets = "JPY_SESSION_NAME" in os.environ or "google.colab" in sys.modules
    return "widgets" if widgets else "notebook"


def shown_path(path: str | os.PathLike) -> str:
    """Return ``path`` relative to the repository when it is inside it.

    Stored outputs then show no home folder.
    """
    path, repository = Path(path), REPO_DATA_DIR.parent
    if path.is_relative_to(repository):
        return str(path.relative_to(repository))
    if path.is_relative_to(repository.parent) and repository.parent != Path(repository.anchor):
        # beside the checkout, e.g. a course's shared data folder: no machine path stored
        return str(Path("..") / path.relative_to(repository.parent))
    return str(path)


@contextmanager
def atomic_write(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; it replaces ``path`` in one step when the block ends.

    On an error (Ctrl-C included) it is deleted instead: ``path`` is never half-written, an older
    file stays.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    os.close(handle)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; readable like any other file
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
