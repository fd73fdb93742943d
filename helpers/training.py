"""Seeding, device choice and the training loop.

``fit`` is the loop written out in notebooks 01 and 02 -- every epoch :func:`train_one_epoch`
(notebook 01's exercise, same name and arguments), then
:func:`evaluate` on the validation set -- and returns a plain history dict (plotting it is
``helpers.plotting``'s job). What the later notebooks need besides are small named pieces that
``fit`` calls, each usable and tested on its own:

- :class:`RunState`: the history, the best weights so far, and the checkpoint (save, resume);
- :class:`RunDisplay`: the progress bar or the live learning curves, then one summary line;
- :func:`stop_on_non_finite_loss` (the NaN guard) and :func:`stop_on_ctrl_c`: training stops
  cleanly and the history so far is returned.

The callback protocol is one call: after every epoch ``fit`` calls ``callback(history)`` for the
checkpoint, then ``on_epoch_end``, then the display.
"""

from __future__ import annotations

import copy
import math
import random
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm  # the text bar: no widget state for an executed notebook to store

from helpers.settings import atomic_write, device_override, frontend, shown_path, smoke_mode

#: The most epochs :func:`fit` trains in smoke mode (``HELPERS_SMOKE=1``: the test suite's quick
#: run-through of every notebook), so that a notebook writes its real epoch counts only.
SMOKE_EPOCHS = 2

HISTORY_KEYS = ("epoch", "train_loss", "train_acc", "val_loss", "val_acc", "epoch_seconds")


class NonFiniteLossError(ArithmeticError):
    """The loss became nan or inf (:func:`check_finite`); :func:`fit` stops and explains."""


NON_FINITE_HINT = ("Usual causes: a learning rate too high (try 10x lower), inputs not normalised "
                   "(e.g. pixels 0..255 instead of about -1..1), or a log/division by zero in a "
                   "hand-written loss.")


def check_finite(loss: float, where: str) -> None:
    """Raise :class:`NonFiniteLossError` naming ``where`` when ``loss`` is nan or inf."""
    if not math.isfinite(loss):
        raise NonFiniteLossError(f"{where}: the loss is {loss}")


def _rng_states() -> dict:
    """Return the random states of torch's generators: CPU, every CUDA device, MPS.

    A resume restores all of them.
    """
    return {"cpu": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
            "mps": torch.mps.get_rng_state() if torch.backends.mps.is_available() else None}


def _set_rng_states(states) -> None:
    if isinstance(states, torch.Tensor):  # checkpoints written before the GPU states were stored
        states = {"cpu": states}
    torch.set_rng_state(states["cpu"])
    cuda = states.get("cuda")
    if cuda and torch.cuda.is_available() and len(cuda) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(cuda)
    if states.get("mps") is not None and torch.backends.mps.is_available():
        torch.mps.set_rng_state(states["mps"])


