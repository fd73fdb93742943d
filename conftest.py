"""Test-suite settings: every notebook runs in smoke mode, on synthetic data, figures off-screen.

It sits at the repository root so that it applies to every pytest run, also
`pytest notebooks/NN_x.ipynb` on its own (a conftest.py in tests/ would only be read when tests/ is
collected).

nbval starts each notebook's kernel as a child of this process, so the environment variables set
here reach the notebooks too. No test may touch the network or ../shared.
"""

import fcntl
import multiprocessing.process
import os
import resource
import subprocess
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("HELPERS_SMOKE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
# One CPU thread per process (this one, every kernel, every script the tests start): smoke-mode
# tensors are tiny, so more threads only wait for each other, and `make test` runs two test
# processes side by side (pytest-xdist). Set here, before anything imports torch. Measured on 2 busy
# cores, nbval over notebook 02: 91 CPU seconds with PyTorch's default threads, 22 with one.
for _threads in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_threads, "1")


#: In a fresh data root while its synthetic datasets are still to be written (pytest-xdist).
PENDING = ".synthetic-data-pending"


def pytest_configure(config):
    """Point HELPERS_DATA at a fresh folder of small synthetic datasets in the official formats.

    The notebooks' real loading code (torchvision and helpers.data) then runs in smoke mode.

    Under pytest-xdist (``-n``) the main process only makes the folder: the first worker writes
    the datasets (the others wait for it), so that the main process never imports PyTorch and
    the workers start at once. The workers inherit HELPERS_DATA from it.
    """
    chosen = os.environ.get("HELPERS_DATA")
    if chosen and not (Path(chosen) / PENDING).exists():
        return  # the caller chose a data root (e.g. real data), or a worker has written it
    if not chosen:
        root = Path(tempfile.mkdtemp(prefix="helpers-smoke-data-"))
        os.environ["HELPERS_DATA"] = str(root)
        config._helpers_made_data_root = root  # removed in pytest_unconfigure, by its maker only
        if getattr(config.option, "numprocesses", None):  # the main process of pytest-xdist
            (root / PENDING).touch()
            return
    root = Path(os.environ["HELPERS_DATA"])
    # Imported before the lock (PyTorch and torchvision: 2.5 s), which the tests need anyway: a
    # worker that waits for another's datasets then waits only for the writing (0.2 s).
    import torchvision.datasets  # noqa: F401  (the writer asks it for the official file names)

    from helpers.data import write_synthetic_datasets
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one worker writes; the others wait here until it is
        if chosen is None or (root / PENDING).exists():
            write_synthetic_datasets(root)
            (root / PENDING).unlink(missing_ok=True)


def pytest_unconfigure(config):
    """Remove the synthetic data folder and exit without the interpreter's last garbage collections.

    With PyTorch and a few hundred tests' objects in memory those collections took 3.6 s of every
    run (measured: 0.4 s after ``gc.freeze()``). Nothing is lost: files, kernels and tmp_path are
    cleaned up before this, and reference counting still frees what it frees. The folder is the one
    pytest_configure made.
    """
    import gc
    import shutil

    made = getattr(config, "_helpers_made_data_root", None)
    if made is not None:  # the synthetic datasets of this run (the main process made the folder)
        shutil.rmtree(made, ignore_errors=True)
    gc.freeze()


def pytest_collection_modifyitems(config, items):
    """Mark every nbval cell ``slow``, then order the tests so that the long ones start first.

    The order: the notebooks' cells, then the other slow tests, then the rest, each in the order
    collected.

    ``make test`` runs them in parallel (pytest-xdist, ``-n``) with ``--dist loadscope``
    (pyproject.toml): a unit of work is a notebook (its cells run in order, in one kernel, as nbval
    needs) or a test module (its module-scoped fixtures are made once); the units go out in this
    order, so that the long ones start first and no long test is left to run alone at the end.
    """
    from nbval.plugin import IPyNbCell

    for item in items:
        if isinstance(item, IPyNbCell):
            item.add_marker(pytest.mark.slow)

    def rank(item) -> int:
        return 0 if isinstance(item, IPyNbCell) else 1 if item.get_closest_marker("slow") else 2
    items.sort(key=rank)


