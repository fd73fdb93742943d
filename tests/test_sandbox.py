"""Grading hostile submissions in the bubblewrap sandbox.

Each attack is contained, nothing outside the submission's folder changes, the run goes on, and the
exercise's row says what happened.

CI installs bubblewrap (.ci/run); elsewhere these tests are skipped when it does not work, with the
reason.
"""

import hashlib
import os
import socket
import threading
from pathlib import Path

import pytest

from helpers.coursework import grade, sandbox
from scripts import grading_samples

ROOT = Path(__file__).resolve().parent.parent
INSTRUCTOR_01 = ROOT / "notebooks" / "01_2d_classifier.ipynb"
MARK = f"hostile-{os.getpid()}"

needs_bwrap = pytest.mark.skipif(bool(sandbox.bwrap_problem()) and not os.environ.get("CI"),
                                 reason=f"no bubblewrap sandbox here: {sandbox.bwrap_problem()}")


def listening_socket():
    """A TCP server on the loopback that counts the connections it accepts."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.2)
    accepted, stop = [], threading.Event()

    def serve():
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except OSError:
                pass
    threading.Thread(target=serve, daemon=True).start()
    return server.getsockname()[1], accepted, stop


def hostile_submissions(folder: Path, port: int) -> None:
    """Write two submissions of notebook 01, right answers each followed by an attack.

    So the cell raises where the attack is stopped, and the later exercises still have their
    definitions. Only the cells the exercises need (grading_samples.trimmed): the attacks are what
    is tested, not the notebook's experiments.
    """
    home = Path.home()
    attacks = {
        "escape.ipynb": {
            "01-dataset": f'open("../../{MARK}", "w").write("escaped")',
            "01-train-one-epoch": (f'for path in ("/tmp/{MARK}", "{home}/{MARK}", "~/{MARK}"):\n'
                                   '    try:\n'
                                   '        open(os.path.expanduser(path), "w").write("x")\n'
                                   '    except OSError as error:\n'
                                   '        print(error)\n'
                                   f'os.remove("{INSTRUCTOR_01}")'),
            "01-mlp": f'print(open("{INSTRUCTOR_01}").read()[:100])',
            "01-polar": 'import socket; '
                        f'socket.create_connection(("127.0.0.1", {port}), timeout=5)',
        },
        "exhaust.ipynb": {
            "01-dataset": "hog = bytearray(10 * 2**30)",
            "01-train-one-epoch": 'print("x" * 50_000_000)',
            "01-polar": 'import subprocess\n'
                        'children = [subprocess.Popen(["sleep", "60"]) for _ in range(1000)]',
        },
    }
    instructor, student = grading_samples.instructor_and_student()
    folder.mkdir(parents=True)
    for name, by_exercise in attacks.items():
        answers = {e: grading_samples.cell_of(instructor, e).source + "\nimport os\n" + attack
                   for e, attack in by_exercise.items()}
        notebook = grading_samples.trimmed(grading_samples.answered(instructor, student, answers),
                                           instructor, grading_samples.EXERCISES)
        (folder / name).write_text(grading_samples.nbformat.writes(notebook))


@pytest.mark.slow   # kernels in the sandbox
@needs_bwrap
def test_hostile_submissions_are_contained(tmp_path):
    port, accepted, stop = listening_socket()
    submissions, out = tmp_path / "submissions", tmp_path / "grades"
    hostile_submissions(submissions, port)
    instructor_hash = hashlib.sha256(INSTRUCTOR_01.read_bytes()).hexdigest()
    try:
        graded = grade.grade_folder(submissions, out, jobs=2, sandbox="bwrap",
                                    log=lambda *_, **__: None, limits=grade.Limits(cell_timeout=60))
    finally:
        stop.set()
    rows = {g.file: [(r.status, r.detail) for r in g.results] for g in graded}

    escape = dict(zip(grading_samples.EXERCISES, rows["escape.ipynb"]))
    assert escape["01-dataset"][0] == "ERROR" and "Read-only file system" in escape["01-dataset"][1]
    assert (escape["01-train-one-epoch"][0] == "ERROR"
            and "FileNotFoundError" in escape["01-train-one-epoch"][1])
    # hidden checks unseen
    assert escape["01-mlp"][0] == "ERROR" and "FileNotFoundError" in escape["01-mlp"][1]
    assert (escape["01-polar"][0] == "ERROR" and "OSError" in escape["01-polar"][1]
            or "Error" in escape["01-polar"][1])
    assert not accepted, "the submission reached the grader's loopback"
    for path in (Path("/") / MARK, Path("/tmp") / MARK, Path.home() / MARK):
        assert not path.exists(), f"{path}: written from inside the sandbox"
    assert hashlib.sha256(INSTRUCTOR_01.read_bytes()).hexdigest() == instructor_hash

    exhaust = dict(zip(grading_samples.EXERCISES, rows["exhaust.ipynb"]))
    assert exhaust["01-dataset"][0] == "ERROR" and "MemoryError" in exhaust["01-dataset"][1]
    assert (exhaust["01-train-one-epoch"][0] == "PASSED"
            and "output was cut" in exhaust["01-train-one-epoch"][1])
    assert exhaust["01-mlp"][0] == "PASSED", "the run goes on after the attacks"
    assert (exhaust["01-polar"][0] == "ERROR"
            and "Resource temporarily unavailable" in exhaust["01-polar"][1])
    assert [g.status for g in graded] == ["graded", "graded"]


# (--sandbox none grading a well-behaved submission: tests/test_judgement.py grades its samples so,
# the right ones with full marks)


def test_auto_says_loudly_when_it_cannot_sandbox(monkeypatch):
    monkeypatch.setattr(sandbox, "bwrap_problem", lambda: "`bwrap` is not installed")
    said = []
    with pytest.warns(UserWarning, match="UNCONFINED"):
        assert sandbox.choose("auto", log=said.append) == "none"
    assert "install bubblewrap" in said[0] and "container" in said[0]
    with pytest.raises(sandbox.SandboxUnavailable, match="not installed"):
        sandbox.choose("bwrap")
    assert sandbox.choose("none") == "none"


def test_the_sandbox_hides_what_it_must_and_limits_the_kernel(tmp_path):
    hidden = [ROOT / "notebooks", tmp_path]
    command = sandbox.Sandbox("bwrap", hidden, processes=99).command(["python", "-m", "ipykernel"],
                                                                     tmp_path, 700001)
    assert command[0] == "bwrap" and "--unshare-pid" in command or "--unshare-all" in command
    assert "--unshare-net" in command or "--unshare-all" in command
    tmpfs = [command[i + 1] for i, arg in enumerate(command) if arg == "--tmpfs"]
    assert str(ROOT / "notebooks") in tmpfs and "/tmp" in tmpfs
    assert "--nproc=99" in command and any(a.startswith("--as=") for a in command)
    assert "--reuid=700001" in command


def test_the_user_sandbox_drops_to_another_user_without_namespaces(tmp_path):
    """Where no namespaces are allowed (Gradescope's container): the kernel as a user of its own."""
    command = sandbox.Sandbox("user", [], processes=99).command(["python", "-m", "ipykernel"],
                                                                tmp_path, 700002)
    assert "bwrap" not in command and command[0] == "prlimit" and "--nproc=99" in command
    assert "--reuid=700002" in command and "--no-new-privs" in command
    assert command[-3:] == ["python", "-m", "ipykernel"]
