"""Data chores from the command line: ``python -m helpers.data --help``."""

import argparse

from helpers.data.toy2d import RINGS_DIR, save_rings


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m helpers.data", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("rings", help=f"regenerate the shipped 2D data in {RINGS_DIR}")
    args = parser.parse_args(argv)
    if args.command == "rings":
        for path in save_rings():
            print("wrote", path)


if __name__ == "__main__":
    main()
