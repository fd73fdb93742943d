"""Sample submissions for the grader, and a timing of `make grade` on many of them.

Notebook 01's samples, and the judgement exercises of every notebook.

    python scripts/grading_samples.py FOLDER     # write the sample submissions into FOLDER
    # time grading 100 submissions:
    python scripts/grading_samples.py FOLDER --benchmark 100 [--sandbox both]

The samples are what students hand in: the student copy (as `make student` writes it) with answers
filled in -- right, partly wrong, not at all, crashing, looping forever, hanging, cells deleted or
moved, the metadata lost, a renamed file -- and files that are not notebooks of the course at all.
tests/test_grade.py grades them and checks every result in :data:`EXPECTED`.

The exercises that need judgement (issue 30: a code exercise whose ``grade`` metadata has the kind
``design`` or ``debugging``, and every written answer) are found in the instructor notebooks'
metadata, so a new one is covered without a change here (:func:`judgement_plan`): notebook 01's
written answers are right in "Alice Smith - lab 1 (2).ipynb" and wrong in "partly_wrong.ipynb";
every other notebook gets two samples, ``NN_judgement_right.ipynb`` (the instructor's answers) and
``NN_judgement_wrong.ipynb`` (:data:`JUDGEMENT_WRONG`, or a generic wrong answer), each holding only
the cells that its design or debugging exercises need (:func:`needed_cells`): the notebook's other
experiments would cost the test suite minutes. tests/test_judgement.py grades them end to end.
"""

from __future__ import annotations

import argparse
import ast
import builtins
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

#: The course's own code handed in as the student's (issue 27's gap): the course's train_one_epoch
#: imported under the exercise's name, and a to_polar that only calls the course's polar_features
#: (the version notebook 01 falls back to). Both would pass every check; the grader refuses them.
COURSE_CODE = {
    "01-train-one-epoch": "from helpers.training import train_one_epoch   # not mine\n",
    "01-polar": ("from helpers.data import polar_features\n\n\n"
                 "def to_polar(points):\n    return polar_features(points)   # a thin wrapper\n"),
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
    "course_code.ipynb": ["PASSED", "NOT YET", "PASSED", "NOT YET"],
    "invalid_json.ipynb": "unreadable",
    "empty.ipynb": "unreadable",
    "other_course.ipynb": "unknown notebook",
}
#: the few samples that cover every kind of result, for the test suite (5 kernels)
SMALL_SET = ["Alice Smith - lab 1 (2).ipynb", "partly_wrong.ipynb", "mixed.ipynb",
             "hostile_then_kernel_crash.ipynb", "course_code.ipynb", "invalid_json.ipynb",
             "empty.ipynb", "other_course.ipynb"]
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
    """Return the student copy with every exercise answered as the instructor did.

    Except ``answers`` (id -> code).
    """
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
    answer_written(anonymous, instructor, right=True)   # (found by the question before each)
    anonymous.metadata.pop("grade")
    for cell in anonymous.cells:
        # e.g. an editor that drops metadata: recognised by content
        cell.metadata.pop("grade", None)
    save("Alice Smith - lab 1 (2).ipynb", anonymous)
    partly_wrong = answered(instructor, student, {
        "01-dataset": HARDCODED_LEN, "01-train-one-epoch": NO_ZERO_GRAD, "01-mlp": TANH_MLP,
        "01-polar": ATAN_POLAR})
    answer_written(partly_wrong, instructor, right=False)
    # (partly wrong, crashing, mixed and the tampering samples: only the cells their exercises need,
    # see trimmed(); the right, renamed, hostile and looping ones are whole notebooks)
    save("partly_wrong.ipynb", trimmed(partly_wrong, instructor, EXERCISES))
    save("not_attempted.ipynb", student)
    crashing = answered(instructor, student,
                        {"01-dataset": cell_of(instructor, "01-dataset").source + "\n"
                         + WRONG_FILE})
    cell_of(crashing, "01-mlp").source = ("1 / 0   # a crash before the definition\n"
                                          + cell_of(crashing, "01-mlp").source)
    save("crashing.ipynb", trimmed(crashing, instructor, EXERCISES))
    mixed = answered(instructor, student, {"01-mlp": stub["01-mlp"]})
    cell_of(mixed, "01-dataset").source += "\n" + WRONG_FILE
    cell_of(mixed, "01-train-one-epoch").source += "\n" + HANG
    save("mixed.ipynb", trimmed(mixed, instructor, EXERCISES))
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
        # (only the cells the exercises need: the tricks and the checks are what is tested)
        save(name, trimmed(answered(instructor, student, answers), instructor, EXERCISES))
    save("course_code.ipynb", trimmed(answered(instructor, student, COURSE_CODE), instructor,
                                      EXERCISES))
    write_judgement_samples(folder, instructor_dir, only)


