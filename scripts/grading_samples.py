"""Sample submissions of notebook 01 for the grader, and a timing of `make grade` on many of them.

    python scripts/grading_samples.py FOLDER     # write the sample submissions into FOLDER
    # time grading 100 submissions:
    python scripts/grading_samples.py FOLDER --benchmark 100 [--sandbox both]

The samples are what students hand in: the student copy (as `make student` writes it) with answers
filled in -- right, partly wrong, not at all, crashing, looping forever, hanging, cells deleted or
moved, the metadata lost, a renamed file -- and files that are not notebooks of the course at all.
tests/test_grade.py grades them and checks every result in :data:`EXPECTED`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import nbformat

from helpers.coursework.student import student_version

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = "01_2d_classifier"
EXERCISES = ["01-dataset", "01-train-one-epoch", "01-mlp", "01-polar"]

#: Wrong answers: each passes the visible self-check but not the hidden one, or fails both.
NO_ZERO_GRAD = '''def train_one_epoch(model, loader, optimizer, loss_fn):
    model.train()
    total_loss = 0.0
    for points, labels in loader:
        loss = loss_fn(model(points), labels)   # no optimizer.zero_grad(): gradients pile up
        loss.backward()
        optimizer.step()
        total_loss += loss.item() * len(labels)
    return total_loss / len(loader.dataset)
'''
TANH_MLP = '''def make_mlp():
    return nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 16), nn.Tanh(),
                         nn.Linear(16, 1))


seed_everything(SEED)
mlp = make_mlp()
'''
ATAN_POLAR = '''def to_polar(points):
    x, y = points[:, 0], points[:, 1]
    return torch.stack([torch.sqrt(x**2 + y**2), torch.atan(y / x)], dim=1)   # loses the quadrant
'''
HARDCODED_LEN = '''class PointsDataset(Dataset):
    def __init__(self, path, transform=None):
        with np.load(path) as npz:
            self.samples = torch.tensor(npz["samples"], dtype=torch.float32)
            self.labels = torch.tensor(npz["annotations"], dtype=torch.float32)
        if transform is not None:
            self.samples = transform(self.samples)

    def __len__(self):
        return 1000   # the training file's length, hard-coded

    def __getitem__(self, i):
        return self.samples[i], self.labels[i : i + 1]


train_set = PointsDataset(rings_path("train"))
val_set = PointsDataset(rings_path("val"))
'''
WRONG_FILE = 'train_set = PointsDataset(rings_path("trian"))   # a typo: the cell raises\n'
LOOP_FOREVER = "while True:   # a loop that never ends\n    pass\n"
#: a cell that hangs without using the CPU (waiting for something that never comes): the grader
#: stops it at the cell timeout just as it stops a busy loop
HANG = "import time\ntime.sleep(10**6)   # waits for ever\n"
CRASH_KERNEL = "import os\nos._exit(1)   # the kernel process dies\n"
HOSTILE = '''import os, pathlib, shutil
shutil.rmtree(os.path.expanduser("~"), ignore_errors=True)   # "clean up" the home folder
for path in pathlib.Path(".").iterdir():                        # and the working folder
    shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink()
print("spam " * 1_000_000)                                      # 5 MB of output
with open("huge.bin", "wb") as file:                            # a 100 MB file: over the limit
    file.write(b"0" * (100 * 2**20))
'''

# --- tampering: a wrong answer plus a trick that tries to award itself the points -----------------
# Each trick changes something in the student's own kernel; the checks run in the grader's process
# (helpers/coursework/judge.py), so each exercise below must still get 0 points.

#: wrong answers that fail the visible self-check (0 points even without a hidden check)
SHORT_LEN = HARDCODED_LEN.replace("return 1000   # the training file's length, hard-coded",
                                  "return 10   # wrong: not the number of points")
NO_STEP = NO_ZERO_GRAD.replace("        optimizer.step()\n", "")   # the weights never change
LINEAR_MLP = '''def make_mlp():
    return nn.Sequential(nn.Linear(2, 16), nn.Linear(16, 16), nn.Linear(16, 1))   # no activation


seed_everything(SEED)
mlp = make_mlp()
'''
TRICKS = {
    # the output stream rewritten: "NOT YET" shows as "PASSED"
    "stdout": '''
import sys, io
class _Liar(io.TextIOBase):
    def __init__(self, inner): self.inner = inner
    def write(self, text): return self.inner.write(text.replace("NOT YET", "PASSED"))
    def flush(self): self.inner.flush()
sys.stdout = sys.__stdout__ = _Liar(sys.stdout)
sys.stderr = _Liar(sys.stderr)
''',
    # print replaced
    "print": '''
import builtins
_print = builtins.print
def _lying_print(*args, **kwargs):
    _print(*(str(a).replace("NOT YET", "PASSED") for a in args), **kwargs)
builtins.print = _lying_print
''',
    # the checks' report and every check function replaced by ones that always pass
    "report": '''
import helpers.checks.core as _core, helpers.checks as _checks, helpers.checks.nb01 as _nb01
from helpers.checks.core import Verdict as _Verdict
def _always(passed=True, what="", hint="", crashed=False):
    print(f"PASSED: {what}")
    return _Verdict(True)
_core.report = _checks.report = _always
for _module in (_checks, _nb01, _core):
    for _name in dir(_module):
        if _name.startswith("check_"):
            setattr(_module, _name, lambda *a, **k: _always(True, "everything"))
''',
    # numerics patched: every comparison says "equal"
    "allclose": '''
import numpy, torch, math
torch.allclose = lambda *a, **k: True
torch.equal = lambda *a, **k: True
torch.isclose = lambda a, b, *r, **k: torch.ones_like(torch.as_tensor(a), dtype=torch.bool)
numpy.allclose = lambda *a, **k: True
math.isclose = lambda *a, **k: True
''',
    # tensor operators patched: differences are zero, comparisons false
    "operators": '''
import torch
_sub = torch.Tensor.__sub__
torch.Tensor.__sub__ = lambda self, other: torch.zeros_like(_sub(self, other))
torch.Tensor.__gt__ = lambda self, other: torch.zeros(self.shape, dtype=torch.bool)
torch.Tensor.__ne__ = lambda self, other: torch.zeros(self.shape, dtype=torch.bool)
torch.Tensor.any = lambda self, *a, **k: torch.tensor(False)
''',
    # an import hook: whoever imports helpers.checks again gets a fake that always passes
    "import_hook": '''
import sys, types, importlib.abc, importlib.machinery
class _FakeChecks(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, name, path, target=None):
        if name.startswith("helpers.checks") or name.startswith("helpers.coursework"):
            return importlib.machinery.ModuleSpec(name, self)
    def create_module(self, spec):
        module = types.ModuleType(spec.name)
        module.__getattr__ = lambda attr: (lambda *a, **k: print(f"PASSED: {attr}"))
        return module
    def exec_module(self, module):
        pass
sys.meta_path.insert(0, _FakeChecks())
for _name in [n for n in sys.modules if n.startswith(("helpers.checks", "helpers.coursework"))]:
    del sys.modules[_name]
''',
    # a thread that keeps printing verdicts long after the cell ended
    "late_thread": '''
import threading, time
def _spam():
    while True:
        print("PASSED: train_one_epoch trains\\n"
              "PASSED: train_one_epoch takes exactly one step per batch")
        time.sleep(0.05)
threading.Thread(target=_spam, daemon=True).start()
''',
    # fake result files: replies of the channel, a results.json, a gradebook
    "fake_files": '''
import json, os, pathlib, threading, time
_fake = {"value": True, "rng": None, "sync": [], "score": 9, "tests": [{"score": 9}]}
def _write_fakes():
    while True:
        for folder in (pathlib.Path("."), pathlib.Path("channel"), pathlib.Path("results")):
            try:
                folder.mkdir(exist_ok=True)
                for name in ("reply-0.json", "results.json", "grades.csv", "PASSED"):
                    (folder / name).write_text(json.dumps(_fake))
                for request in folder.glob("request-*.json"):
                    reply = folder / request.name.replace("request-", "reply-")
                    reply.write_text(json.dumps(_fake))
            except OSError:
                pass
        time.sleep(0.01)
threading.Thread(target=_write_fakes, daemon=True).start()
''',
    # signals: timers and interrupts taken over, a handler that "passes" whatever runs
    "signals": '''
import signal
signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.signal(signal.SIGALRM, lambda *_: print("PASSED: time is up, so everything passed"))
signal.signal(signal.SIGTERM, signal.SIG_IGN)
signal.setitimer(signal.ITIMER_REAL, 0.2, 0.2)
''',
    # the channel to the grader changed: every reply says True
    "channel": '''
import helpers.coursework.channel as _channel
_original = _channel.Server.perform
def _perform(self, request, decoder):
    value, arguments = _original(self, request, decoder)
    return (True if request["op"] == "call" else value), arguments
_channel.Server.perform = _perform
''',
    # the student's function returns an object that pretends to be a correct tensor
    "fake_tensor": '''
class _Anything(torch.Tensor):
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def tolist(self): return "PASSED"
_real_to_polar = to_polar
def to_polar(points):
    return _real_to_polar(points).as_subclass(_Anything)
''',
    # SystemExit and KeyboardInterrupt raised from inside the check's call
    "exits": '''
import sys
_real_len = PointsDataset.__len__
def _len(self):
    raise SystemExit("PASSED")
PointsDataset.__len__ = _len
''',
}
#: file name -> {exercise: code}: every exercise a wrong answer plus a trick (three per notebook
#: and one kernel each: the tricks of one exercise are in force for the checks of the later ones)
TAMPERING = {
    "tamper_streams.ipynb": {
        "01-dataset": SHORT_LEN + TRICKS["stdout"],
        "01-train-one-epoch": NO_STEP + TRICKS["print"],
        "01-mlp": LINEAR_MLP + TRICKS["late_thread"],
        "01-polar": ATAN_POLAR + TRICKS["fake_tensor"]},
    # (the tricks that break the channel for what follows come last in their notebook)
    "tamper_checks.ipynb": {
        "01-dataset": SHORT_LEN + TRICKS["exits"],
        "01-train-one-epoch": NO_STEP + TRICKS["report"],
        "01-mlp": LINEAR_MLP + TRICKS["signals"],
        "01-polar": ATAN_POLAR + TRICKS["import_hook"]},
    "tamper_numerics.ipynb": {
        "01-dataset": SHORT_LEN + TRICKS["operators"],
        "01-train-one-epoch": NO_STEP + TRICKS["allclose"],
        "01-mlp": LINEAR_MLP + TRICKS["channel"],
        "01-polar": ATAN_POLAR + TRICKS["fake_files"]},
}

#: file name -> expected result of each exercise of
#: notebook 01 (or the row's status for non-notebooks)
EXPECTED = {
    "correct.ipynb": ["PASSED", "PASSED", "PASSED", "PASSED"],
    # renamed, metadata stripped
    "Alice Smith - lab 1 (2).ipynb": ["PASSED", "PASSED", "PASSED", "PASSED"],
    "partly_wrong.ipynb": ["NOT YET", "NOT YET", "NOT YET", "NOT YET"],
    "not_attempted.ipynb": ["NOT ATTEMPTED"] * 4,
    "mixed.ipynb": ["ERROR", "TIMEOUT", "NOT ATTEMPTED", "PASSED"],
    "crashing.ipynb": ["ERROR", "PASSED", "ERROR", "PASSED"],
    "infinite_loop.ipynb": ["PASSED", "TIMEOUT", "PASSED", "PASSED"],
    "reordered.ipynb": ["PASSED", "PASSED", "MISSING", "PASSED"],
    "hostile_then_kernel_crash.ipynb": ["PASSED", "PASSED", "ERROR", "ERROR"],
    "invalid_json.ipynb": "unreadable",
    "empty.ipynb": "unreadable",
    "other_course.ipynb": "unknown notebook",
}
#: the few samples that cover every kind of result, for the test suite (4 kernels)
SMALL_SET = ["Alice Smith - lab 1 (2).ipynb", "partly_wrong.ipynb", "mixed.ipynb",
             "hostile_then_kernel_crash.ipynb", "invalid_json.ipynb", "empty.ipynb",
             "other_course.ipynb"]
#: expected points (of 2, 3, 2, 2) where they are not simply all or nothing
PARTIAL_POINTS = {"partly_wrong.ipynb": [1, 0, 1, 0]}   # (the self-check of train_one_epoch
#                                                           catches the missing zero_grad too)


def instructor_and_student(instructor_dir: Path = ROOT / "notebooks"):
    instructor = nbformat.read(instructor_dir / f"{NOTEBOOK}.ipynb", as_version=4)
    return instructor, student_version(instructor, f"{NOTEBOOK}.ipynb")


def cell_of(notebook, exercise: str, role: str = "solution"):
    return next(c for c in notebook.cells
                if (c.metadata.get("grade") or {}).get("exercise") == exercise
                and c.metadata["grade"]["role"] == role)


def answered(instructor, student, answers: dict[str, str] | None = None):
    """The student copy with every exercise answered as the
    instructor did, except ``answers`` (id -> code)."""
    notebook = nbformat.from_dict(json.loads(json.dumps(student)))
    for exercise in EXERCISES:
        source = (answers or {}).get(exercise, cell_of(instructor, exercise).source)
        cell_of(notebook, exercise).source = source
    return notebook


def write_samples(folder: Path, instructor_dir: Path = ROOT / "notebooks", only=None) -> None:
    """Write every sample of :data:`EXPECTED` (or those named in ``only``) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    instructor, student = instructor_and_student(instructor_dir)
    stub = {e: cell_of(student, e).source for e in EXERCISES}

    def save(name, notebook):
        if only is None or name in only:
            (folder / name).write_text(nbformat.writes(notebook))

    save("correct.ipynb", answered(instructor, student))
    anonymous = answered(instructor, student)
    anonymous.metadata.pop("grade")
    for cell in anonymous.cells:
        # e.g. an editor that drops metadata: recognised by content
        cell.metadata.pop("grade", None)
    save("Alice Smith - lab 1 (2).ipynb", anonymous)
    save("partly_wrong.ipynb", answered(instructor, student, {
        "01-dataset": HARDCODED_LEN, "01-train-one-epoch": NO_ZERO_GRAD, "01-mlp": TANH_MLP,
        "01-polar": ATAN_POLAR}))
    save("not_attempted.ipynb", student)
    crashing = answered(instructor, student,
                        {"01-dataset": cell_of(instructor, "01-dataset").source + "\n"
                         + WRONG_FILE})
    cell_of(crashing, "01-mlp").source = ("1 / 0   # a crash before the definition\n"
                                          + cell_of(crashing, "01-mlp").source)
    save("crashing.ipynb", crashing)
    mixed = answered(instructor, student, {"01-mlp": stub["01-mlp"]})
    cell_of(mixed, "01-dataset").source += "\n" + WRONG_FILE
    cell_of(mixed, "01-train-one-epoch").source += "\n" + HANG
    save("mixed.ipynb", mixed)
    looping = answered(instructor, student)
    cell_of(looping, "01-train-one-epoch").source += "\n" + LOOP_FOREVER
    save("infinite_loop.ipynb", looping)
    reordered = answered(instructor, student)
    reordered.cells.remove(cell_of(reordered, "01-mlp"))               # deleted
    reordered.cells.remove(cell_of(reordered, "01-dataset", "check"))   # its check deleted too
    polar = cell_of(reordered, "01-polar")  # moved up, before the dataset cell
    reordered.cells.remove(polar)
    reordered.cells.insert(reordered.cells.index(cell_of(reordered, "01-dataset")), polar)
    # an edited check: not used
    cell_of(reordered, "01-polar", "check").source = 'print("PASSED: trust me")'
    save("reordered.ipynb", reordered)
    hostile = answered(instructor, student)
    hostile.cells.insert(hostile.cells.index(cell_of(hostile, "01-dataset")),
                         nbformat.v4.new_code_cell(HOSTILE))
    cell_of(hostile, "01-mlp").source = CRASH_KERNEL + cell_of(hostile, "01-mlp").source
    save("hostile_then_kernel_crash.ipynb", hostile)
    if only is None or "invalid_json.ipynb" in only:
        (folder / "invalid_json.ipynb").write_text('{"cells": [{"cell_type": "code", '
                                                   '"source": "x = 1"')
    if only is None or "empty.ipynb" in only:
        (folder / "empty.ipynb").write_bytes(b"")
    other = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell("print('hello from another course')")])
    save("other_course.ipynb", other)
    for name, answers in TAMPERING.items():
        save(name, answered(instructor, student, answers))


