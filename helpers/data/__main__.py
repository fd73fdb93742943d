"""Data chores from the command line: ``python -m helpers.data --help``.

    python -m helpers.data rings            regenerate the shipped 2D data (byte for byte)
    python -m helpers.data download mnist   download MNIST (or svhn, or all) into the data root,
                                            verified
    python -m helpers.data check svhn       exit 0 when the official files, with official
                                            checksums, are there
"""

import argparse
import sys

from helpers.data.downloads import DatasetNotFoundError, md5_of
from helpers.data.toy2d import RINGS_DIR, save_rings
from helpers.settings import data_root

DATASETS = ("mnist", "svhn")


def _download(name: str) -> None:
    if name == "mnist":
        from helpers.data.mnist import ensure_mnist
        print("MNIST ready in", ensure_mnist())
    else:
        from helpers.data.svhn import ensure_svhn
        for split in ("train", "test"):
            path, official = ensure_svhn(split)
            print(f"SVHN {split} ready: {path}"
                  + ("" if official else " (NOT the official checksum)"))


def _official_files_problem(name: str) -> str | None:
    """Say why the official files of ``name`` are not in the data root (None: all are, verified)."""
    if name == "mnist":
        from helpers.data.mnist import mnist_folder, mnist_remote_files
        folder, files = mnist_folder(), mnist_remote_files()
    else:
        from helpers.data.svhn import svhn_folder, svhn_remote_file
        folder, files = svhn_folder(), [svhn_remote_file(split) for split in ("train", "test")]
    for remote in files:
        path = folder / remote.filename
        if not path.is_file():
            return f"{path} is missing"
        if md5_of(path) != remote.md5:
            return f"{path} is not the official file (checksum differs)"
    return None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.data", description="Data chores.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("rings", help=f"regenerate the shipped 2D data in {RINGS_DIR}")
    download = commands.add_parser("download",
                                   help=f"download datasets into the data root ({data_root()})")
    download.add_argument("dataset", choices=DATASETS + ("all",))
    check = commands.add_parser("check", help="exit 0 when the official files (official checksums) "
                                              "are present")
    check.add_argument("dataset", choices=DATASETS)
    args = parser.parse_args(argv)
    if args.command == "rings":
        for path in save_rings():
            print("wrote", path)
    elif args.command == "download":
        try:
            for name in DATASETS if args.dataset == "all" else (args.dataset,):
                _download(name)
        except DatasetNotFoundError as error:
            print(error, file=sys.stderr)
            return 1
    else:
        problem = _official_files_problem(args.dataset)
        print(f"official {args.dataset.upper()}: " + (problem or f"present in {data_root()}"))
        return 0 if problem is None else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
