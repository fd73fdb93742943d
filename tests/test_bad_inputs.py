"""Every bad input and fault of docs/bad_inputs.md gets the behaviour the table promises.

That is a clear error that names the file or argument and what to do, nothing half-written left
behind, nothing lost.

Each row of the table names its test here (test_every_row_of_the_table_has_its_test checks that). No
test touches the network: an "offline" download talks to a local socket that never answers.
"""

import os
import re
import signal
import socket
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.io
import torch
from torch import nn
from torchvision.datasets import MNIST, SVHN

from helpers import cache, checks, settings
from helpers.data import (CorruptDatasetError, DatasetNotFoundError, downloads, ensure_mnist,
                          load_mnist_splits, load_svhn_splits)
from helpers.data.mnist import write_synthetic_mnist
from helpers.data.svhn import write_synthetic_svhn
from helpers.models import CNN, MLP
from helpers.training import fit, load_checkpoint, save_checkpoint, seed_everything
from helpers.settings import REPO_ROOT

TABLE = REPO_ROOT / "docs" / "bad_inputs.md"


def leftovers(folder: Path) -> list[str]:
    """Return the temporary or partial files under ``folder``: what an interrupted write leaves."""
    return sorted(p.name for p in folder.rglob("*") if p.name.startswith(".") or "partial" in p.name
                  or p.suffix == ".tmp")


def test_every_row_of_the_table_has_its_test():
    rows = [line for line in TABLE.read_text().splitlines() if re.match(r"\| *\d+ *\|", line)]
    named = [re.search(r"`(test_\w+)`", row).group(1) for row in rows]
    assert len(rows) >= 20
    missing = [name for name in named if name not in globals()]
    assert not missing, f"rows of {TABLE.name} without a test: {missing}"


# --- datasets -------------------------------------------------------------------------------------