def seed_everything(seed: int) -> None:
    """Seed Python's ``random``, NumPy and PyTorch (CPU and all GPUs) in one call."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds CUDA and MPS generators


def choose_device(prefer: str | None = None) -> torch.device:
    """The fastest device available: CUDA, then Apple MPS, then the CPU.

    ``prefer`` (e.g. ``"cpu"``) overrides the choice; so does ``$HELPERS_DEVICE``.
    """
    prefer = prefer or device_override()
    if prefer:
        return torch.device(prefer)
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def predict_labels(outputs: torch.Tensor) -> torch.Tensor:
    """Class labels from a model's outputs.

    (N,) or (N, 1) outputs are one logit per sample (binary): label = logit > 0.
    (N, C) outputs are scores per class (logits, log-probabilities or probabilities):
    label = argmax.
    Returns an (N,) int64 tensor.
    """
    if outputs.ndim == 1 or outputs.shape[-1] == 1:
        return (outputs.reshape(-1) > 0).long()
    return outputs.argmax(dim=1)


def _count_correct(outputs: torch.Tensor, targets: torch.Tensor) -> int:
    return int((predict_labels(outputs) == targets.reshape(-1).long()).sum())


def train_one_epoch(model, loader, optimizer, loss_fn, device=None,
                    batch_transform=None) -> tuple[float, float]:
    """One pass over ``loader`` with a gradient step per batch: notebook 01's loop, plus accuracy.

    Args:
        loader: yields ``(inputs, targets)`` batches, e.g. inputs (B, C, H, W) and targets (B,).
        loss_fn: ``loss_fn(outputs, targets)`` -> scalar mean loss of the batch.
        batch_transform: optional ``f(inputs) -> inputs`` applied to each training batch on the
            device (data augmentation); never applied at evaluation.
    Returns:
        (mean loss, accuracy) over the epoch, measured on the fly in training mode.
    Raises:
        NonFiniteLossError: a batch's loss is nan or inf (before its gradient step).
    """
    device = device or next(model.parameters()).device
    model.train()
    total_loss, correct, seen = 0.0, 0, 0
    for batch, (inputs, targets) in enumerate(loader, start=1):
        inputs, targets = inputs.to(device), targets.to(device)
        if batch_transform is not None:
            inputs = batch_transform(inputs)
        optimizer.zero_grad()
        outputs = model(inputs)
        loss = loss_fn(outputs, targets)
        check_finite(loss.item(), f"batch {batch} of {len(loader)}")
        loss.backward()
        optimizer.step()
        total_loss += loss.item() * len(targets)
        correct += _count_correct(outputs.detach(), targets)
        seen += len(targets)
    return total_loss / seen, correct / seen


@torch.no_grad()
def evaluate(model, loader, loss_fn, device=None) -> tuple[float, float]:
    """Mean loss and accuracy of ``model`` over ``loader``, in eval mode, without gradients."""
    device = device or next(model.parameters()).device
    model.eval()
    total_loss, correct, seen = 0.0, 0, 0
    for inputs, targets in loader:
        inputs, targets = inputs.to(device), targets.to(device)
        outputs = model(inputs)
        total_loss += loss_fn(outputs, targets).item() * len(targets)
        correct += _count_correct(outputs, targets)
        seen += len(targets)
    return total_loss / seen, correct / seen


@torch.no_grad()
def predict(model, loader, device=None) -> tuple[torch.Tensor, torch.Tensor]:
    """All outputs and targets of ``loader``, on the CPU.

    Returns:
        outputs: (N, ...) the model's raw outputs; targets: (N, ...) as the loader gives them.
    """
    device = device or next(model.parameters()).device
    model.eval()
    outputs, targets = [], []
    for inputs, batch_targets in loader:
        outputs.append(model(inputs.to(device)).cpu())
        targets.append(batch_targets)
    return torch.cat(outputs), torch.cat(targets)


def run_summary(history) -> str:
    """Describe a finished run in one line; its best epoch is the one of lowest validation loss.

    For example "10 epochs in 34 s; best epoch 8 (lowest validation loss 0.041), validation
    accuracy 98.9%".
    """
    if not history["epoch"]:
        return "no epoch finished"
    best = min(range(len(history["val_loss"])), key=history["val_loss"].__getitem__)
    seconds = sum(history["epoch_seconds"])
    took = f"{seconds:.0f} s" if seconds >= 1 else "under 1 s"
    return (f"{len(history['epoch'])} epochs in {took}; best epoch "
            f"{history['epoch'][best]} (lowest validation loss {history['val_loss'][best]:.3g}), "
            f"validation accuracy {history['val_acc'][best]:.1%}"
            + ("; stopped early" if history["stopped_early"] else ""))


def new_history() -> dict:
    """An empty history: a list per epoch-wise key, plus the run's summary fields."""
    history = {key: [] for key in HISTORY_KEYS}
    history.update(best_epoch=None, best_val_loss=None, stopped_early=False, interrupted=False,
                   non_finite=None)
    return history


