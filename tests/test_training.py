import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from helpers.models import MLP
from helpers.training import (HISTORY_KEYS, choose_device, evaluate, fit, load_checkpoint, predict,
                              predict_labels, seed_everything, train_one_epoch)

pytestmark = pytest.mark.usefixtures("full_epoch_counts")


def blobs(n=256, seed=0):
    """Two Gaussian blobs in 2D, labels 0/1 as (N,) int64: a task an MLP learns in a few epochs."""
    generator = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % 2
    points = torch.randn(n, 2, generator=generator) + 2.5 * labels[:, None].float() - 1.25
    return TensorDataset(points, labels)


def loaders(batch_size=32):
    return (DataLoader(blobs(256, 0), batch_size=batch_size, shuffle=True),
            DataLoader(blobs(128, 1), batch_size=64))


def new_run(seed=0, lr=0.05):
    seed_everything(seed)
    model = MLP([2, 8, 2], dropout=0.1)
    return model, torch.optim.Adam(model.parameters(), lr=lr)


def test_seed_everything_gives_identical_results_twice():
    import random

    import numpy as np

    def draw():
        return (random.random(), np.random.rand(), torch.rand(3).tolist(),
                MLP([2, 3, 1]).net[0].weight.tolist())

    seed_everything(123)
    first = draw()
    seed_everything(123)
    assert draw() == first
    seed_everything(124)
    assert draw() != first


