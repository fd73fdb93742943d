"""A Gradescope autograder per notebook.

``make gradescope`` writes ``build/gradescope/NN_name.zip``.

    python -m helpers.coursework gradescope build [NOTEBOOK ...] [--out build/gradescope]
    python -m helpers.coursework gradescope run [--root /autograder]     # what run_autograder runs
    python -m helpers.coursework gradescope self-check [--root /autograder]   # what setup.sh runs

Each zip holds, at its root (Gradescope's autograder specification,
https://gradescope-autograders.readthedocs.io/en/latest/specs/): ``setup.sh`` (run once when
Gradescope builds the image: Ubuntu 22.04's Python 3.11, the CPU-only PyTorch and every package
pinned from ``constraints.txt``, then the self-check -- the instructor's solutions graded in that
image through the same path; a failure fails the build, before any student submits),
``run_autograder`` (run per submission), the course package ``helpers/``, the 2D data, and the one
instructor notebook (its hidden checks: readable by root only while grading).

``run_autograder`` grades ``/autograder/submission/*.ipynb`` with the same code as ``make grade``
(helpers/coursework/grade.py: the student's code in a kernel run as an unprivileged user of its own
-- bubblewrap's namespaces where the container allows them --, the checks in the grader's process,
the per-cell and per-notebook time limits) and always writes ``/autograder/results/results.json``:
one test per exercise (its result and hint as Markdown), one per hidden check (shown to the
student after the grades are published), a 0-point test per written answer (graded by hand), the
grader's own output hidden from students. No notebook, several, an invalid one or another one: score
0 and a visible test that says which and what to upload. A crash of the grader: score 0 and a
visible test that says so (never Gradescope's "failed to execute"). Every file written is checked
against ``gradescope_results.schema.json`` (the documented format) first.

``AUTOGRADER_ROOT`` replaces ``/autograder`` (the tests grade in a temporary folder shaped like it).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import stat
import sys
import time
import traceback
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCHEMA = Path(__file__).with_name("gradescope_results.schema.json")
ROOT_ENV = "AUTOGRADER_ROOT"
SPEC_URL = "https://gradescope-autograders.readthedocs.io/en/latest/specs/"
#: the packages grading needs (their versions: constraints.txt); torch and torchvision from
#: PyTorch's CPU-only index
PACKAGES = ("torch", "torchvision", "numpy", "scipy", "matplotlib", "scikit-learn", "seaborn",
            "tqdm", "pandas", "nbformat", "nbclient", "jupyter_client", "ipykernel", "ipython",
            "jsonschema")
TORCH_INDEX = "https://download.pytorch.org/whl/cpu"

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image (Ubuntu 22.04).
# Written by `make gradescope` (helpers/coursework/gradescope.py).
set -euxo pipefail
cd /autograder/source
export DEBIAN_FRONTEND=noninteractive
apt-get update
# Python 3.11 (constraints.txt is pinned for it; 22.04's python3 is 3.10); prlimit, setpriv:
# util-linux; bubblewrap where the container allows namespaces (else: the kernel runs as an
# unprivileged user of its own)
apt-get install -y --no-install-recommends python3.11 python3.11-venv util-linux bubblewrap
python3.11 -m venv /autograder/source/.venv
.venv/bin/python -m pip install --no-cache-dir --upgrade pip
# the CPU-only PyTorch (about 200 MB instead of several GB of CUDA libraries), every version pinned
.venv/bin/python -m pip install --no-cache-dir --extra-index-url {torch_index} \\
    -c constraints.txt -r requirements.txt
# the grader grades the instructor's own solutions in this image, through the same path as a
# submission: anything short of full marks fails the build, with the cause
.venv/bin/python -m helpers.coursework gradescope self-check
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission, as root, in /autograder (AUTOGRADER_ROOT: another
# folder shaped like it). Written by `make gradescope` (helpers/coursework/gradescope.py).
ROOT="${{AUTOGRADER_ROOT:-/autograder}}"
SOURCE="${{AUTOGRADER_SOURCE:-$ROOT/source}}"
PYTHON="${{AUTOGRADER_PYTHON:-$SOURCE/.venv/bin/python}}"
cd "$SOURCE" && "$PYTHON" -m helpers.coursework gradescope run --root "$ROOT" \
    --sandbox "${{AUTOGRADER_SANDBOX:-auto}}"
# results.json is written in any case by the Python above; if Python itself could not start:
if [ ! -s "$ROOT/results/results.json" ]; then
    mkdir -p "$ROOT/results"
    cat > "$ROOT/results/results.json" <<'JSON'
{fallback}
JSON
fi
exit 0
"""