class RunState:
    """What a run has so far: its history and the weights of its best epoch.

    The best epoch is the one of lowest validation loss. The state also holds the model, optimizer
    and scheduler it saves to and resumes from a checkpoint.
    """

    def __init__(self, model, optimizer, scheduler=None):
        self.model, self.optimizer, self.scheduler = model, optimizer, scheduler
        self.history, self.best_weights = new_history(), None
        #: What happened to the run besides its epochs (resumed, stopped), for its display to show.
        self.messages: list[str] = []

    @property
    def epochs_done(self) -> int:
        return len(self.history["epoch"])

    def record(self, epoch, train_loss, train_acc, val_loss, val_acc, seconds) -> None:
        """Append one epoch to the history; keep a copy of the weights when it is the best."""
        for key, value in zip(HISTORY_KEYS, (epoch, train_loss, train_acc, val_loss, val_acc,
                                             seconds)):
            self.history[key].append(value)
        if self.history["best_val_loss"] is None or val_loss < self.history["best_val_loss"]:
            self.history["best_epoch"], self.history["best_val_loss"] = epoch, val_loss
            self.best_weights = copy.deepcopy(self.model.state_dict())

    def patience_ran_out(self, patience: int | None) -> bool:
        """True after ``patience`` epochs without a lower validation loss (early stopping)."""
        best = self.history["best_epoch"]
        return patience is not None and best is not None and self.epochs_done - best >= patience

    def restore_best(self) -> bool:
        """Give the model the weights of the best epoch; False (nothing done) before any epoch."""
        if self.best_weights is not None:
            self.model.load_state_dict(self.best_weights)
        return self.best_weights is not None

    def save(self, path: str | Path, config: dict | None = None) -> None:
        """Write the checkpoint atomically.

        It holds the best and last weights, the optimizer and scheduler state, the history,
        ``config`` and the random generators' states.
        """
        save_checkpoint(path, config=config or {}, history=self.history,
                        best_model=self.best_weights, last_model=self.model.state_dict(),
                        optimizer=self.optimizer.state_dict(),
                        scheduler=None if self.scheduler is None else self.scheduler.state_dict(),
                        epoch=self.epochs_done, rng_state=_rng_states())

    def resume(self, path: str | Path) -> None:
        """Continue from the checkpoint at ``path``, into the same model and optimizer.

        It restores the last weights, the optimizer, scheduler and random states, the history and
        the best weights.
        """
        checkpoint = load_checkpoint(path, self.model, which="last_model")
        self.optimizer.load_state_dict(checkpoint["optimizer"])
        if self.scheduler is not None and checkpoint.get("scheduler") is not None:
            self.scheduler.load_state_dict(checkpoint["scheduler"])
        _set_rng_states(checkpoint["rng_state"])
        self.history, self.best_weights = checkpoint["history"], checkpoint["best_model"]
        self.history["interrupted"] = False
        self.messages.append(f"Resuming from {shown_path(path)} after epoch {checkpoint['epoch']}.")


@contextmanager
def stop_on_non_finite_loss(state: RunState):
    """Stop training cleanly on a :class:`NonFiniteLossError` in the block: the NaN guard.

    It notes where in ``history["non_finite"]``, gives the model its best weights and leaves the
    usual causes in ``state.messages`` (the run's display shows them).
    """
    try:
        yield
    except NonFiniteLossError as error:
        epoch = state.epochs_done + 1
        state.history["non_finite"] = f"epoch {epoch}, {error}"
        kept = (f"the model now holds the weights of its best epoch ({state.history['best_epoch']})"
                if state.restore_best()
                else "no epoch finished, so there are no earlier weights to go back to")
        state.messages.append(f"Training stopped: non-finite loss in epoch {epoch}, {error}. "
                              f"{NON_FINITE_HINT} The history so far is returned; {kept}.")


@contextmanager
def stop_on_ctrl_c(state: RunState, checkpoint_path: str | Path | None = None):
    """Stop training cleanly on Ctrl-C (KeyboardInterrupt) in the block.

    ``history["interrupted"]`` is set, the history so far is kept, the checkpoint holds the last
    finished epoch (resume from it); what happened goes to ``state.messages``.
    """
    try:
        yield
    except KeyboardInterrupt:
        state.history["interrupted"] = True
        done = state.epochs_done
        where = f"; checkpoint {shown_path(checkpoint_path)} holds epoch {done}" \
            if checkpoint_path else ""
        state.messages.append(f"Interrupted after {done} finished epoch(s){where}. "
                              "The history so far is returned.")


class _DisplayLine:
    """A file for tqdm that shows the bar as one notebook output updated in place (a display id).

    The run's summary replaces it at the end, so an executed notebook stores that line, never a
    frozen "0%" bar.
    """

    def __init__(self):
        from IPython.display import display
        self.handle = display({"text/plain": ""}, raw=True, display_id=True)

    def write(self, text):
        if text.strip():
            self.handle.update({"text/plain": text.strip()}, raw=True)

    def flush(self):
        pass