@pytest.fixture
def silent_server(monkeypatch):
    """A URL on a local socket that accepts connections and never answers: a network that hangs."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    monkeypatch.setattr(downloads, "TIMEOUT_S", 0.3)
    yield f"http://127.0.0.1:{server.getsockname()[1]}/"
    server.close()


@pytest.mark.parametrize("dataset", ["mnist", "svhn"])
def test_missing_files_offline_fail_in_seconds(tmp_path, monkeypatch, silent_server, dataset):
    if dataset == "mnist":
        monkeypatch.setattr(MNIST, "mirrors", [silent_server, silent_server])
        load, folder, names = ((lambda: load_mnist_splits(root=tmp_path)),
                               tmp_path / "MNIST" / "raw", ["t10k-"])
    else:
        monkeypatch.setattr(SVHN, "split_list", {k: (silent_server + v[1], v[1], v[2])
                                                  for k, v in SVHN.split_list.items()})
        load, folder, names = ((lambda: load_svhn_splits(root=tmp_path)), tmp_path / "SVHN",
                               ["train_32x32.mat"])
    started = time.perf_counter()
    with pytest.raises(DatasetNotFoundError) as error:
        load()
    assert time.perf_counter() - started < 10  # one timeout, not one per file and mirror
    message = str(error.value)
    assert str(folder) in message and "HELPERS_DATA" in message and all(n in message for n in names)
    assert leftovers(tmp_path) == []


def html_page(path: Path) -> None:
    path.write_bytes(b"<!DOCTYPE html>\n<html><head><title>Sign in to the campus "
                     b"network</title></head></html>")


@pytest.mark.parametrize("fault", ["corrupt", "truncated", "wrong-content", "html"])
def test_mnist_bad_file_is_named_and_nothing_is_extracted(tmp_path, fault):
    folder = write_synthetic_mnist(tmp_path, n_train=100, n_test=50)
    # the last file checked: the message must name it, not the first
    bad = folder / "t10k-labels-idx1-ubyte.gz"
    if fault == "corrupt":
        bad.write_bytes(os.urandom(bad.stat().st_size))
    elif fault == "truncated":
        bad.write_bytes(bad.read_bytes()[:-20])
    elif fault == "wrong-content":  # a valid file, but another one (the training labels)
        bad.write_bytes((folder / "train-labels-idx1-ubyte.gz").read_bytes())
    else:
        html_page(bad)
    with pytest.raises(CorruptDatasetError, match="MNIST/raw/t10k-labels-idx1-ubyte.gz") as error:
        # (paths may be shown relative to the checkout: match the tail)
        load_mnist_splits(root=tmp_path)
    assert ("web page" in str(error.value)) == (fault == "html") and "Delete it" in str(error.value)
    assert not (folder / "t10k-labels-idx1-ubyte").exists() and leftovers(tmp_path) == []


def svhn_content(fault):
    """A .mat content for ``fault``; None: write something that is not a .mat file."""
    rng = np.random.default_rng(0)
    images, labels = (rng.integers(0, 256, (32, 32, 3, 20), dtype=np.uint8),
                      np.arange(20).reshape(20, 1) % 10 + 1)
    return {"wrong-variables": {"images": images, "labels": labels},  # e.g. another dataset's .mat
            "wrong-shape": {"X": images[:28, :28, 0], "y": labels},         # grey 28x28: MNIST-like
            "labels-out-of-range": {"X": images, "y": labels - 1},           # 0..9 instead of 1..10
            }.get(fault)


@pytest.mark.parametrize("fault, problem", [
    ("wrong-variables", "missing"), ("wrong-shape", "32x32x3xN"), ("labels-out-of-range", "1..10"),
    ("corrupt", "cannot read"), ("truncated", "cannot read"), ("html", "web page")])
def test_svhn_bad_file_is_named_with_its_problem(tmp_path, fault, problem):
    folder = write_synthetic_svhn(tmp_path, n_train=40, n_test=20)
    bad = folder / "train_32x32.mat"
    if svhn_content(fault) is not None:
        scipy.io.savemat(bad, svhn_content(fault))
    elif fault == "corrupt":
        bad.write_bytes(os.urandom(4000))
    elif fault == "truncated":
        bad.write_bytes(bad.read_bytes()[:3000])
    else:
        html_page(bad)
    with warnings.catch_warnings():
        # a non-official checksum only warns: SVHN samples
        warnings.filterwarnings("ignore", "(?s).*checksum")
        with pytest.raises(CorruptDatasetError) as error:
            load_svhn_splits(root=tmp_path)
    assert "SVHN/train_32x32.mat" in str(error.value) and problem in str(error.value)
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("kind", ["nonexistent", "a file"])
def test_helpers_data_that_is_not_a_folder_is_named(tmp_path, monkeypatch, kind):
    target = tmp_path / "course-data"
    if kind == "a file":
        target.write_text("not a folder")
    monkeypatch.setenv("HELPERS_DATA", str(target))
    with pytest.raises(NotADirectoryError, match=f"HELPERS_DATA={re.escape(str(target))}") as error:
        load_mnist_splits()
    assert "mkdir" in str(error.value) and not (tmp_path / "course-data" / "MNIST").exists()


def test_read_only_helpers_data_says_what_to_do(tmp_path, monkeypatch):
    # the .gz files only: nothing extracted yet
    folder = write_synthetic_mnist(tmp_path, n_train=100, n_test=50)
    monkeypatch.setenv("HELPERS_DATA", str(tmp_path))

    def read_only(*args, **kwargs):
        # as mkstemp fails in a read-only folder (simulated: root ignores modes)
        raise PermissionError(13, "Permission denied", str(folder))

    monkeypatch.setattr(settings.tempfile, "mkstemp", read_only)
    with pytest.raises(PermissionError, match="read-only") as error:
        ensure_mnist()
    assert "MNIST/raw" in str(error.value) and "HELPERS_DATA" in str(error.value)
    monkeypatch.undo()
    assert ensure_mnist(root=tmp_path) == folder  # nothing was lost: it works once writable


# --- the run cache --------------------------------------------------------------------------------


def compute():
    return {"acc": 0.75}


@pytest.mark.parametrize("damage", ["corrupt", "another-config"])
def test_damaged_cache_entry_is_recomputed_with_a_warning(tmp_path, damage):
    cache.cached_run("run", {"lr": 0.1}, compute, folder=tmp_path)
    (entry,) = tmp_path.glob("run-*.json")
    if damage == "corrupt":
        entry.write_text(entry.read_text()[:25])
    else:  # an entry of another configuration under this name (a copied or renamed file)
        entry.write_text(entry.read_text().replace('"lr": 0.1', '"lr": 0.2'))
    with pytest.warns(UserWarning, match=re.escape(str(entry))):
        assert (cache.cached_run("run", {"lr": 0.1}, compute, folder=tmp_path)
                == {"acc": 0.75, "cached": False})
    assert cache.cached_run("run", {"lr": 0.1}, compute, folder=tmp_path)["cached"] is True


def test_read_only_cache_folder_costs_only_speed(tmp_path, monkeypatch):
    def read_only(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(tmp_path))

    monkeypatch.setattr(settings.tempfile, "mkstemp", read_only)
    with pytest.warns(UserWarning, match="HELPERS_CACHE"):
        assert (cache.cached_run("run", {}, compute, folder=tmp_path)
                == {"acc": 0.75, "cached": False})
    assert list(tmp_path.iterdir()) == []


KILLED_MID_WRITE = """
import json, os, signal, sys
from helpers import cache
def compute():
    return {"acc": 0.5}