# --- the exercises that need judgement: right in one sample, wrong in another ---------------------

#: A written answer that a marker gives no points (any question): in every "wrong" sample.
WRONG_WRITTEN = "It makes no difference; I did not run it."
#: Plausible wrong answers to the design and debugging exercises, each worth 0 points and cheap to
#: grade (over the budget: the check stops before any training). An exercise not listed here gets a
#: generic wrong answer (:func:`generic_wrong`).
JUDGEMENT_WRONG = {
    "02-design": """def build_model():
    return nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 10))   # 19,210: too many


def train_model(model, images, labels):
    return model
""",
    "03-design": """def build_model():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 10))   # 7,850 parameters: over the budget


def train_model(model, images, labels):
    return model
""",
    "04-design": """def build_model():
    return nn.Sequential(nn.Flatten(), nn.Linear(3 * 32 * 32, 10))   # 30,730: over the budget


def train_model(model, images, labels):
    return model
""",
    # two of the three mistakes repaired; NLLLoss on logits is still there
    "05-debug-training-loop": """\
def classify_digits(train_images, train_labels, new_images, epochs=30):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Dropout(0.3), nn.Linear(128, 10))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loss_fn = nn.NLLLoss()
    train_images, new_images = train_images / 16, new_images / 16
    for _ in range(epochs):
        model.train()
        for batch in torch.randperm(len(train_images)).split(32):
            optimizer.zero_grad()
            loss = loss_fn(model(train_images[batch]), train_labels[batch])
            loss.backward()
            optimizer.step()
    model.eval()
    with torch.no_grad():
        return model(new_images).argmax(dim=1)
""",
}


def generic_wrong(exercise) -> str:
    """Return a wrong answer to any exercise: its functions return None, its classes do nothing."""
    return "\n\n".join(f"class {name}:\n    pass\n" if name[:1].isupper() else
                       f"def {name}(*args, **kwargs):\n    return None\n"
                       for name in sorted(exercise.defines))


def role_of_cell(cell) -> tuple:
    """Return (exercise id, role) of a cell from its ``grade`` metadata."""
    meta = cell.metadata.get("grade") or {}
    return meta.get("exercise"), meta.get("role")


def judgement_kind(cell) -> str:
    """Return the judgement kind of a graded cell.

    Its ``kind`` metadata, or "written" for a written answer without one; "" for a plain function
    exercise.
    """
    from helpers.coursework.course import JUDGEMENT_KINDS

    meta = cell.metadata.get("grade") or {}
    kind = str(meta.get("kind", ""))
    if kind in JUDGEMENT_KINDS:
        return kind
    return "written" if meta.get("role") == "written" else ""


