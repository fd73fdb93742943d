"""How long does notebook 04 take on official SVHN with its default parameters? Run it and measure.

    python scripts/svhn_time_budget.py               # official-sized synthetic files, writes the
                                                     # measurement
    python scripts/svhn_time_budget.py --folder DIR  # the .mat files in DIR instead (e.g. the
                                                     # official ones)
    python scripts/svhn_time_budget.py --smoke       # a tiny run in smoke mode, to check the script

The time of the notebook depends on how many images it trains on and for how many epochs, not on
what the pixels show. So, without the official files, it writes **official-sized** synthetic files
(73,257 training / 26,032 test images in the official ``.mat`` layout) into a temporary folder, runs
the whole notebook on them in a fresh kernel (an empty run cache, so nothing is reused), exactly as
``make notebooks`` does, and records the wall time in all and of its sections 6 (the ablation), 7
(the final model) and 8 (the test set), found by their headings.
A conclusion's claim about what the model learned fails on synthetic pixels (``ClaimFailed``): such
a cell is recorded and the run goes on, since only the time is measured here; any other error stops
the script.

The result goes to ``docs/svhn_time_budget.json``; the README's maintainer section states it (the
notebook itself does not show it: how long a run took on our machine is not part of the lesson). Run
it on a quiet machine: anything else running makes it slower (never faster).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import scipy.io

from helpers.data import stratified_split
from helpers.data.svhn import is_synthetic, write_synthetic_svhn
from helpers.recipes import svhn_budget
from helpers.settings import CACHE_ENV, REPO_ROOT, SMOKE_ENV, SVHN_ENV

try:                          # run as a script: its folder, scripts/, is on sys.path
    from notebook_runner import cell_seconds, error_outputs, execute_notebook
except ModuleNotFoundError:   # imported as scripts.svhn_time_budget (the tests)
    from scripts.notebook_runner import cell_seconds, error_outputs, execute_notebook

NOTEBOOK = REPO_ROOT / "notebooks" / "04_svhn_cnn.ipynb"
OUTPUT = REPO_ROOT / "docs" / "svhn_time_budget.json"
OFFICIAL_SIZES = {"n_train": 73_257, "n_test": 26_032}
VAL_FRACTION = 0.1  # the notebook's share of each class held out for validation


def kernel_environment(svhn_folder: Path, cache: str, smoke: bool) -> dict[str, str]:
    """Return this process's environment plus the data, an empty run cache and the mode.

    The kernel gets it as a copy: this process's ``os.environ`` is left as it was.
    """
    return {**os.environ, SVHN_ENV: str(svhn_folder), CACHE_ENV: cache, "MPLBACKEND": "Agg",
            SMOKE_ENV: "1" if smoke else "0"}


def run_notebook(svhn_folder: Path, smoke: bool,
                 cell_timeout: int) -> tuple[nbformat.NotebookNode, float]:
    """Execute notebook 04 on the files in ``svhn_folder`` in a fresh kernel.

    Returns the executed notebook and the seconds the run took.
    """
    nb = nbformat.read(NOTEBOOK, as_version=4)
    partial = Path(tempfile.gettempdir()) / "svhn_time_budget.partial.ipynb"
    with tempfile.TemporaryDirectory(prefix="svhn-time-cache-") as cache:
        started, load_before = time.perf_counter(), os.getloadavg()[0]
        try:
            # immediate: a graceful shutdown adds about 2 s of waiting for the kernel to the timing
            execute_notebook(nb, NOTEBOOK.parent, kernel_environment(svhn_folder, cache, smoke),
                             cell_timeout, allow_errors=True, shutdown_kernel="immediate")
        except BaseException:  # keep the cells that ran: their times say where the time went
            nbformat.write(nb, partial)
            print(f"the run stopped; the notebook as far as it ran is in {partial}", flush=True)
            raise
        seconds = time.perf_counter() - started
        nb.metadata["load_average"] = [round(load_before, 1), round(os.getloadavg()[0], 1)]
        errors = failed_cells(nb)
        if any(name != "ClaimFailed" for _, name in errors):
            nbformat.write(nb, partial)
            raise RuntimeError(f"cells failed: {errors}; the executed notebook is in {partial}")
        return nb, seconds


def failed_cells(nb) -> list[tuple[int, str]]:
    """Return (cell index, exception name) of every cell whose run raised."""
    return [(index, output.get("ename", "")) for index, output in error_outputs(nb)]


#: The notebook's sections whose time is recorded on its own: a word of the heading -> the part.
TIMED_SECTIONS = {"Extra components": "ablations", "The final model": "final model",
                  "The test set": "test"}


def sections(nb) -> list[str | None]:
    """Return, for each cell, the timed part its section belongs to, or None.

    The section is the last ``## N. heading`` above the cell: the notebook carries no timing marks
    a student would see.
    """
    current, parts = None, []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for heading in re.findall(r"^## .*$", cell.source, re.M):
                current = next((part for words, part in TIMED_SECTIONS.items()
                                if words in heading), None)
        parts.append(current)
    return parts


def training_split_size(folder: Path) -> int:
    """Count the images in the training split, reading the labels only.

    That is the training file minus the notebook's stratified validation share.
    """
    labels = scipy.io.loadmat(folder / "train_32x32.mat", variable_names=["y"])["y"].reshape(-1)
    return len(labels) - len(stratified_split(labels % 10, VAL_FRACTION, 0)[1])


def images_in(path: Path) -> int:
    """Count the images a ``.mat`` file holds from its header (``X`` is 32x32x3xN) alone."""
    return next(shape[-1] for name, shape, _ in scipy.io.whosmat(path) if name == "X")


def measurement(nb, total_seconds: float, smoke: bool, folder: Path) -> dict:
    """The record written to docs/svhn_time_budget.json."""
    parts: dict[str, float] = {}
    for part, cell in zip(sections(nb), nb.cells):
        if part is not None:
            parts[part] = parts.get(part, 0.0) + cell_seconds(cell)
    parts["everything else"] = total_seconds - sum(parts.values())
    # what this run trained: the CPU budget of helpers.recipes on this training file
    parameters = svhn_budget("cpu", smoke=smoke).plan(training_split_size(folder))
    import torch  # after the run: the kernel chose its own threads

    return {
        "date": datetime.date.today().isoformat(),
        "machine": f"{os.cpu_count()} CPU cores, {platform.machine()}, torch {torch.__version__}, "
                   f"{'smoke mode' if smoke else 'default parameters'}",
        # Other programs running at the same time make the run
        # slower, never faster: the load says how busy it was.
        "load_average_start_end": nb.metadata.get("load_average"),
        "files": ("synthetic files in the official .mat layout" if is_synthetic(folder)
                  else "SVHN-format files"),
        "n_train_file": images_in(folder / "train_32x32.mat"),
        "n_test_file": images_in(folder / "test_32x32.mat"),
        "parameters": parameters,
        # claims about what was learned, checked in full mode,
        # fail on synthetic pixels: only the time counts here
        "failed_claim_cells": [index for index, _ in failed_cells(nb)],
        "total_seconds": round(total_seconds, 1),
        "parts": {name: round(seconds, 1) for name, seconds in parts.items()},
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--folder", type=Path,
                        help="folder with train_32x32.mat and test_32x32.mat "
                        "(default: official-sized synthetic files in a temporary folder)")
    parser.add_argument("--output", type=Path, default=OUTPUT,
                        help=f"where to write the result (default {OUTPUT})")
    parser.add_argument("--smoke", action="store_true",
                        help="tiny files, smoke mode: checks the script, measures nothing")
    parser.add_argument("--save-executed", type=Path,
                        help="also save the executed notebook there (to read it)")
    parser.add_argument("--cell-timeout", type=int, default=3600)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="svhn-time-data-") as scratch:
        folder = args.folder
        if folder is None:
            sizes = {"n_train": 300, "n_test": 100} if args.smoke else OFFICIAL_SIZES
            print(f"writing synthetic SVHN files of {sizes['n_train']:,} / {sizes['n_test']:,} "
                  "images ...", flush=True)
            folder = write_synthetic_svhn(folder=Path(scratch) / "SVHN", **sizes)
        print(f"running {NOTEBOOK.name} on {folder} "
              f"({'smoke mode' if args.smoke else 'default parameters'}) ...",
              flush=True)
        nb, seconds = run_notebook(folder.resolve(), args.smoke, args.cell_timeout)
        result = measurement(nb, seconds, args.smoke, folder)
    args.output.write_text(json.dumps(result, indent=1) + "\n")
    if args.save_executed:
        nbformat.write(nb, args.save_executed)
    print(json.dumps(result, indent=1))
    print(f"whole notebook: {seconds / 60:.1f} min wall; written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
