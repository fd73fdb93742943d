"""scripts/svhn_time_budget.py: runs notebook 04 in
a fresh kernel and records what each part took."""

import json
import os
from pathlib import Path

import pytest

from helpers.settings import CACHE_ENV, SMOKE_ENV, SVHN_ENV
from scripts import svhn_time_budget

ROOT = Path(__file__).resolve().parent.parent
STORED = ROOT / "docs" / "svhn_time_budget.json"


@pytest.mark.slow   # notebook 04 in a fresh kernel
def test_smoke_run_records_the_whole_notebook_and_its_timed_parts(tmp_path, monkeypatch):
    """A real run in smoke mode (tiny synthetic files): the same code path as the measurement on
    official-sized files, minus the size. The stored measurement in docs/ is not touched. The
    script's main() runs in this process (its kernel is a fresh one): the switches it sets for its
    kernel are put back afterwards."""
    for switch in (SVHN_ENV, CACHE_ENV, SMOKE_ENV, "MPLBACKEND"):
        monkeypatch.setenv(switch, os.environ.get(switch, ""))  # restored after the test
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


def test_stored_measurement_is_of_the_current_defaults_on_official_sized_files():
    """docs/svhn_time_budget.json (stated in the README) is the time of the *current* CPU defaults:
    changing the CPU budget in helpers/recipes.py without measuring again
    (scripts/svhn_time_budget.py) fails here."""
    from helpers.recipes import svhn_budget

    timing = json.loads(STORED.read_text())
    assert (timing["n_train_file"], timing["n_test_file"]) == (73_257, 26_032)  # the official sizes
    assert "default parameters" in timing["machine"] and "smoke" not in timing["machine"]
    assert set(timing["parts"]) == {"ablations", "final model", "test", "everything else"}
    n_train = 73_257 - 7_326                       # minus the 10% validation images, stratified
    assert timing["parameters"] == svhn_budget("cpu").plan(n_train)
    assert timing["total_seconds"] <= 15 * 60, (
        "the stored measurement is over the notebook's 15-minute budget")