def error_results(message: str, output: str = "") -> dict:
    """Score 0 and one visible test that says what went wrong."""
    return {"score": 0, "output": output or message, "output_format": "md",
            "stdout_visibility": "hidden",
            "tests": [{"name": "Submission", "score": 0, "max_score": 0, "status": "failed",
                       "output": message, "output_format": "md", "visibility": "visible"}]}


FALLBACK = error_results("The autograder could not start (not a problem with your notebook): "
                         "your instructor can see why in the autograder's output.")


def validate(results: dict) -> None:
    """Raises jsonschema.ValidationError unless ``results`` is a documented results.json."""
    import jsonschema

    jsonschema.validate(results, json.loads(SCHEMA.read_text()),
                        cls=jsonschema.Draft202012Validator)


def write_results(root: Path, results: dict) -> Path:
    """Validate, then write ``results/results.json`` (an invalid one becomes an error result)."""
    try:
        validate(results)
    except Exception as error:
        print(f"results.json does not match Gradescope's format: {error}", flush=True)
        results = error_results("The autograder produced results in a wrong format (not a "
                                "problem with your notebook): your instructor can see why.")
        validate(results)
    path = Path(root) / "results" / "results.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(results, indent=1))
    os.replace(tmp, path)
    return path


# --- grading one submission -----------------------------------------------------------------


def _config(source: Path) -> dict:
    return json.loads((source / "config.json").read_text())


def _what_to_upload(name: str) -> str:
    return (f"Upload one notebook: **{name}.ipynb**, the one you worked in (Jupyter: File > "
            "Download; Colab: File > Download > Download .ipynb), with your answers in it.")


def _tests_of(graded, exercises, written_questions) -> list[dict]:
    from helpers.coursework.gradebook import format_points
    from helpers.coursework.judge import PASSED, STATUSES

    tests = []
    for result, exercise in zip(graded.results, exercises):
        hidden = exercise.hidden_points
        visible_max = exercise.points - hidden
        visible_score = min(result.points, visible_max)
        if visible_score >= visible_max:
            lines = ["The self-check passed."]
        else:
            lines = [f"**{result.status}** ({STATUSES.get(result.status, '')})"]
            lines += [result.detail] if result.detail else []
        lines += [f"- {line}" for line in result.lines]
        tests.append({"name": f"{exercise.id}: self-check", "number": str(len(tests) + 1),
                      "score": visible_score, "max_score": visible_max,
                      "status": "passed" if visible_score >= visible_max else "failed",
                      "output": "\n\n".join(lines), "output_format": "md",
                      "visibility": "visible"})
        if hidden:
            passed = result.status == PASSED
            why = ("passed" if passed else
                   "not run: the self-check did not pass" if not result.hidden_lines
                   else "did not pass")
            output = [f"The grader's additional check of {exercise.id}: {why}."]
            output += [f"- {line}" for line in result.hidden_lines]
            tests.append({"name": f"{exercise.id}: grader's additional check",
                          "number": str(len(tests) + 1),
                          "score": result.points - visible_score, "max_score": hidden,
                          "status": "passed" if passed else "failed",
                          "output": "\n\n".join(output), "output_format": "md",
                          "visibility": "after_published"})
    for question in written_questions:
        tests.append({"name": f"{question.exercise}: written answer", "number": str(len(tests) + 1),
                      "score": 0, "max_score": 0, "status": "passed",
                      "output": (f"Graded by hand by your instructor (up to "
                                 f"{format_points(question.points)} points), not by the "
                                 "autograder."),
                      "output_format": "md", "visibility": "visible"})
    return tests


