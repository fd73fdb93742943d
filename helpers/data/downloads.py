"""Getting dataset files onto disk, with errors a student can act on.

The downloading itself is torchvision's (URLs, md5 checksums, ``download_url``); around it: a file
already on disk is used without going online; a download is renamed into place only once its
checksum is right; no internet and no files gives one :class:`DatasetNotFoundError` naming the
files, the folder and where to get them (not a traceback from deep inside urllib); a damaged file, a
:class:`CorruptDatasetError` naming it (or only a warning, for datasets whose copies legitimately
differ from the official bytes).
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from helpers.settings import DATA_ENV, atomic_write, shown_path

#: Seconds a download may wait for the server: offline behind a firewall that drops packets, the
#: error comes after this, once (the other files are then not tried), not after minutes per mirror.
TIMEOUT_S = 20


def looks_like_html(path: str | os.PathLike) -> bool:
    """Say whether the file starts like a web page (a login or error page saved as data)."""
    with open(path, "rb") as file:
        head = file.read(512).lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html", b"<?xml", b"<head"))


HTML_HINT = ("it is a web page (HTML), not the data: the download hit a login, proxy or error "
             "page. Delete it and download the file again, from the URL below or by hand")


def download_url(url: str, root: str, filename: str | None = None, md5: str | None = None) -> None:
    """Call torchvision's ``download_url``, imported on first use.

    torchvision takes a second to import, and most notebooks (and every graded submission) never
    download anything.
    """
    from torchvision.datasets.utils import download_url as torchvision_download_url

    torchvision_download_url(url, root, filename=filename, md5=md5)


class DatasetNotFoundError(FileNotFoundError):
    """Dataset files are missing and could not be downloaded."""


class CorruptDatasetError(ValueError):
    """A dataset file is on disk but damaged (wrong checksum, truncated, wrong structure)."""


@dataclass(frozen=True)
class RemoteFile:
    """One file of a dataset: its name on disk, where to download it, its official md5."""

    filename: str
    urls: tuple[str, ...]
    md5: str


def recorded_files(folder: Path, marker: str,
                   files: list[RemoteFile]) -> tuple[list[RemoteFile], bool]:
    """Return ``files`` with the md5s a synthetic writer recorded in ``folder/marker``, and True.

    Without the marker: ``files`` as they are, and False.
    """
    if not (folder / marker).is_file():
        return files, False
    md5s = json.loads((folder / marker).read_text())["md5"]
    return [RemoteFile(f.filename, f.urls, md5s[f.filename]) for f in files], True


def md5_of(path: str | os.PathLike, chunk_size: int = 1 << 20) -> str:
    """Hex md5 digest of a file, read in chunks."""
    digest = hashlib.md5()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(chunk_size), b""):
            digest.update(chunk)
    return digest.hexdigest()


def missing_files_message(dataset: str, folder: Path, files: Sequence[RemoteFile],
                          reason: str = "") -> str:
    """Return :class:`DatasetNotFoundError`'s text: what is missing, where it goes, its source."""
    return "\n".join([
        f"{dataset} is not available: these files are missing from {folder}"
        + (f" and could not be downloaded ({reason})." if reason else "."),
        *(f"  - {remote.filename}  (md5 {remote.md5})  from {remote.urls[0]}" for remote in files),
        "To fix it, either:",
        "  - connect to the internet and run again (the files are downloaded automatically), or",
        f"  - download the files above on another machine and copy them into {folder}, or",
        f"  - point {DATA_ENV} (or the root= argument) at a folder that already has them,"
        f" e.g. {DATA_ENV}=/path/to/course/data",
    ])


def _download(remote: RemoteFile, folder: Path) -> None:
    """Download ``remote`` into ``folder``, trying each URL; only a verified file is kept."""
    folder.mkdir(parents=True, exist_ok=True)
    errors, timeout = [], socket.getdefaulttimeout()
    for url in remote.urls:
        try:
            # torchvision's urlopen has none: it could hang for minutes
            socket.setdefaulttimeout(TIMEOUT_S)
            with atomic_write(folder / remote.filename) as partial:
                download_url(url, str(partial.parent), filename=partial.name, md5=remote.md5)
                if md5_of(partial) != remote.md5:
                    raise CorruptDatasetError(f"checksum mismatch after downloading {url}")
            return
        except Exception as error:
            # URLError, HTTPError, timeouts, bad checksum: try the next mirror
            errors.append(f"{url}: {type(error).__name__}: {error}")
        finally:
            socket.setdefaulttimeout(timeout)
    raise OSError("; ".join(errors))


def ensure_files(dataset: str, folder: str | os.PathLike, files: Sequence[RemoteFile],
                 download: bool = True, checksum_mismatch: str = "error") -> list[Path]:
    """Make sure every file in ``files`` is in ``folder`` and return their paths.

    The missing ones are downloaded if allowed.

    ``dataset`` names the data in messages (e.g. ``"MNIST"``). ``checksum_mismatch``, for a file on
    disk without the official md5: ``"error"`` raises :class:`CorruptDatasetError` (MNIST: the
    official bytes are the only valid ones); ``"warn"`` warns and uses it (SVHN: mirrors, course
    subsets and test fixtures differ, and a structural check after loading catches real damage).
    Missing files that cannot be downloaded: :class:`DatasetNotFoundError`.
    """
    if checksum_mismatch not in ("error", "warn"):
        raise ValueError(f"checksum_mismatch must be 'error' or 'warn', got {checksum_mismatch!r}")
    folder = Path(folder)
    missing, reasons = [], []
    for remote in files:
        path = folder / remote.filename
        if path.is_file():
            actual = md5_of(path)
            if actual != remote.md5:
                text = (f"{shown_path(path)} does not have the official checksum "
                        f"(md5 {actual}, expected {remote.md5})")
                if looks_like_html(path):
                    raise CorruptDatasetError(f"{path}: {HTML_HINT}: {remote.urls[0]}")
                if checksum_mismatch == "error":
                    raise CorruptDatasetError(f"{text}: it is corrupt or truncated. Delete it and "
                                              "run again to download it afresh from "
                                              f"{remote.urls[0]}.")
                warnings.warn(f"{text}; using it anyway "
                              "(a mirror, a course subset or a test fixture?).",
                              stacklevel=2)
            continue
        if download and not reasons:
            # after one failed download (offline?), do not wait for the others
            try:
                _download(remote, folder)
                continue
            except OSError as error:
                reasons.append(str(error))
        missing.append(remote)
    if missing:
        reason = "downloading is switched off" if not download else "no internet connection?"
        message = missing_files_message(dataset, folder, missing, reason)
        if reasons:
            message += "\nDownload errors:\n  " + "\n  ".join(reasons)
        raise DatasetNotFoundError(message)
    return [folder / remote.filename for remote in files]
