import json
from pathlib import Path

import pytest

from helpers import cache
from helpers.cache import cache_dir, cached_run, run_key


def counting(result):
    calls = []

    def compute():
        calls.append(1)
        return dict(result)

    return compute, calls


def test_second_call_loads_from_cache(tmp_path):
    compute, calls = counting({"acc": 0.9, "history": {"loss": [1.0, 0.5]}})
    first = cached_run("run", {"lr": 0.1}, compute, folder=tmp_path)
    second = cached_run("run", {"lr": 0.1}, compute, folder=tmp_path)
    assert calls == [1]
    assert first == {"acc": 0.9, "history": {"loss": [1.0, 0.5]}, "cached": False}
    assert second == {**first, "cached": True}


def test_key_depends_on_config_not_on_key_order(tmp_path):
    assert run_key({"a": 1, "b": [1, 2]}) == run_key({"b": [1, 2], "a": 1})
    assert run_key({"a": 1}) != run_key({"a": 2})
    compute, calls = counting({"acc": 1.0})
    cached_run("run", {"seed": 0}, compute, folder=tmp_path)
    cached_run("run", {"seed": 1}, compute, folder=tmp_path)
    assert len(calls) == 2


def test_recompute_ignores_the_cache(tmp_path, monkeypatch):
    compute, calls = counting({"acc": 1.0})
    cached_run("run", {}, compute, folder=tmp_path)
    cached_run("run", {}, compute, folder=tmp_path, recompute=True)
    monkeypatch.setenv("HELPERS_RECOMPUTE", "1")
    cached_run("run", {}, compute, folder=tmp_path)
    assert len(calls) == 3


def test_corrupt_entry_is_detected_and_recomputed(tmp_path):
    compute, calls = counting({"acc": 1.0})
    cached_run("run", {"x": 1}, compute, folder=tmp_path)
    (entry,) = tmp_path.glob("run-*.json")
    entry.write_text(entry.read_text()[:20])  # truncated, as by a crash mid-write of a naive writer
    with pytest.warns(UserWarning, match="unreadable"):
        result = cached_run("run", {"x": 1}, compute, folder=tmp_path)
    assert result["cached"] is False and len(calls) == 2
    assert json.loads(entry.read_text())["result"] == {"acc": 1.0}


