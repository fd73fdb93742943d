"""Tests of scripts/svhn_time_budget.py, which times notebook 04's parts in a fresh kernel."""

import json
import os

import pytest

from helpers.settings import CACHE_ENV, REPO_ROOT, SMOKE_ENV, SVHN_ENV
from scripts import svhn_time_budget

STORED = REPO_ROOT / "docs" / "svhn_time_budget.json"


@pytest.mark.slow   # notebook 04 in a fresh kernel
def test_smoke_run_records_the_whole_notebook_and_its_timed_parts(tmp_path):
    """A real run in smoke mode times the whole notebook and its parts, and changes no switch here.

    Tiny synthetic files: the same code path as the measurement on official-sized files, minus the
    size. The stored measurement in docs/ is not touched. The script's main() runs in this process
    (its kernel is a fresh one): the switches go to the kernel only, this process's environment is
    left as it was.
    """
    switches = (SVHN_ENV, CACHE_ENV, SMOKE_ENV, "MPLBACKEND")
    # the kernel's switches only: importing scikit-learn sets KMP_INIT_AT_FORK here, as it should
    switches_before = {name: os.environ.get(name) for name in switches}
    output = tmp_path / "timing.json"
    stored = STORED
    before = stored.read_bytes() if stored.exists() else None
    assert svhn_time_budget.main(["--smoke", "--output", str(output)]) == 0
    result = json.loads(output.read_text())
    assert (result["n_train_file"], result["n_test_file"]) == (300, 100)
    assert set(result["parts"]) == {"ablations", "final model", "test", "everything else"}
    assert all(seconds >= 0 for seconds in result["parts"].values())
    assert result["parts"]["final model"] > 0 and result["total_seconds"] >= sum(
        seconds for part, seconds in result["parts"].items() if part != "everything else")
    assert "smoke mode" in result["machine"] and "synthetic" in result["files"]
    assert (stored.read_bytes() if stored.exists() else None) == before
    assert {name: os.environ.get(name) for name in switches} == switches_before


def test_the_kernel_gets_the_switches_in_a_copy_of_the_environment(tmp_path):
    """The data folder, the cache and the mode go into the kernel's environment, not os.environ."""
    environment_before = dict(os.environ)
    env = svhn_time_budget.kernel_environment(tmp_path, "/cache", smoke=True)
    assert (env[SVHN_ENV], env[CACHE_ENV], env[SMOKE_ENV]) == (str(tmp_path), "/cache", "1")
    assert dict(os.environ) == environment_before


def test_stored_measurement_is_of_the_current_defaults_on_official_sized_files():
    """docs/svhn_time_budget.json, stated in the README, times the *current* CPU defaults.

    Changing the CPU budget in helpers/recipes.py without measuring again
    (scripts/svhn_time_budget.py) fails here.
    """
    from helpers.recipes import svhn_budget

    timing = json.loads(STORED.read_text())
    assert (timing["n_train_file"], timing["n_test_file"]) == (73_257, 26_032)  # the official sizes
    assert "default parameters" in timing["machine"] and "smoke" not in timing["machine"]
    assert set(timing["parts"]) == {"ablations", "final model", "test", "everything else"}
    n_train = 73_257 - 7_326                       # minus the 10% validation images, stratified
    assert timing["parameters"] == svhn_budget("cpu").plan(n_train)
    assert timing["total_seconds"] <= 15 * 60, (
        "the stored measurement is over the notebook's 15-minute budget")