def grade(root: Path, sandbox: str = "auto", limits=None) -> dict:
    """The results of ``root/submission`` (a dict in Gradescope's format)."""
    import nbformat

    from helpers.coursework import KEY, written
    from helpers.coursework import grade as grading
    from helpers.coursework.gradebook import format_points

    source = Path(os.environ.get("AUTOGRADER_SOURCE", Path(root) / "source"))
    name = _config(source)["notebook"]
    upload = _what_to_upload(name)
    folder = Path(root) / "submission"
    notebooks = sorted(p for p in folder.rglob("*.ipynb")
                       if ".ipynb_checkpoints" not in p.parts and p.is_file())
    if not notebooks:
        others = sorted(p.name for p in folder.rglob("*") if p.is_file())[:10]
        return error_results("No notebook (`.ipynb` file) was submitted"
                             + (f" (found: {', '.join(others)})" if others else "")
                             + f". {upload}")
    if len(notebooks) > 1:
        return error_results(f"{len(notebooks)} notebooks were submitted ("
                             + ", ".join(str(p.relative_to(folder)) for p in notebooks[:10])
                             + f"): which one to grade is not clear. {upload}")
    path = notebooks[0]
    try:
        submission = nbformat.read(path, as_version=4)
        other = (submission.metadata.get(KEY) or {}).get("notebook")
    except Exception as error:
        return error_results(f"`{path.name}` is not a valid notebook file ({type(error).__name__}: "
                             f"{str(error).splitlines()[0][:150] if str(error) else ''}): was it "
                             f"saved completely, or renamed from another kind of file? {upload}")
    if other and other != name:
        return error_results(f"`{path.name}` is notebook **{other}**, but this assignment grades "
                             f"**{name}**: submit it to its own assignment. {upload}")
    instructor_dir = source / "notebooks"
    course = grading.load_course(instructor_dir)
    limits = limits or grading.Limits()
    limits.threads = 1
    kind = sandbox
    if sandbox == "auto":
        from helpers.coursework import sandbox as sandboxes
        kind = ("bwrap" if not sandboxes.bwrap_problem() else
                "user" if os.getuid() == 0 else "none")
    # the instructor notebook (hidden checks) and the results: root's alone while grading
    for private in (instructor_dir, Path(root) / "results"):
        private.mkdir(parents=True, exist_ok=True)
        private.chmod(0o700)
    hidden = [instructor_dir.resolve(), (Path(root) / "results").resolve()]
    print(f"grading {path.name} as {name} (sandbox: {kind})", flush=True)
    [graded] = grading.grade_paths(
        [(path, path.name)], course, instructor_dir, 1, limits,
        grading.confinement(kind, hidden, limits), self_check=False,
        kernel_env={"PYTHONPATH": str(source)})
    print(f"{graded.file}: {graded.status}", flush=True)
    for result in graded.results:
        print(f"  {result.exercise}: {result.status} {format_points(result.points)}/"
              f"{format_points(result.max_points)} {result.detail}", flush=True)
    if not graded.results:
        why = ("it is not a valid notebook file" if graded.status.startswith("unreadable")
               else f"it is not this course's notebook {name}"
               if graded.status.startswith("unknown") else
               "the autograder could not run it (not a problem with your notebook: tell your "
               "instructor)")
        return error_results(f"`{path.name}` was not graded: {why} ({graded.status}). {upload}")
    instructor = nbformat.read(instructor_dir / f"{name}.ipynb", as_version=4)
    tests = _tests_of(graded, course[name], written.questions_of(instructor, name))
    summary = [f"Notebook `{name}`: **{format_points(graded.total)} / "
               f"{format_points(graded.max_points)} points** from the autograder"
               + (" (the written answers are graded by hand)" if any(
                   t["name"].endswith("written answer") for t in tests) else "") + "."]
    if graded.status != "graded":
        summary.append(f"Note: {graded.status}.")
    return {"score": graded.total, "output": "\n\n".join(summary), "output_format": "md",
            "stdout_visibility": "hidden", "tests": tests}


def run(root: Path, sandbox: str = "auto", limits=None) -> Path:
    """Grade and write ``results.json`` -- always, whatever happens."""
    started = time.monotonic()
    results = None
    try:
        results = grade(Path(root), sandbox, limits)
    except BaseException as error:   # noqa: B036 (a crash is a result too)
        traceback.print_exc()
        results = error_results("The autograder failed while grading (not a problem with your "
                                "notebook): your instructor can see why in its output.",
                                f"{type(error).__name__}: {str(error)[:300]}")
    finally:
        results = results or error_results("The autograder stopped before it had a result.")
        results["execution_time"] = round(time.monotonic() - started, 1)
        path = write_results(Path(root), results)
    return path


