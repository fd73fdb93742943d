"""scripts/svhn_time_budget.py: runs notebook 04 in a fresh kernel and records what each part took."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_smoke_run_records_the_whole_notebook_and_its_timed_parts(tmp_path):
    """A real run in smoke mode (tiny synthetic files): the same code path as the measurement on
    official-sized files, minus the size. The stored measurement in notebooks/ is not touched."""
    output = tmp_path / "timing.json"
    stored = (ROOT / "notebooks" / "04_svhn_cnn.timing.json")
    before = stored.read_bytes() if stored.exists() else None
    subprocess.run([sys.executable, str(ROOT / "scripts" / "svhn_time_budget.py"), "--smoke", "--output", str(output)],
                   check=True, capture_output=True, timeout=600)
    result = json.loads(output.read_text())
    assert (result["n_train_file"], result["n_test_file"]) == (300, 100)
    assert set(result["parts"]) == {"ablations", "final model", "test", "everything else"}
    assert all(seconds >= 0 for seconds in result["parts"].values())
    assert result["parts"]["final model"] > 0 and result["total_seconds"] >= sum(
        seconds for part, seconds in result["parts"].items() if part != "everything else")
    assert "smoke mode" in result["machine"] and "synthetic" in result["files"]
    assert (stored.read_bytes() if stored.exists() else None) == before
