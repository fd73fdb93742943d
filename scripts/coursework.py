"""Coursework tooling from the command line: student copies, the course repository's URL.

    python scripts/coursework.py student            # (re)write student/NN_*.ipynb from notebooks/
                                                    # (make student)
    python scripts/coursework.py student --check    # exit 1 if the student copies are out of date
    python scripts/coursework.py set-repository https://github.com/ORG/REPO [--branch main]

What a student copy is: helpers/coursework/student.py.
"""

from __future__ import annotations

import argparse
import sys

from helpers.coursework.student import ROOT, make_student_copies, set_repository


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    student = commands.add_parser("student", help="write student/ from notebooks/")
    student.add_argument("--check", action="store_true",
                         help="only report whether student/ is up to date")
    repository = commands.add_parser("set-repository",
                                     help="change the course repository URL everywhere")
    repository.add_argument("url")
    repository.add_argument("--branch", default="main")
    args = parser.parse_args(argv)
    if args.command == "student":
        changed = make_student_copies(check=args.check)
        for path in changed:
            print(("out of date: " if args.check else "wrote ") + str(path.relative_to(ROOT)))
        if args.check and changed:
            print("Run `make student` and commit the result.")
            return 1
        return 0
    set_repository(args.url, args.branch)
    print(f"Colab links and install cells now point at {args.url} ({args.branch}); "
          "run `make student`.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
