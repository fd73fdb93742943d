"""ensure_files: files on disk are used offline, downloads are verified and atomic, errors clear.

The network is never touched: torchvision's download_url is replaced by fakes.
"""

import hashlib
from pathlib import Path
from urllib.error import URLError

import pytest

from helpers.data import downloads
from helpers.data.downloads import (CorruptDatasetError, DatasetNotFoundError, RemoteFile,
                                    ensure_files)

CONTENT = b"official bytes"
REMOTE = RemoteFile("data.bin",
                    ("https://mirror-a.example/data.bin", "https://mirror-b.example/data.bin"),
                    hashlib.md5(CONTENT).hexdigest())


def no_network(url, root, filename=None, md5=None):
    raise URLError("[Errno -3] Temporary failure in name resolution")


def fake_download(content_by_url):
    calls = []

    def download(url, root, filename=None, md5=None):
        calls.append(url)
        content = content_by_url[url]
        if isinstance(content, Exception):
            raise content
        Path(root, filename).write_bytes(content)

    return download, calls


def test_present_file_is_used_without_network(tmp_path, monkeypatch):
    monkeypatch.setattr(downloads, "download_url", no_network)
    (tmp_path / "data.bin").write_bytes(CONTENT)
    assert ensure_files("Toy", tmp_path, [REMOTE]) == [tmp_path / "data.bin"]


def test_offline_and_missing_gives_an_actionable_error(tmp_path, monkeypatch):
    monkeypatch.setattr(downloads, "download_url", no_network)
    with pytest.raises(DatasetNotFoundError) as caught:
        ensure_files("Toy", tmp_path / "Toy", [REMOTE])
    message = str(caught.value)
    assert "Toy is not available" in message
    assert "data.bin" in message and REMOTE.md5 in message
    assert str(tmp_path / "Toy") in message
    assert "https://mirror-a.example/data.bin" in message
    assert "HELPERS_DATA" in message
    assert not any((tmp_path / "Toy").iterdir()), "nothing half-written may stay behind"


def test_download_switched_off(tmp_path, monkeypatch):
    monkeypatch.setattr(downloads, "download_url", no_network)
    with pytest.raises(DatasetNotFoundError, match="downloading is switched off"):
        ensure_files("Toy", tmp_path, [REMOTE], download=False)


def test_download_falls_back_to_the_next_mirror(tmp_path, monkeypatch):
    download, calls = fake_download({REMOTE.urls[0]: URLError("down"), REMOTE.urls[1]: CONTENT})
    monkeypatch.setattr(downloads, "download_url", download)
    ensure_files("Toy", tmp_path, [REMOTE])
    assert calls == list(REMOTE.urls)
    assert (tmp_path / "data.bin").read_bytes() == CONTENT
    assert [p.name for p in tmp_path.iterdir()] == ["data.bin"]


def test_a_corrupt_download_is_never_put_in_place(tmp_path, monkeypatch):
    download, _ = fake_download({url: b"truncated" for url in REMOTE.urls})
    monkeypatch.setattr(downloads, "download_url", download)
    with pytest.raises(DatasetNotFoundError, match="checksum mismatch"):
        ensure_files("Toy", tmp_path, [REMOTE])
    assert list(tmp_path.iterdir()) == []


def test_corrupt_file_on_disk_is_named(tmp_path, monkeypatch):
    monkeypatch.setattr(downloads, "download_url", no_network)
    (tmp_path / "data.bin").write_bytes(CONTENT[:5])
    with pytest.raises(CorruptDatasetError, match=r"data\.bin.*corrupt or truncated"):
        ensure_files("Toy", tmp_path, [REMOTE])


def test_checksum_mismatch_can_be_a_warning(tmp_path, monkeypatch):
    monkeypatch.setattr(downloads, "download_url", no_network)
    (tmp_path / "data.bin").write_bytes(b"a course-provided subset")
    with pytest.warns(UserWarning, match="official checksum"):
        assert (ensure_files("Toy", tmp_path, [REMOTE], checksum_mismatch="warn")
                == [tmp_path / "data.bin"])