def self_check(root: Path, sandbox: str = "auto") -> int:
    """Grade the instructor's solutions in this image (setup.sh): 0 when they get full marks."""
    from helpers.coursework import grade as grading
    from helpers.coursework import sandbox as sandboxes

    source = Path(os.environ.get("AUTOGRADER_SOURCE", Path(root) / "source"))
    name = _config(source)["notebook"]
    instructor_dir = source / "notebooks"
    limits = grading.Limits()
    limits.threads = 1
    kind = sandbox if sandbox != "auto" else ("bwrap" if not sandboxes.bwrap_problem() else
                                              "user" if os.getuid() == 0 else "none")
    try:
        grading.grade_paths([], grading.load_course(instructor_dir), instructor_dir, 1, limits,
                            grading.confinement(kind, [instructor_dir.resolve()], limits),
                            notebooks=[name], kernel_env={"PYTHONPATH": str(source)})
    except grading.SelfCheckFailed as error:
        print(f"SELF-CHECK FAILED: {error}", file=sys.stderr)
        return 1
    print(f"self-check: the instructor's solutions of {name} get full marks (sandbox: {kind})")
    return 0


# --- building the zip -----------------------------------------------------------------------


def requirements(constraints: Path = REPO / "constraints.txt") -> str:
    """``name==version`` for :data:`PACKAGES`, from constraints.txt."""
    pins = {}
    for line in constraints.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)==([^\s;]+)", line)
        if match:
            pins[match[1].lower().replace("_", "-")] = match[0]
    missing = [p for p in PACKAGES if p.lower().replace("_", "-") not in pins]
    if missing:
        raise ValueError(f"constraints.txt pins no version of {', '.join(missing)}")
    return "\n".join(pins[p.lower().replace("_", "-")] for p in PACKAGES) + "\n"


def _add(archive: zipfile.ZipFile, name: str, data: bytes, executable: bool = False) -> None:
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.external_attr = ((0o755 if executable else 0o644) | stat.S_IFREG) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, data)


def build(name: str, out: Path, instructor_dir: Path | None = None) -> Path:
    """``out/<name>.zip``: the autograder of notebook ``name``."""
    import nbformat

    from helpers.coursework.course import INSTRUCTOR_DIR, exercises_of

    instructor_dir = Path(instructor_dir or INSTRUCTOR_DIR)
    if not exercises_of(nbformat.read(instructor_dir / f"{name}.ipynb", as_version=4)):
        raise ValueError(f"{name} is not a notebook with graded exercises")
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}.zip"
    fallback = json.dumps(FALLBACK)
    with zipfile.ZipFile(path, "w") as archive:
        _add(archive, "setup.sh", SETUP_SH.format(torch_index=TORCH_INDEX).encode(), True)
        _add(archive, "run_autograder", RUN_AUTOGRADER.format(fallback=fallback).encode(), True)
        _add(archive, "config.json", json.dumps({"notebook": name}).encode())
        _add(archive, "requirements.txt", requirements().encode())
        _add(archive, "constraints.txt", (REPO / "constraints.txt").read_bytes())
        _add(archive, f"notebooks/{name}.ipynb",
             (instructor_dir / f"{name}.ipynb").read_bytes())
        for file in sorted((REPO / "helpers").rglob("*")):
            if file.is_file() and "__pycache__" not in file.parts and file.suffix in (
                    ".py", ".json", ".txt", ".csv"):
                _add(archive, str(file.relative_to(REPO)), file.read_bytes())
        for file in sorted((REPO / "data" / "2d").glob("*.npz")):
            _add(archive, str(file.relative_to(REPO)), file.read_bytes())
    return path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.coursework gradescope",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    building = commands.add_parser("build", help="write build/gradescope/NN_name.zip")
    building.add_argument("notebooks", nargs="*", help="notebook names (default: every one)")
    building.add_argument("--out", type=Path, default=REPO / "build" / "gradescope")
    for command in ("run", "self-check"):
        sub = commands.add_parser(command)
        sub.add_argument("--root", type=Path,
                         default=Path(os.environ.get(ROOT_ENV, "/autograder")))
        sub.add_argument("--sandbox", default="auto", choices=("auto", "bwrap", "user", "none"))
    args = parser.parse_args(argv)
    if args.command == "build":
        from helpers.coursework.course import load_course
        for name in args.notebooks or list(load_course()):
            print(f"wrote {build(name, args.out)}")
        return 0
    if args.command == "self-check":
        return self_check(args.root, args.sandbox)
    print(f"results: {run(args.root, args.sandbox)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