def dying_dump(payload, file):
    file.write('{"config": {}, "res')
    file.flush()
    os.kill(os.getpid(), signal.SIGKILL)   # as the OOM killer or a closed laptop lid would
cache.json.dump = dying_dump
cache.cached_run("run", {}, compute, folder=sys.argv[1], recompute=True)
"""


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_process_killed_mid_write_keeps_the_old_entry(tmp_path):
    cache.cached_run("run", {}, compute, folder=tmp_path)
    (entry,) = tmp_path.glob("run-*.json")
    before = entry.read_text()
    done = subprocess.run([sys.executable, "-c", KILLED_MID_WRITE, str(tmp_path)], cwd=REPO_ROOT,
                          timeout=60)
    assert done.returncode == -signal.SIGKILL
    # the old entry is intact; the torn temporary file is never read
    assert entry.read_text() == before
    assert cache.cached_run("run", {}, compute, folder=tmp_path) == {"acc": 0.75, "cached": True}


# --- checkpoints and training ---------------------------------------------------------------------


def toy_run(seed=0, lr=0.05):
    generator = torch.Generator().manual_seed(0)
    labels = torch.arange(96) % 2
    points = torch.randn(96, 2, generator=generator) + 2.0 * labels[:, None] - 1.0
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(points, labels),
                                         batch_size=16, shuffle=True)
    seed_everything(seed)
    model = MLP([2, 8, 2], dropout=0.1)
    return model, torch.optim.Adam(model.parameters(), lr=lr), loader


def train(path=None, epochs=3, loss_fn=None, resume=False, **kwargs):
    model, optimizer, loader = toy_run(**kwargs)
    history = fit(model, loader, loader, loss_fn or nn.CrossEntropyLoss(), optimizer, epochs,
                  checkpoint_path=path, resume=resume, progress=False)
    return model, history


def test_truncated_checkpoint_is_named_on_load_and_resume(tmp_path):
    path = tmp_path / "run.pt"
    train(path, epochs=1)
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(RuntimeError, match=re.escape(str(path))) as error:
        train(path, resume=True)
    assert "Delete it" in str(error.value)


def test_checkpoint_of_another_model_is_named(tmp_path):
    path = tmp_path / "run.pt"
    train(path, epochs=1)
    with pytest.raises(ValueError, match="another model") as error:
        load_checkpoint(path, MLP([2, 16, 2]))
    assert str(path) in str(error.value)


class Payload:
    """Unpickling this object would run code: it would create the file ``proof``."""

    def __init__(self, proof):
        self.proof = proof

    def __reduce__(self):
        return (Path.touch, (self.proof,))


def test_malicious_checkpoint_runs_no_code(tmp_path):
    path, proof = tmp_path / "run.pt", tmp_path / "code-ran"
    save_checkpoint(path, best_model=Payload(proof))
    with pytest.raises(RuntimeError, match=re.escape(str(path))):
        load_checkpoint(path)
    assert not proof.exists()


class Exploding:
    """Cross-entropy that turns nan on the ``n``-th training batch, like a far too high rate."""

    def __init__(self, n):
        self.calls, self.n = 0, n

    def __call__(self, outputs, targets):
        self.calls += torch.is_grad_enabled()
        loss = nn.functional.cross_entropy(outputs, targets)
        return loss * float("nan") if self.calls >= self.n else loss


@pytest.mark.usefixtures("full_epoch_counts")
def test_nan_loss_stops_with_where_and_why_keeping_the_best_weights(tmp_path, capsys):
    path = tmp_path / "run.pt"
    # 6 batches per epoch: epoch 3, batch 3
    model, history = train(path, epochs=5, loss_fn=Exploding(2 * 6 + 3))
    printed = capsys.readouterr().out
    assert ("epoch 3, batch 3 of 6" in printed and "learning rate" in printed
            and "normalised" in printed)
    assert history["epoch"] == [1, 2] and history["non_finite"].startswith("epoch 3, batch 3")
    best = load_checkpoint(path)["best_model"]
    assert all(torch.equal(model.state_dict()[k], v) for k, v in best.items())
    assert all(torch.isfinite(p).all() for p in model.parameters())


class InterruptAt:
    def __init__(self, n):
        self.calls, self.n = 0, n

    def __call__(self, outputs, targets):
        self.calls += torch.is_grad_enabled()
        if self.calls == self.n:
            raise KeyboardInterrupt
        return nn.functional.cross_entropy(outputs, targets)


@pytest.mark.usefixtures("full_epoch_counts")
def test_ctrl_c_then_resume_gives_the_uninterrupted_result(tmp_path):
    straight_model, straight = train(epochs=4)
    path = tmp_path / "run.pt"
    _, interrupted = train(path, epochs=4, loss_fn=InterruptAt(2 * 6 + 2))
    assert interrupted["interrupted"] and interrupted["epoch"] == [1, 2]
    # a new session, other initial weights
    model, resumed = train(path, epochs=4, resume=True, seed=99)
    assert resumed["val_loss"] == straight["val_loss"]
    assert all(torch.equal(model.state_dict()[k], v)
               for k, v in straight_model.state_dict().items())


@pytest.mark.parametrize("model, shape", [(MLP([784, 32, 10]), (4, 1, 28, 28)),
                                          (MLP([784, 32, 10], flatten=True), (4, 3, 32, 32)),
                                          (CNN([8, 16]), (4, 3, 32, 32)), (CNN([8, 16]), (4, 784))])
def test_wrong_input_shape_names_both_shapes(model, shape):
    with pytest.raises(ValueError, match=re.escape(str(shape))) as error:
        model(torch.zeros(shape))
    assert "expects inputs of shape (N, " in str(error.value)


SAME_SEED = """
import json, torch
from torch import nn
from helpers.models import MLP
from helpers.training import fit, seed_everything
seed_everything(7)
points = torch.randn(128, 2)
labels = (points.norm(dim=1) > 1).long()
loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(points, labels), batch_size=16,
                                     shuffle=True)
