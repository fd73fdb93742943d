"""The channel between the trusted grader and a student's kernel (helpers/coursework/channel.py).

Plain data and standard models cross it, nothing else does, and a malformed or hostile reply is
refused before it costs memory. Both ends run in this process here (no kernel: fast).
"""

import math
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from helpers.checks import core
from helpers.coursework import channel, judge
from helpers.coursework.grade import (Graded, Result, likely_cause, passes_self_check,
                                      self_check_message)

ROOT = Path(__file__).resolve().parent.parent


def loopback(tmp_path, namespace):
    """A channel whose 'kernel' is a Server in this process."""
    server = channel.Server(namespace)

    def run(source, timeout):
        folder, nonce = re.findall(r"'([^']*)'", source)[-2:]
        server.serve(folder, nonce)
        return "ran"
    return channel.Channel(tmp_path / "channel", str(tmp_path / "channel"), run, 10)


def test_plain_data_crosses_both_ways(tmp_path):
    def echo(*args, **kwargs):
        return args, kwargs, {"nan": math.nan, "array": np.arange(3, dtype=np.int32)}
    remote = loopback(tmp_path, {"echo": echo}).lookup("echo")
    assert isinstance(remote, channel.Remote)
    args, kwargs, extra = remote(1, 2.5, "x", None, [True, (3, 4)], torch.arange(6).reshape(2, 3),
                                 key=torch.tensor([1.5], dtype=torch.float64))
    assert args[:4] == (1, 2.5, "x", None) and args[4] == [True, (3, 4)]
    assert torch.equal(args[5], torch.arange(6).reshape(2, 3))
    assert kwargs["key"].dtype == torch.float64
    assert math.isnan(extra["nan"]) and extra["array"].tolist() == [0, 1, 2]


def test_a_standard_model_is_rebuilt_from_torch_nn_and_anything_else_stays_a_handle(tmp_path):
    class Sneaky(nn.Linear):   # a subclass may compute anything: never rebuilt as a Linear
        def forward(self, x):
            return x * 0

    namespace = {"mlp": nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1)),
                 "sneaky": nn.Sequential(Sneaky(2, 2)), "number": 3}
    link = loopback(tmp_path, namespace)
    mlp = link.lookup("mlp")
    assert type(mlp) is nn.Sequential and [type(m).__name__ for m in mlp] == ["Linear", "Tanh",
                                                                             "Linear"]
    assert torch.equal(mlp[0].weight, namespace["mlp"][0].weight)
    assert mlp[0].weight is not namespace["mlp"][0].weight
    assert isinstance(link.lookup("sneaky"), channel.Remote)
    assert link.lookup("number") == 3
    with pytest.raises(NameError):
        link.lookup("undefined")


def test_what_the_students_code_does_to_the_graders_objects_comes_back(tmp_path):
    def train_one_epoch(model, loader, optimizer, loss_fn):
        model.train()
        for x, y in loader:
            optimizer.zero_grad()
            loss_fn(model(x), y).backward()
            optimizer.step()
        return 0.5
    remote = loopback(tmp_path, {"train_one_epoch": train_one_epoch}).lookup("train_one_epoch")
    torch.manual_seed(0)
    model, reference = nn.Linear(2, 1), nn.Linear(2, 1)
    reference.load_state_dict(model.state_dict())
    data = torch.utils.data.TensorDataset(torch.randn(8, 2), torch.rand(8, 1).round())
    results = []
    for trained in (model, reference):
        optimizer = torch.optim.SGD(trained.parameters(), lr=0.5, momentum=0.9)
        loader = torch.utils.data.DataLoader(data, batch_size=4)
        run = remote if trained is model else train_one_epoch
        results.append([run(trained.eval(), loader, optimizer, nn.BCEWithLogitsLoss())
                        for _ in range(2)])
    assert results[0] == results[1] and model.training
    for ours, theirs in zip(model.parameters(), reference.parameters()):
        assert torch.allclose(ours, theirs)