def test_choose_device_falls_back_to_cpu(monkeypatch):
    monkeypatch.delenv("HELPERS_DEVICE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert choose_device() == torch.device("cpu")


def test_choose_device_prefers_cuda_then_mps(monkeypatch):
    monkeypatch.delenv("HELPERS_DEVICE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert choose_device() == torch.device("mps")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert choose_device() == torch.device("cuda")
    assert choose_device("cpu") == torch.device("cpu")
    monkeypatch.setenv("HELPERS_DEVICE", "cpu")
    assert choose_device() == torch.device("cpu")


def test_predict_labels_binary_and_multiclass():
    assert predict_labels(torch.tensor([[-1.0], [2.0]])).tolist() == [0, 1]
    assert predict_labels(torch.tensor([0.5, -0.5])).tolist() == [1, 0]
    assert predict_labels(torch.tensor([[0.1, 0.7, 0.2], [3.0, 1.0, 2.0]])).tolist() == [1, 0]


def test_fit_history_keys_lengths_and_learning():
    train_loader, val_loader = loaders()
    model, optimizer = new_run()
    history = fit(model, train_loader, val_loader, nn.CrossEntropyLoss(), optimizer, epochs=5,
                  progress=False)
    for key in HISTORY_KEYS:
        assert len(history[key]) == 5, key
    assert history["epoch"] == [1, 2, 3, 4, 5]
    assert all(seconds > 0 for seconds in history["epoch_seconds"])
    assert history["train_loss"][-1] < history["train_loss"][0]
    assert history["val_acc"][-1] > 0.9
    assert history["best_epoch"] in history["epoch"]
    assert history["best_val_loss"] == min(history["val_loss"])
    assert not history["stopped_early"] and not history["interrupted"]


def test_fit_is_reproducible_with_the_same_seed():
    histories = []
    for _ in range(2):
        model, optimizer = new_run(seed=3)
        histories.append(fit(model, *loaders(), nn.CrossEntropyLoss(), optimizer, epochs=3,
                             progress=False))
    assert histories[0]["val_loss"] == histories[1]["val_loss"]
    assert histories[0]["train_acc"] == histories[1]["train_acc"]


def test_evaluate_matches_predict():
    train_loader, val_loader = loaders()
    model, optimizer = new_run()
    train_one_epoch(model, train_loader, optimizer, nn.CrossEntropyLoss())
    loss, acc = evaluate(model, val_loader, nn.CrossEntropyLoss())
    outputs, targets = predict(model, val_loader)
    assert outputs.shape == (128, 2) and targets.shape == (128,)
    assert acc == pytest.approx((outputs.argmax(1) == targets).float().mean().item())
    assert loss == pytest.approx(nn.CrossEntropyLoss()(outputs, targets).item(), rel=1e-5)


def test_binary_targets_with_bce():
    dataset = blobs()
    points, labels = dataset.tensors
    loader = DataLoader(TensorDataset(points, labels.float()[:, None]), batch_size=32)
    seed_everything(0)
    model = MLP([2, 8, 1])
    history = fit(model, loader, loader, nn.BCEWithLogitsLoss(),
                  torch.optim.Adam(model.parameters(), 0.05), 4, progress=False)
    assert history["val_acc"][-1] > 0.9


def test_early_stopping_and_restore_best():
    train_loader, val_loader = loaders()
    model, _ = new_run()
    # a learning rate far too high makes the validation loss stop improving quickly
    # (50 makes the loss overflow: a non-finite stop)
    optimizer = torch.optim.SGD(model.parameters(), lr=5.0)
    history = fit(model, train_loader, val_loader, nn.CrossEntropyLoss(), optimizer, epochs=50,
                  patience=2, restore_best=True, progress=False)
    assert history["stopped_early"]
    assert len(history["epoch"]) == history["best_epoch"] + 2
    assert (evaluate(model, val_loader, nn.CrossEntropyLoss())[0]
            == pytest.approx(history["best_val_loss"]))


def test_checkpoint_is_loadable_with_weights_only(tmp_path):
    path = tmp_path / "run" / "checkpoint.pt"
    model, optimizer = new_run()
    history = fit(model, *loaders(), nn.CrossEntropyLoss(), optimizer, epochs=3,
                  checkpoint_path=path, config={"model": "MLP([2, 8, 2])", "lr": 0.05},
                  progress=False)
    fresh, _ = new_run(seed=99)
    checkpoint = load_checkpoint(path, fresh)  # torch.load(weights_only=True) inside
    assert checkpoint["config"] == {"model": "MLP([2, 8, 2])", "lr": 0.05}
    assert checkpoint["history"]["val_loss"] == history["val_loss"]
    assert checkpoint["epoch"] == 3
    best = checkpoint["best_model"]
    assert all(torch.equal(fresh.state_dict()[k], best[k]) for k in best)
    assert [p.name for p in path.parent.iterdir()] == ["checkpoint.pt"]  # no temporary file left


def test_resume_continues_exactly_where_it_stopped(tmp_path):
    straight_model, optimizer = new_run()
    straight = fit(straight_model, *loaders(), nn.CrossEntropyLoss(), optimizer, epochs=4,
                   progress=False)

    path = tmp_path / "checkpoint.pt"
    model, optimizer = new_run()
    fit(model, *loaders(), nn.CrossEntropyLoss(), optimizer, epochs=2, checkpoint_path=path,
        progress=False)
    # a "new session": different starting weights, restored from the file
    model, optimizer = new_run(seed=42)
    resumed = fit(model, *loaders(), nn.CrossEntropyLoss(), optimizer, epochs=4,
                  checkpoint_path=path, resume=True, progress=False)
    assert resumed["epoch"] == [1, 2, 3, 4]
    assert resumed["val_loss"] == pytest.approx(straight["val_loss"])
    for key, value in straight_model.state_dict().items():
        assert torch.allclose(model.state_dict()[key], value), key


class InterruptAfter:
    """A loss function that raises KeyboardInterrupt on its n-th training call, as Ctrl-C would."""

    def __init__(self, n):
        self.calls, self.n, self.loss = 0, n, nn.CrossEntropyLoss()

    def __call__(self, outputs, targets):
        if torch.is_grad_enabled():
            self.calls += 1
            if self.calls == self.n:
                raise KeyboardInterrupt
        return self.loss(outputs, targets)


def test_keyboard_interrupt_keeps_history_and_checkpoint(tmp_path, capsys):
    path = tmp_path / "checkpoint.pt"
    train_loader, val_loader = loaders()
    model, optimizer = new_run()
    batches = len(train_loader)
    history = fit(model, train_loader, val_loader, InterruptAfter(2 * batches + 3), optimizer,
                  epochs=5, checkpoint_path=path, progress=False)
    assert history["interrupted"]
    assert history["epoch"] == [1, 2]
    assert "Interrupted after 2" in capsys.readouterr().out
    assert load_checkpoint(path)["epoch"] == 2
    model, optimizer = new_run()
    resumed = fit(model, train_loader, val_loader, nn.CrossEntropyLoss(), optimizer, epochs=5,
                  checkpoint_path=path, resume=True, progress=False)
    assert resumed["epoch"] == [1, 2, 3, 4, 5] and not resumed["interrupted"]


def test_load_checkpoint_errors_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.pt"):
        load_checkpoint(tmp_path / "missing.pt")
    broken = tmp_path / "broken.pt"
    broken.write_bytes(b"not a checkpoint")
    with pytest.raises(RuntimeError, match="broken.pt"):
        load_checkpoint(broken)


def test_checkpoint_stores_and_restores_the_gpu_random_states(tmp_path, monkeypatch):
    """Exact resume on a GPU needs its generators too (a stand-in CUDA: there is no GPU in CI)."""
    from helpers import training

    restored = []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(torch.cuda, "get_rng_state_all",
                        lambda: [torch.arange(8, dtype=torch.uint8)])
    monkeypatch.setattr(torch.cuda, "set_rng_state_all", restored.append)
    training.save_checkpoint(tmp_path / "checkpoint.pt", rng_state=training._rng_states())
    # weights_only=True
    training._set_rng_states(load_checkpoint(tmp_path / "checkpoint.pt")["rng_state"])
    assert len(restored) == 1 and torch.equal(restored[0][0], torch.arange(8, dtype=torch.uint8))


def test_in_a_notebook_the_bar_is_one_text_line_that_the_summary_replaces(monkeypatch):
    """What an executed notebook stores is plain text: the bar's updates, then the summary line."""
    import IPython.display

    from helpers import settings, training

    shown = []

    class Handle:
        def update(self, data, raw=False):
            shown.append(data["text/plain"])

    monkeypatch.setattr(settings, "_kernel_running", lambda: True)
    monkeypatch.setattr(IPython.display, "display", lambda *args, **kwargs: Handle())
    model, optimizer = new_run()
    history = fit(model, *loaders(), nn.CrossEntropyLoss(), optimizer, epochs=2, progress=True,
                  name="blobs")
    assert any(line.startswith("epoch ") and "batch" in line for line in shown[:-1])
    assert shown[-1] == "[blobs] " + training.run_summary(history)


def test_run_state_keeps_the_best_epoch_and_counts_patience():
    from helpers.training import RunState

    model, optimizer = new_run()
    state = RunState(model, optimizer)
    assert not state.restore_best() and not state.patience_ran_out(1)   # no epoch yet
    for epoch, val_loss in enumerate([0.5, 0.3, 0.4, 0.35], start=1):
        with torch.no_grad():
            model.net[0].weight.fill_(epoch)
        state.record(epoch, 1.0, 0.5, val_loss, 0.5, 0.1)
    assert state.history["best_epoch"] == 2 and state.history["best_val_loss"] == 0.3
    assert state.patience_ran_out(2) and not state.patience_ran_out(3)
    assert not state.patience_ran_out(None)
    assert state.restore_best() and model.net[0].weight.eq(2).all()


def test_the_stops_keep_the_history_and_say_why(capsys):
    from helpers.training import (NonFiniteLossError, RunState, check_finite, stop_on_ctrl_c,
                                  stop_on_non_finite_loss)

    state = RunState(*new_run())
    with stop_on_non_finite_loss(state):
        check_finite(float("inf"), "batch 2 of 8")
    assert state.history["non_finite"] == "epoch 1, batch 2 of 8: the loss is inf"
    assert "no epoch finished" in state.messages[-1]
    with stop_on_ctrl_c(state, "run.pt"):
        raise KeyboardInterrupt
    assert state.history["interrupted"]
    assert state.messages[-1].startswith(
        "Interrupted after 0 finished epoch(s); checkpoint run.pt holds epoch 0")
    assert capsys.readouterr().out == ""   # the stops only note; the run's display prints
    with pytest.raises(ValueError), stop_on_ctrl_c(state), stop_on_non_finite_loss(state):
        raise ValueError("any other error goes through")
    with pytest.raises(NonFiniteLossError):
        check_finite(float("nan"), "validation")


def test_the_package_loop_is_notebook_01s_loop():
    """Taught code = package code: notebook 01's train_one_epoch is the package's, same signature.

    Notebook 01's exercise and helpers.training.train_one_epoch have the same name and the same
    first four arguments, in the same order.
    """
    import inspect
    import json
    from helpers.settings import REPO_ROOT
    from helpers.training import train_one_epoch
    notebook = json.loads((REPO_ROOT / "notebooks" / "01_2d_classifier.ipynb").read_text())
    taught = next("".join(cell["source"]) for cell in notebook["cells"]
                  if "".join(cell["source"]).startswith("def train_one_epoch("))
    taught_arguments = taught.split("(", 1)[1].split(")", 1)[0].replace(" ", "").split(",")
    assert list(inspect.signature(train_one_epoch).parameters)[:4] == taught_arguments


def test_the_training_loop_prints_nothing(capsys):
    """Like torchvision's train_one_epoch: progress wraps the loader, the loop itself is silent."""
    from helpers.training import train_one_epoch
    train_loader, _ = loaders()
    model, optimizer = new_run()
    train_one_epoch(model, train_loader, optimizer, nn.CrossEntropyLoss())
    assert capsys.readouterr() == ("", "")
