"""One command line for the coursework tools:.

    python -m helpers.coursework student [--check]          # make student
    python -m helpers.coursework grade SUBMISSIONS [...]    # make grade
    python -m helpers.coursework written merge GRADES       # written answers' points back in
    python -m helpers.coursework gradescope build|run|self-check   # make gradescope
"""

import sys


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    commands = ("student", "grade", "written", "gradescope")
    if not argv or argv[0] not in commands:
        print(__doc__.strip(), file=sys.stderr)
        return 0 if argv[:1] in (["-h"], ["--help"]) else 2
    command, rest = argv[0], argv[1:]
    if command == "student":
        from helpers.coursework.student import make_student_copies
        check = "--check" in rest
        changed = make_student_copies(check=check)
        for path in changed:
            print(("out of date: " if check else "wrote ") + str(path))
        return 1 if check and changed else 0
    if command == "grade":
        from helpers.coursework.grade import main as grade
        return grade(rest)
    if command == "written":
        from helpers.coursework.written import main as written
        return written(rest)
    from helpers.coursework.gradescope import main as gradescope
    return gradescope(rest)


if __name__ == "__main__":
    sys.exit(main())