class _CountedBatches:
    """A loader whose iteration advances a progress bar by one per batch; ``len`` as the loader."""

    def __init__(self, loader, bar):
        self.loader, self.bar = loader, bar

    def __len__(self) -> int:
        return len(self.loader)

    def __iter__(self):
        for batch in self.loader:
            yield batch
            self.bar.update(1)


class RunDisplay:
    """What a run shows: a progress bar or live learning curves, then one summary line.

    The bar is one text bar over all batches of all epochs (it moves even when an epoch takes
    minutes); with ``live``, the learning curves are redrawn after every epoch instead
    (``helpers.plotting.LiveCurves``); at the end one summary line (:func:`run_summary`).

    In a notebook the bar is one text line updated in place, which the summary line replaces, so
    an executed notebook stores the summary (and the final figure), no widget state.

    It also prints what the run's :class:`RunState` noted (resumed from a checkpoint, stopped by
    Ctrl-C or a non-finite loss): the training loop itself prints nothing.

    Args:
        state: the run (its history fills in while it trains); epochs: how many in all.
        progress: show the bar (default: yes, except in smoke mode or with ``live``).
        name: the run's name in its summary line and the live figure's title.
        summary: False: no summary line (the caller prints its own, from the history).
    Use it as a context manager around the epochs, iterate over ``batches(loader)`` instead of the
    loader (the bar advances per batch), and call it with the history after every epoch.
    """

    def __init__(self, state: RunState, epochs: int, batches_per_epoch: int,
                 progress: bool | None = None, live: bool = False, name: str | None = None,
                 summary: bool = True):
        self.state, self.history = state, state.history
        self.epochs, self.name, self.summary = epochs, name, summary
        history = self.history
        self.show_bar = (not smoke_mode() and not live) if progress is None else progress
        self.line = _DisplayLine() if self.show_bar and frontend() != "script" else None
        done = len(history["epoch"])
        self.bar = tqdm(disable=not self.show_bar, file=self.line, mininterval=0.5, unit="batch",
                        total=epochs * batches_per_epoch, initial=done * batches_per_epoch,
                        desc=f"epoch {min(done + 1, epochs)}/{epochs}")
        self.live_curves = None
        if live:
            from helpers.plotting import LiveCurves  # matplotlib only when asked for
            self.live_curves = LiveCurves(title=name and f"{name}: learning curves")

    def __call__(self, history: dict) -> None:
        next_epoch = min(len(history["epoch"]) + 1, self.epochs)
        self.bar.set_description(f"epoch {next_epoch}/{self.epochs}")
        self.bar.set_postfix(train_loss=f"{history['train_loss'][-1]:.4f}",
                             val_loss=f"{history['val_loss'][-1]:.4f}",
                             val_acc=f"{history['val_acc'][-1]:.4f}")
        if self.live_curves is not None:
            self.live_curves(history)

    def batches(self, loader) -> _CountedBatches:
        """``loader``, advancing the bar by one per batch (like torchvision's ``log_every``)."""
        return _CountedBatches(loader, self.bar)

    def _show_messages(self) -> None:
        for message in self.state.messages:
            print(message)
        self.state.messages.clear()

    def __enter__(self) -> RunDisplay:
        self._show_messages()
        return self

    def __exit__(self, error_type, error, traceback) -> None:
        self.bar.close()
        self._show_messages()
        if error_type is not None or not self.summary:
            return
        line = (f"[{self.name}] " if self.name else "") + run_summary(self.history)
        if self.line is not None:
            self.line.handle.update({"text/plain": line}, raw=True)
        elif self.show_bar or self.live_curves is not None:
            print(line)


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0][:200]


def save_checkpoint(path: str | Path, **content) -> None:
    """``torch.save`` ``content`` to ``path`` atomically.

    The file is written next to its destination and renamed over it, so an interrupted save
    never leaves a half-written checkpoint behind: the previous one stays intact.
    """
    with atomic_write(path) as tmp:
        torch.save(content, tmp)