def judgement_plan(instructor_dir: Path = ROOT / "notebooks") -> list[dict]:
    """Return every exercise that needs judgement, with the samples that hold it right and wrong.

    Each item: ``{"notebook", "item" (an exercise id, or a written question's id), "kind",
    "written" (graded by a person), "right", "wrong"}``, found from the cells' metadata.
    """
    from helpers.coursework import written
    from helpers.coursework.course import exercises_of

    plan = []
    for path in sorted(Path(instructor_dir).glob("[0-9][0-9]_*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        name = path.stem
        kinds = {role_of_cell(c)[0]: judgement_kind(c) for c in notebook.cells
                 if role_of_cell(c)[1] == "solution" and judgement_kind(c)}
        code = [e for e in exercises_of(notebook) if e.id in kinds]
        questions = written.questions_of(notebook, name)
        if not code and not questions:
            continue
        right, wrong = f"{name[:2]}_judgement_right.ipynb", f"{name[:2]}_judgement_wrong.ipynb"
        for exercise in code:
            plan.append({"notebook": name, "item": exercise.id, "kind": kinds[exercise.id],
                         "written": False, "right": right, "wrong": wrong})
        if name == NOTEBOOK:   # notebook 01's own samples hold its written answers
            right, wrong = "Alice Smith - lab 1 (2).ipynb", "partly_wrong.ipynb"
        for question in questions:
            plan.append({"notebook": name, "item": question.exercise,
                         "kind": question.kind or "written", "written": True, "right": right,
                         "wrong": wrong})
    return plan


def judgement_samples(instructor_dir: Path = ROOT / "notebooks", plan=None) -> list[str]:
    """Return the file names of the judgement samples (not notebook 01's own samples)."""
    plan = judgement_plan(instructor_dir) if plan is None else plan
    files = {f for item in plan for f in (item["right"], item["wrong"])}
    return sorted(files - set(EXPECTED))


def _names(source: str) -> tuple[set[str], set[str]]:
    """Return (the names a cell binds at its top level, the names it reads but does not bind)."""
    from IPython.core.inputtransformer2 import TransformerManager

    try:
        tree = ast.parse(TransformerManager().transform_cell(source))
    except SyntaxError:
        return set(), set()
    top, everywhere, read = set(), set(), set()
    scopes = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda, ast.ListComp,
              ast.SetComp, ast.DictComp, ast.GeneratorExp)

    def visit(node, nested):
        bound = []
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound = [node.name]
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound = [alias.asname or alias.name.split(".")[0] for alias in node.names]
        elif isinstance(node, ast.Name):
            if isinstance(node.ctx, ast.Load):
                read.add(node.id)
            else:
                bound = [node.id]
        elif isinstance(node, ast.arg):
            everywhere.add(node.arg)
        everywhere.update(bound)
        if not nested:
            top.update(bound)
        for child in ast.iter_child_nodes(node):
            visit(child, nested or isinstance(node, scopes))

    visit(tree, False)
    return top, read - everywhere - set(dir(builtins))


def needed_cells(notebook, targets: list[int], extra_sources=()) -> list[int]:
    """Return the indices of the code cells that the cells ``targets`` need, in order.

    That is the targets and every earlier cell that binds a name a needed cell reads (the last such
    cell before it), followed back to the start: a slice of the program. ``extra_sources``: code
    that runs after the targets (their check cells), whose names count too.
    """
    needed, keep = set(), set(targets)
    for source in extra_sources:
        needed |= _names(source)[1]
    for index in targets:
        needed |= _names(notebook.cells[index].source)[1]
    for index in range(max(targets), -1, -1):
        cell = notebook.cells[index]
        if cell.cell_type != "code" or index in targets:
            continue
        top, reads = _names(cell.source)
        if top & needed:
            keep.add(index)
            needed = (needed - top) | reads
            exercise, role = role_of_cell(cell)
            if role == "solution":   # its instructor's check cell runs after it: its names too
                for check in notebook.cells:
                    if role_of_cell(check) == (exercise, "check"):
                        needed |= _names(check.source)[1]
    return sorted(keep)


def model_answers(instructor) -> dict[str, str]:
    """Return ``{cell id: model answer}`` of the instructor notebook's written answers."""
    from helpers.coursework import MARKDOWN_BEGIN, MARKDOWN_END

    return {c.get("id"): c.source.split(MARKDOWN_BEGIN, 1)[1].split(MARKDOWN_END, 1)[0].strip()
            for c in instructor.cells if c.cell_type == "markdown" and MARKDOWN_BEGIN in c.source}


def answer_written(notebook, instructor, right: bool) -> None:
    """Fill in a sample's written answers: the model answers, or :data:`WRONG_WRITTEN`."""
    model = model_answers(instructor)
    for cell in notebook.cells:
        if cell.cell_type == "markdown" and cell.get("id") in model:
            cell.source = model[cell.get("id")] if right else WRONG_WRITTEN


def trimmed(notebook, instructor, exercises: list[str]):
    """Return the notebook with only the code cells that ``exercises`` need.

    Their solution and check cells and what those read (:func:`needed_cells`), and every markdown
    cell: a submission whose experiments were deleted, graded like any other, in a fraction of the
    time.
    """
    index = {role_of_cell(c): i for i, c in enumerate(notebook.cells)}
    checks = [c.source for c in instructor.cells
              if role_of_cell(c)[0] in exercises and role_of_cell(c)[1] != "solution"]
    kept = set(needed_cells(notebook, [index[(e, "solution")] for e in exercises], checks))
    kept |= {index.get((e, "check"), -1) for e in exercises}
    copy = nbformat.from_dict(json.loads(json.dumps(notebook)))
    copy.cells = [c for i, c in enumerate(copy.cells) if c.cell_type == "markdown" or i in kept]
    return copy


def write_judgement_samples(folder: Path, instructor_dir: Path = ROOT / "notebooks",
                            only=None) -> None:
    """Write ``NN_judgement_right.ipynb`` and ``NN_judgement_wrong.ipynb`` per notebook.

    For every notebook with exercises that need judgement (:func:`judgement_plan`).

    Each is the student copy with the instructor's answers (right) or wrong ones, keeping only the
    code cells its design and debugging exercises need; all its markdown cells (the written answers)
    stay. Notebook 01's written answers are in its own samples.
    """
    from helpers.coursework.course import exercises_of
    from helpers.coursework.grade import solutions_notebook

    folder.mkdir(parents=True, exist_ok=True)
    plan = judgement_plan(instructor_dir)
    for name in sorted({item["notebook"] for item in plan}):
        items = [item for item in plan if item["notebook"] == name and not (
            item["written"] and item["right"] in EXPECTED)]
        if not items or only is not None and not {items[0]["right"], items[0]["wrong"]} & set(only):
            continue
        instructor = nbformat.read(Path(instructor_dir) / f"{name}.ipynb", as_version=4)
        exercises = {e.id: e for e in exercises_of(instructor)}
        code = [item["item"] for item in items if not item["written"]]
        checks = [c.source for c in instructor.cells
                  if role_of_cell(c)[0] in code and role_of_cell(c)[1] != "solution"]
        for which in ("right", "wrong"):
            notebook = solutions_notebook(instructor_dir, name)
            index = {role_of_cell(c): i for i, c in enumerate(notebook.cells)}
            targets = [index[(e, "solution")] for e in code]
            kept = set(needed_cells(notebook, targets, checks)) if targets else set()
            for exercise in code:
                if which == "wrong":
                    notebook.cells[index[(exercise, "solution")]].source = (
                        JUDGEMENT_WRONG.get(exercise) or generic_wrong(exercises[exercise]))
                kept.add(index.get((exercise, "check"), -1))
            answer_written(notebook, instructor, right=which == "right")
            notebook.cells = [c for i, c in enumerate(notebook.cells)
                              if c.cell_type == "markdown" or i in kept]
            file = items[0][which]
            if only is None or file in only:
                (folder / file).write_text(nbformat.writes(notebook))



def mark_written(grades: Path) -> int:
    """Play the lecturer on a grades folder.

    In every ``written/<question>.csv``, full points to the answers that are the model answer and 0
    to the others, with a comment each.

    Returns the number of answers marked; then ``python -m helpers.coursework written merge`` (or
    :func:`helpers.coursework.written.merge`) merges the points back.
    """
    import csv

    from helpers.coursework import written

    marked = 0
    for path in sorted((Path(grades) / "written").glob("*.csv")):
        with open(path, newline="") as file:
            rows = list(csv.DictReader(file))
        model = next(row["answer"] for row in rows if row["file"] == written.MODEL_ANSWER)
        for row in rows:
            if row["file"] != written.MODEL_ANSWER:
                right = row["answer"].strip() == model.strip()
                row["points"] = row["max"] if right else "0"
                row["comment"] = "as the model answer" if right else "not what the run shows"
                marked += 1
        with open(path, "w", newline="") as file:
            writer = csv.DictWriter(file, written.COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
    return marked



def write_benchmark(folder: Path, count: int, instructor_dir: Path = ROOT / "notebooks") -> None:
    """Write ``count`` submissions like a real class: mostly right, some wrong, some unfinished."""
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
        names = [*EXPECTED, *TAMPERING, "course_code.ipynb", *judgement_samples()]
        print(f"wrote {len(set(names))} sample submissions into {args.folder} "
              f"({len(judgement_samples())} of them with the judgement exercises of the other "
              "notebooks, right or wrong)")
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