def test_the_student_objects_errors_come_back_by_type_and_never_as_a_verdict(tmp_path):
    def stub(points):
        raise NotImplementedError("Exercise: replace these two lines with your code")
    link = loopback(tmp_path, {"stub": stub, "weird": lambda: (_ for _ in ()).throw(KeyError(1))})
    with pytest.raises(NotImplementedError):
        link.lookup("stub")(torch.zeros(1))
    with pytest.raises(KeyError):
        link.lookup("weird")()


def test_malformed_replies_are_refused():
    decoder = channel.Decoder(b"\0" * 8)
    for spec in ({"dtype": "object", "shape": [1], "offset": 0, "nbytes": 8},
                 {"dtype": "float32", "shape": [4], "offset": 0, "nbytes": 8},
                 {"dtype": "float32", "shape": [2], "offset": 4, "nbytes": 8},
                 {"dtype": "float32", "shape": [-2], "offset": 0, "nbytes": 8}):
        with pytest.raises(channel.ChannelError):
            decoder.decode({"$tensor": spec})
    with pytest.raises(channel.ChannelError):
        decoder.decode({"$pickle": "gASV"})
    with pytest.raises(channel.ChannelError):   # not a torch.nn layer
        channel.build_model({"type": "system", "args": {"command": "rm -rf /"}}, {})
    huge = {"type": "Linear", "args": {"in_features": 10**6, "out_features": 10**6, "bias": False},
            "children": []}
    with pytest.raises(channel.ChannelError):   # refused on the meta device: nothing allocated
        channel.build_model(huge, {"weight": torch.zeros(1, 1)})


def test_the_channel_never_unpickles():
    source = (ROOT / "helpers" / "coursework" / "channel.py").read_text()
    code = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith("#"))
    assert not re.search(r"\bimport pickle|\bpickle\.|torch\.load|allow_pickle=True|jit\.load",
                         code)


def test_the_verdict_format_is_defined_once():
    assert core.verdict_line(True, "x") == "PASSED: x"
    assert core.verdict_line(False, "x", "hint") == "NOT YET: x — hint"
    part = judge.Part(verdicts=[(True, "a", ""), (False, "b", "h")])
    assert part.failed == ["NOT YET: b — h"]


def test_the_self_check_names_the_likely_cause():
    def graded(status, detail):
        return Graded("solutions", "01_2d_classifier",
                      results=[Result("01-polar", status, 0, 2, detail)])
    assert passes_self_check(Graded("s", "n", results=[Result("a", "PASSED", 2, 2)]))
    assert not passes_self_check(graded("ERROR", ""))
    assert "helpers" in likely_cause(graded(
        "ERROR", "your cell raised ModuleNotFoundError: No module named 'helpers'"))
    assert "not importable" in likely_cause(graded("ERROR", "your cell raised NameError: torch"))
    assert "data missing" in likely_cause(graded("ERROR", "FileNotFoundError: data/x.npz"))
    assert "fails its own solution" in likely_cause(graded("NOT YET", "NOT YET: to_polar"))
    message = self_check_message(graded("NOT YET", "NOT YET: to_polar"))
    assert "0 / 2 points" in message and "01-polar" in message and "no submission" in message


def test_a_students_layer_without_weights_runs_through_the_channel_forward_and_backward(tmp_path):
    class Flatten(nn.Module):   # the student's own class
        def forward(self, x):
            return x.reshape(x.shape[0], -1)

    torch.manual_seed(0)
    network = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), Flatten(), nn.Linear(2 * 16, 3))
    ours = loopback(tmp_path, {"network": network}).lookup("network")
    assert isinstance(ours[1], channel.RemoteLayer) and type(ours[0]) is nn.Conv2d
    inputs = torch.randn(4, 1, 4, 4)
    assert torch.allclose(ours(inputs), network(inputs))
    import copy
    assert isinstance(copy.deepcopy(ours)[1], channel.RemoteLayer)
    ours(inputs).sum().backward()
    network(inputs).sum().backward()
    assert torch.allclose(ours[0].weight.grad, network[0].weight.grad)


def test_a_file_the_students_code_writes_comes_back(tmp_path):
    def save(model, path):
        torch.save(model.state_dict(), path)

    def load(model, path):
        model.load_state_dict(torch.load(path, weights_only=True))
        return model
    link = loopback(tmp_path, {"save": save, "load": load})
    model, path = nn.Linear(2, 2), tmp_path / "trusted" / "weights.pt"
    path.parent.mkdir()
    link.lookup("save")(model, path)
    assert path.is_file()
    loaded = link.lookup("load")(nn.Linear(2, 2), path)
    assert torch.equal(loaded.weight, model.weight)