def test_interrupted_compute_leaves_no_entry(tmp_path):
    def interrupted():
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        cached_run("run", {}, interrupted, folder=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_interrupted_write_keeps_the_old_entry(tmp_path, monkeypatch):
    compute, _ = counting({"acc": 0.5})
    cached_run("run", {}, compute, folder=tmp_path)
    (entry,) = tmp_path.glob("run-*.json")
    before = entry.read_text()

    def broken_dump(obj, file):
        file.write('{"config": {}, "res')
        raise KeyboardInterrupt

    monkeypatch.setattr(cache.json, "dump", broken_dump)
    with pytest.raises(KeyboardInterrupt):
        cached_run("run", {}, compute, folder=tmp_path, recompute=True)
    assert entry.read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == [entry.name]


def test_smoke_mode_has_its_own_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("HELPERS_SMOKE", "0")
    full = cache_dir(tmp_path)
    monkeypatch.setenv("HELPERS_SMOKE", "1")
    smoke = cache_dir(tmp_path)
    assert (full == tmp_path.resolve() / "cache" / "full"
            and smoke == tmp_path.resolve() / "cache" / "smoke")


def test_helpers_cache_moves_the_cache_and_keeps_modes_apart(tmp_path, monkeypatch):
    monkeypatch.setenv("HELPERS_CACHE", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("HELPERS_SMOKE", "1")
    assert cache_dir() == (tmp_path / "elsewhere" / "smoke").resolve()
    monkeypatch.setenv("HELPERS_SMOKE", "0")
    assert cache_dir() == (tmp_path / "elsewhere" / "full").resolve()


def test_smoke_run_never_reads_a_full_mode_entry(tmp_path, monkeypatch):
    monkeypatch.setenv("HELPERS_CACHE", str(tmp_path))
    monkeypatch.setenv("HELPERS_SMOKE", "0")
    full, _ = counting({"acc": 0.99})
    cached_run("run", {"lr": 0.1}, full)
    monkeypatch.setenv("HELPERS_SMOKE", "1")
    smoke, calls = counting({"acc": 0.5})
    assert cached_run("run", {"lr": 0.1}, smoke) == {"acc": 0.5, "cached": False}
    assert calls == [1]


def test_read_only_data_root_is_not_written_into(tmp_path, monkeypatch):
    course_data = tmp_path / "course-data"
    course_data.mkdir()
    monkeypatch.delenv("HELPERS_CACHE", raising=False)
    monkeypatch.setenv("HELPERS_DATA", str(course_data))
    monkeypatch.setenv("HELPERS_SMOKE", "0")
    monkeypatch.setattr(cache, "USER_CACHE_DIR", tmp_path / "user-cache")
    assert cache_dir() == course_data.resolve() / "cache" / "full"  # writable: next to the data
    real_access = cache.os.access
    # as for a non-root user on a read-only folder (root ignores modes)
    monkeypatch.setattr(cache.os, "access",
                        lambda path, mode: False if Path(path).resolve() == course_data.resolve()
                        else real_access(path, mode))
    assert cache_dir() == tmp_path / "user-cache" / "full"


def test_unwritable_cache_returns_the_result_with_a_warning(tmp_path, monkeypatch):
    def no_disk(path, payload):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(cache, "_write_atomically", no_disk)
    compute, calls = counting({"acc": 1.0})
    with pytest.warns(UserWarning, match="Could not store"):
        assert cached_run("run", {}, compute, folder=tmp_path) == {"acc": 1.0, "cached": False}


def notebook_cells(source, name):
    """Run ``source`` as IPython runs a cell: in module ``__main__``, its text in linecache."""
    import linecache

    filename = f"<cell-{name}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace = {"__name__": "__main__"}
    exec(compile(source, filename, "exec"), namespace)
    return namespace


EXPERIMENT = '''
def train(config):
    return {"acc": 0.9}

def run(config):
    return train(config)

CONFIG = {"lr": 0.1}
compute = lambda: run(CONFIG)
'''


def test_editing_the_experiment_code_changes_the_key(tmp_path):
    first = notebook_cells(EXPERIMENT, "a")
    assert (cached_run("exp", first["CONFIG"], first["compute"], folder=tmp_path)
            == {"acc": 0.9, "cached": False})
    # the notebook re-run without edits: the stored result is used
    same = notebook_cells(EXPERIMENT, "b")
    assert cached_run("exp", same["CONFIG"], same["compute"], folder=tmp_path)["cached"] is True
    # an edit two calls deep (compute -> run -> train) is seen: never the old numbers
    edited = notebook_cells(EXPERIMENT.replace('"acc": 0.9', '"acc": 0.5'), "c")
    assert (cached_run("exp", edited["CONFIG"], edited["compute"], folder=tmp_path)
            == {"acc": 0.5, "cached": False})
    # code the key cannot see (helpers itself): an explicit version
    bumped = cached_run("exp", edited["CONFIG"], edited["compute"], folder=tmp_path, version=2)
    assert bumped["cached"] is False
    assert cached_run("exp", edited["CONFIG"], edited["compute"], folder=tmp_path,
                      version=2)["cached"] is True


def test_code_fingerprint_without_source_uses_the_bytecode():
    namespace = {"__name__": "__main__"}
    exec("def f():\n    return 1\ndef g():\n    return 2\n", namespace)  # no source anywhere
    assert cache.code_fingerprint(namespace["f"]) != cache.code_fingerprint(namespace["g"])
    assert cache.code_fingerprint(namespace["f"]) == cache.code_fingerprint(namespace["f"])
