"""``python -m helpers.data``: the download and check commands (``make data``, ``make notebooks``).

The network is never touched: torchvision's download_url
is replaced by a fake that fails offline."""

from urllib.error import URLError

from helpers.data import downloads
from helpers.data.__main__ import main
from helpers.data.mnist import mnist_folder, write_synthetic_mnist
from helpers.data.svhn import svhn_folder, svhn_remote_file, write_synthetic_svhn


def no_network(url, root, filename=None, md5=None):
    raise URLError("[Errno -3] Temporary failure in name resolution")


def test_check_fails_on_missing_files_and_names_them(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HELPERS_DATA", str(tmp_path))
    assert main(["check", "svhn"]) == 1
    assert str(svhn_folder() / "train_32x32.mat") in capsys.readouterr().out


def test_check_rejects_files_that_are_not_the_official_ones(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HELPERS_DATA", str(tmp_path))
    write_synthetic_svhn(tmp_path)
    write_synthetic_mnist(tmp_path)
    assert main(["check", "svhn"]) == 1
    assert main(["check", "mnist"]) == 1
    assert "checksum differs" in capsys.readouterr().out


def test_check_passes_when_every_checksum_is_official(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HELPERS_DATA", str(tmp_path))
    folder = svhn_folder()
    folder.mkdir(parents=True)
    for split in ("train", "test"):
        (folder / svhn_remote_file(split).filename).write_bytes(split.encode())
    monkeypatch.setattr("helpers.data.__main__.md5_of",
                        lambda path: svhn_remote_file("train" if "train" in path.name
                                                      else "test").md5)
    assert main(["check", "svhn"]) == 0
    assert "present" in capsys.readouterr().out


def test_download_offline_is_a_clear_message_and_exit_code(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HELPERS_DATA", str(tmp_path))
    monkeypatch.setattr(downloads, "download_url", no_network)
    assert main(["download", "mnist"]) == 1
    error = capsys.readouterr().err
    assert "train-images-idx3-ubyte.gz" in error and str(mnist_folder()) in error
    assert not list(mnist_folder().glob("*.gz")), "nothing half-written is left behind"