# --- the course's own code under a graded name (issue 27's gap) -----------------------------------


def notebook_function(source: str, name: str, namespace: dict):
    """Define ``name`` as a notebook cell would: its code's module is ``__main__``."""
    namespace.setdefault("__name__", "__main__")
    exec(compile(source, "/tmp/ipykernel_1/cell.py", "exec"), namespace)
    return namespace[name]


def exercise_of(exercise_id: str):
    from helpers.coursework.course import load_course
    return next(e for exercises in load_course().values() for e in exercises
                if e.id == exercise_id)


@pytest.mark.parametrize("how, source, expected", [
    ("an alias", "from helpers.data import polar_features as to_polar", "helpers.data"),
    ("a thin wrapper", "from helpers.data import polar_features\n"
                       "def to_polar(points):\n    return polar_features(points)\n",
     "calls the course's own version (helpers.data.transforms.polar_features)"),
    ("its code swapped in", "from helpers.data import polar_features\n"
                            "def to_polar(points):\n    pass\n"
                            "to_polar.__code__ = polar_features.__code__\n", "helpers"),
])
def test_the_course_s_own_function_under_the_exercise_s_name_is_refused(tmp_path, how, source,
                                                                          expected):
    exercise = exercise_of("01-polar")
    namespace = {"__name__": "__main__"}
    notebook_function(source, "to_polar", namespace)
    part = judge.course_copy(exercise, loopback(tmp_path, namespace))
    assert part is not None, how
    [(passed, what, why)] = part.verdicts
    assert not passed and what == "`to_polar` is your own code" and expected in why, why


def test_a_subclass_of_the_course_s_class_is_refused_the_student_s_own_code_is_not(tmp_path):
    early = exercise_of("02-early-stopping")
    namespace = {"__name__": "__main__"}
    notebook_function("from helpers.checks.nb02 import CourseEarlyStopping\n"
                      "class EarlyStopping(CourseEarlyStopping):\n    pass\n", "EarlyStopping",
                      namespace)
    part = judge.course_copy(early, loopback(tmp_path, namespace))
    assert part and "helpers.checks.nb02" in part.verdicts[0][2]
    own = {"__name__": "__main__"}
    notebook_function("import torch\nfrom helpers.models import count_parameters\n"
                      "def to_polar(points):\n"
                      "    x, y = points[:, 0], points[:, 1]\n"
                      "    return torch.stack([torch.hypot(x, y), torch.atan2(y, x)], dim=1)\n",
                      "to_polar", own)
    assert judge.course_copy(exercise_of("01-polar"), loopback(tmp_path / "own", own)) is None


def test_no_instructor_solution_is_taken_for_the_course_s_own_code(tmp_path):
    """No instructor solution is refused as the course's own code.

    Every exercise's solution cell, its definitions run as a notebook cell would run them (with the
    notebook's imports): a solution may use the course's helpers, e.g. notebook 04's design builds
    its model with the notebook's make_cnn.
    """
    import ast

    import nbformat

    from helpers.coursework.course import exercises_of, import_statements
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        namespace = {"__name__": "__main__"}
        exec(import_statements(notebook.cells), namespace)
        for cell in notebook.cells:   # the definitions only: no cell's experiments run
            if cell.cell_type == "code" and (cell.metadata.get("grade") or {}).get(
                    "role") != "check":
                try:
                    tree = ast.parse(cell.source)
                except SyntaxError:
                    continue
                tree.body = [n for n in tree.body if isinstance(n, (
                    ast.FunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom))]
                try:
                    exec(compile(tree, "/tmp/ipykernel_1/cell.py", "exec"), namespace)
                except Exception:
                    continue
        server = loopback(tmp_path / path.stem, namespace)
        for exercise in exercises_of(notebook):
            assert exercise.defines <= set(namespace), (path.name, exercise.id)
            assert judge.course_copy(exercise, server) is None, (path.name, exercise.id)