def load_checkpoint(path: str | Path, model=None, which: str = "best_model",
                    map_location="cpu") -> dict:
    """Load a checkpoint written by :func:`fit` with ``torch.load(weights_only=True)``: no code.

    If ``model`` is given, its weights are set from ``which`` (``"best_model"`` or
    ``"last_model"``).
    Returns the checkpoint dict: ``config``, ``history``, ``best_model``, ``last_model``,
    ``optimizer``, ``scheduler``, ``epoch``, ``rng_state`` (torch's CPU, CUDA and MPS generators:
    a resumed run draws the same dropout masks, shuffles and augmentations; on a GPU, cuDNN's own
    non-deterministic kernels can still make it differ in the last digits).
    """
    path = Path(path)
    try:
        checkpoint = torch.load(path, map_location=map_location, weights_only=True)
    except FileNotFoundError:
        raise FileNotFoundError(f"No checkpoint at {path}") from None
    except Exception as error:  # truncated, foreign, pickled code (never run): name the file
        raise RuntimeError(f"{path} is not a readable checkpoint ({type(error).__name__}: "
                           f"{_first_line(error)}): it is truncated, or not one that fit wrote "
                           "(pickled Python objects are refused, never run). Delete it to train "
                           "from scratch.") from None
    if model is not None:
        try:
            model.load_state_dict(checkpoint[which])
        except (RuntimeError, KeyError, TypeError) as error:
            raise ValueError(f"{path} holds the weights of another model (its config: "
                             f"{checkpoint.get('config')}; {_first_line(error)}). Build the model "
                             "it was trained with, or give this one another checkpoint_path to "
                             "train it from scratch.") from None
    return checkpoint


def fit(model, train_loader, val_loader, loss_fn, optimizer, epochs: int, *, device=None,
        scheduler=None, patience: int | None = None, restore_best: bool = False,
        batch_transform=None, checkpoint_path: str | Path | None = None, resume: bool = False,
        config: dict | None = None, progress: bool | None = None, live: bool = False,
        on_epoch_end=None, name: str | None = None, summary: bool = True) -> dict:
    """Train for up to ``epochs`` epochs, each :func:`train_one_epoch` then :func:`evaluate`.

    In smoke mode (the test suite) at most :data:`SMOKE_EPOCHS` epochs, whatever ``epochs`` says.

    Args:
        loss_fn: ``loss_fn(outputs, targets)`` -> scalar mean loss; scheduler: stepped every epoch.
        patience: stop after this many epochs without a lower validation loss (early stopping).
        restore_best: at the end, give the model the weights of its best epoch.
        batch_transform: augmentation of the training batches only (see :func:`train_one_epoch`).
        checkpoint_path: save the run there after every epoch (with ``config``); resume: continue
            from it if it exists. on_epoch_end: ``f(history)``, called after every epoch.
        progress, live, name, summary: what the run shows (see :class:`RunDisplay`).
    Returns:
        history: per epoch ``epoch``, ``train_loss``, ``train_acc``, ``val_loss``, ``val_acc``,
        ``epoch_seconds`` (training + validation); and ``best_epoch``, ``best_val_loss``,
        ``stopped_early``, ``interrupted`` (Ctrl-C: :func:`stop_on_ctrl_c`) and ``non_finite``
        (the loss became nan/inf: :func:`stop_on_non_finite_loss`).
    """
    device = device or next(model.parameters()).device
    epochs = min(epochs, SMOKE_EPOCHS) if smoke_mode() else epochs
    state = RunState(model, optimizer, scheduler)
    if resume and checkpoint_path is not None and Path(checkpoint_path).is_file():
        state.resume(checkpoint_path)
    display = RunDisplay(state, epochs, len(train_loader), progress, live, name, summary)
    callbacks = [callback for callback in (on_epoch_end, display) if callback is not None]
    if checkpoint_path is not None:
        callbacks.insert(0, lambda history: state.save(checkpoint_path, config))

    with display, stop_on_ctrl_c(state, checkpoint_path), stop_on_non_finite_loss(state):
        for epoch in range(state.epochs_done + 1, epochs + 1):
            if state.patience_ran_out(patience):
                state.history["stopped_early"] = True
                break
            started = time.perf_counter()
            train_loss, train_acc = train_one_epoch(model, display.batches(train_loader), optimizer,
                                                    loss_fn, device, batch_transform)
            val_loss, val_acc = evaluate(model, val_loader, loss_fn, device)
            check_finite(val_loss, "validation after its last batch")
            if scheduler is not None:
                scheduler.step()
            state.record(epoch, train_loss, train_acc, val_loss, val_acc,
                         time.perf_counter() - started)
            for callback in callbacks:
                callback(state.history)

    if restore_best:
        state.restore_best()
    return state.history