@pytest.fixture
def full_epoch_counts(monkeypatch):
    """Run a test out of smoke mode (and without progress bars), for tests that count epochs.

    ``fit`` trains at most two epochs in smoke mode, which the suite sets.
    """
    monkeypatch.setenv("HELPERS_SMOKE", "0")
    monkeypatch.setenv("TQDM_DISABLE", "1")


@pytest.fixture(autouse=True)
def _seeded_torch():
    """Start every test from the same random state, whatever ran before it.

    A model built inside a test gets the same initial weights in every run and in any test order (a
    fresh clone once drew a rare initialisation that a 30-step learning check could not bring down
    in time).
    """
    import torch

    torch.manual_seed(0)
    yield


#: Programs a test not marked ``slow`` must not start: a kernel, Jupyter, a browser, a sandbox, pip
#: or a fresh venv each cost seconds, and ``make test-fast`` (``-m "not slow"``) has 20 s in all.
SLOW_PROGRAMS = ("ipykernel", "jupyter", "nbconvert", "chrom", "node", "playwright", "bwrap", "pip",
                 "venv")
#: CPU seconds that the child processes of a test not marked ``slow`` may use: a Python that imports
#: PyTorch needs about 3, `ruff check` of the repository or `python -c` without torch well under 1.
FAST_CHILDREN_CPU_SECONDS = 1.5


def _started_program(words: list[str]) -> str:
    """What a command line runs: the program's name; for Python the module (``-m``) or script."""
    program = os.path.basename(words[0])
    if program.startswith("python"):
        rest = iter(words[1:])
        for word in rest:
            if word == "-m":
                return next(rest, "")
            if word == "-c":
                return program
            if not word.startswith("-"):
                return os.path.basename(word)
    return program


def _children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@pytest.fixture(autouse=True)
def _slow_tests_are_marked(request, monkeypatch):
    """Fail a test that does slow things without the ``@pytest.mark.slow`` mark.

    Slow things: starting a kernel, Jupyter, a browser, a sandbox, a process pool, or children that
    use more than :data:`FAST_CHILDREN_CPU_SECONDS`. The mark keeps ``make test-fast`` fast; without
    it the test fails here, in ``make test`` too.
    """
    if request.node.get_closest_marker("slow"):
        yield
        return
    started = []

    def refuse(what):
        started.append(what)
        pytest.fail(f"this test starts {what}: mark it @pytest.mark.slow (make test-fast leaves "
                    "those out)", pytrace=False)

    popen_init = subprocess.Popen.__init__

    def guarded_popen(self, args, *rest, **kwargs):
        if isinstance(args, (str, bytes, os.PathLike)):
            words = os.fsdecode(args).split() if kwargs.get("shell") else [os.fsdecode(args)]
        else:
            words = [os.fsdecode(word) for word in args]
        if words and _started_program(words).startswith(SLOW_PROGRAMS):
            refuse(f"`{' '.join(words)[:120]}`")
        popen_init(self, args, *rest, **kwargs)

    monkeypatch.setattr(subprocess.Popen, "__init__", guarded_popen)
    monkeypatch.setattr(multiprocessing.process.BaseProcess, "start",
                        lambda process: refuse(f"a {type(process).__name__} (multiprocessing)"))
    children_before = _children_cpu_seconds()
    yield started  # what was refused (tests/test_suite_markers.py empties it after refusals)
    children = _children_cpu_seconds() - children_before
    if started:  # also when the refusal was raised in one of the test's threads and swallowed
        refuse(started[0])
    if children > FAST_CHILDREN_CPU_SECONDS:
        pytest.fail(f"this test's child processes used {children:.1f} CPU seconds: mark it "
                    "@pytest.mark.slow (make test-fast leaves those out)", pytrace=False)

