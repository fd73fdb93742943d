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


def cpu_defaults() -> dict[str, int]:
    """The CPU branch of notebook 04's parameters cell, read from its source: {name: value}."""
    import re

    import nbformat

    nb = nbformat.read(ROOT / "notebooks" / "04_svhn_cnn.ipynb", as_version=4)
    source = next(c.source for c in nb.cells if c.cell_type == "code" and "IMAGE_EPOCHS" in c.source)
    cpu_branch = source[source.rindex("\nelse:"):]
    values = {"MAX_EPOCHS": int(re.search(r"MAX_EPOCHS = 2 if SMOKE else (\d+)", source)[1])}
    for names, numbers in re.findall(r"^ +([A-Z_, ]+?) = ([\d_, ]+?)\s*(?:#|$)", cpu_branch, re.MULTILINE):
        values.update(zip((n.strip() for n in names.split(",")), (int(v) for v in numbers.split(","))))
    return values


def test_stored_measurement_is_of_the_current_defaults_on_official_sized_files():
    """Section 6 prints notebooks/04_svhn_cnn.timing.json as the time of the *current* defaults: changing the
    CPU budget in the parameters cell without measuring again (scripts/svhn_time_budget.py) fails here."""
    timing = json.loads((ROOT / "notebooks" / "04_svhn_cnn.timing.json").read_text())
    assert (timing["n_train_file"], timing["n_test_file"]) == (73_257, 26_032)   # the official sizes
    assert "default parameters" in timing["machine"] and "smoke" not in timing["machine"]
    assert set(timing["parts"]) == {"ablations", "final model", "test", "everything else"}
    defaults = cpu_defaults()
    n_train = 73_257 - 7_326                       # minus the 10% validation images, stratified
    images = min(defaults["TRAIN_IMAGES"], n_train)
    epochs = max(1, min(defaults["MAX_EPOCHS"], defaults["IMAGE_EPOCHS"] // images))
    assert timing["parameters"] == (f"final model {images:,} training images x {epochs} epochs, ablations 6 x "
                                    f"{defaults['ABLATION_EPOCHS']} epochs on at most "
                                    f"{defaults['ABLATION_TRAIN_IMAGES']:,} images")
    assert timing["total_seconds"] <= 15 * 60, "the stored measurement is over the notebook's 15-minute budget"