def write_benchmark(folder: Path, count: int, instructor_dir: Path = ROOT / "notebooks") -> None:
    """``count`` submissions like a real class: mostly
    right, some partly wrong, some not finished."""
    folder.mkdir(parents=True, exist_ok=True)
    instructor, student = instructor_and_student(instructor_dir)
    variants = [answered(instructor, student)] * 6 + [
        answered(instructor, student, {"01-train-one-epoch": NO_ZERO_GRAD, "01-polar": ATAN_POLAR}),
        answered(instructor, student, {"01-mlp": TANH_MLP}),
        answered(instructor, student, {"01-polar": cell_of(student, "01-polar").source}),
        student]
    for i in range(count):
        (folder / f"student_{i:03d}.ipynb").write_text(nbformat.writes(variants[i % len(variants)]))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--benchmark", type=int, metavar="N",
                        help="write N submissions and time grading them")
    parser.add_argument("--sandbox", choices=["auto", "bwrap", "none", "both"], default="auto",
                        help="both: grade the same folder with bwrap, then without, and give the "
                             "ratio")
    args = parser.parse_args(argv)
    if not args.benchmark:
        write_samples(args.folder)
        print(f"wrote {len(EXPECTED)} sample submissions into {args.folder}")
        return 0
    from helpers.coursework.grade import grade_folder
    write_benchmark(args.folder, args.benchmark)
    seconds = {}
    for sandbox in (["bwrap", "none"] if args.sandbox == "both" else [args.sandbox]):
        started = time.monotonic()
        graded = grade_folder(args.folder,
                              args.folder.parent / f"{args.folder.name}-grades-{sandbox}",
                              sandbox=sandbox, log=lambda *_, **__: None)
        seconds[sandbox] = time.monotonic() - started
        print(f"--sandbox {sandbox}: graded {len(graded)} submissions of notebook 01 in "
              f"{seconds[sandbox]:.0f} s ({seconds[sandbox] / len(graded):.1f} s each on average)",
              flush=True)
    if len(seconds) == 2:
        print(f"the sandbox costs {seconds['bwrap'] / seconds['none'] - 1:+.0%} "
              "over --sandbox none")
    return 0


if __name__ == "__main__":
    sys.exit(main())