model = MLP([2, 16, 2], dropout=0.2)
history = fit(model, loader, loader, nn.CrossEntropyLoss(), torch.optim.Adam(model.parameters()), 3,
              progress=False)
print(json.dumps({k: history[k] for k in ("train_loss", "train_acc", "val_loss", "val_acc")}))
"""


@pytest.mark.slow   # two Pythons with PyTorch
def test_same_seed_in_fresh_processes_gives_the_same_history():
    # side by side
    runs = [subprocess.Popen([sys.executable, "-c", SAME_SEED], cwd=REPO_ROOT,
                             stdout=subprocess.PIPE, text=True,
                             env={**os.environ, "PYTHONHASHSEED": str(seed)})
            for seed in (1, 2)]
    outputs = [run.communicate(timeout=300)[0] for run in runs]
    assert all(run.returncode == 0 for run in runs)
    assert outputs[0] == outputs[1] and "train_loss" in outputs[0]


# --- the exercises' self-checks -------------------------------------------------------------------


def forever(*args):
    while True:
        time.sleep(0.01)


def raises(*args):
    raise ZeroDivisionError("division by zero")


STUDENT_ANSWERS = {"returns-none": lambda *args: None, "wrong-shape": lambda *args: torch.zeros(3),
                   "raises": raises, "loops-forever": forever}


@pytest.mark.parametrize("answer", list(STUDENT_ANSWERS))
@pytest.mark.parametrize("check", ["check_polar", "check_nll", "check_channel_stats",
                                   "check_conv_output_size"])
def test_self_check_answers_a_broken_function_with_not_yet(capsys, monkeypatch, check, answer):
    if answer == "loops-forever":
        assert hasattr(checks, "TIME_LIMIT"), (
            "the self-checks have no time limit: this check would hang")
        monkeypatch.setattr(checks.core, "TIME_LIMIT", 0.25)
    started = time.perf_counter()
    verdict = getattr(checks, check)(STUDENT_ANSWERS[answer])
    printed = capsys.readouterr().out
    # "NOT YET: what — hint"
    assert not verdict and printed.startswith("NOT YET") and " — " in printed, printed
    assert "Traceback" not in printed and time.perf_counter() - started < 30
