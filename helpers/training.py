"""Seeding, device choice and the training loop.

``fit`` returns a plain history dict; plotting it is a separate step (``helpers.plotting``).
The loop itself is written out in notebook 01, where it is taught; this is the same loop with
the bookkeeping the later notebooks need (progress bars, early stopping, checkpoints, resume).
"""

from __future__ import annotations

import copy
import math
import random
import time
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm  # the text bar: no widget state for an executed notebook to store

from helpers.settings import atomic_write, device_override, shown_path, smoke_mode

HISTORY_KEYS = ("epoch", "train_loss", "train_acc", "val_loss", "val_acc", "epoch_seconds")


class NonFiniteLossError(ArithmeticError):
    """The training loss became nan or inf (raised by :func:`train_epoch`; :func:`fit` stops and explains)."""


NON_FINITE_HINT = ("Usual causes: a learning rate too high (try 10x lower), inputs not normalised (e.g. pixels "
                   "0..255 instead of about -1..1), or a log/division by zero in a hand-written loss.")


def _rng_states() -> dict:
    """The random states of torch's generators: CPU, every CUDA device, MPS (resume reproduces all of them)."""
    return {"cpu": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
            "mps": torch.mps.get_rng_state() if torch.backends.mps.is_available() else None}


def _set_rng_states(states) -> None:
    if isinstance(states, torch.Tensor):  # checkpoints written before the GPU states were stored
        states = {"cpu": states}
    torch.set_rng_state(states["cpu"])
    if states.get("cuda") and torch.cuda.is_available() and len(states["cuda"]) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(states["cuda"])
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
    (N, C) outputs are scores per class (logits, log-probabilities or probabilities): label = argmax.
    Returns an (N,) int64 tensor.
    """
    if outputs.ndim == 1 or outputs.shape[-1] == 1:
        return (outputs.reshape(-1) > 0).long()
    return outputs.argmax(dim=1)


def _count_correct(outputs: torch.Tensor, targets: torch.Tensor) -> int:
    return int((predict_labels(outputs) == targets.reshape(-1).long()).sum())


def _progress_enabled(progress: bool | None, live: bool = False) -> bool:
    return (not smoke_mode() and not live) if progress is None else progress


class _DisplayLine:
    """A file for tqdm that shows the bar as one notebook output updated in place (a display id). The run's
    summary replaces it at the end, so an executed notebook stores that line, never a frozen "0%" bar."""

    def __init__(self):
        from IPython.display import display
        self.handle = display({"text/plain": ""}, raw=True, display_id=True)

    def write(self, text):
        if text.strip():
            self.handle.update({"text/plain": text.strip()}, raw=True)

    def flush(self):
        pass


def _text_bar(disable: bool, **tqdm_args) -> tuple[tqdm, _DisplayLine | None]:
    """A tqdm bar and, in a notebook, the :class:`_DisplayLine` it is written to (else None)."""
    line = _DisplayLine() if not disable and _in_notebook() else None
    return tqdm(disable=disable, file=line, mininterval=0.5, **tqdm_args), line


def progress(iterable, desc: str = "", disable: bool = False) -> tqdm:
    """``iterable`` with a progress bar for a loop of your own: in a notebook one text line updated in place (no
    widget state for an executed notebook to store; it ends at 100%), elsewhere tqdm's usual bar."""
    return _text_bar(disable, iterable=iterable, desc=desc)[0]


def _in_notebook() -> bool:
    """True inside a Jupyter kernel (JupyterLab, Colab, nbconvert, nbval); False in a terminal or a script."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    return getattr(get_ipython(), "kernel", None) is not None


def run_summary(history) -> str:
    """One line about a finished run, e.g. "10 epochs in 34 s; best validation accuracy 98.9% at epoch 8"."""
    if not history["epoch"]:
        return "no epoch finished"
    best = max(range(len(history["val_acc"])), key=history["val_acc"].__getitem__)
    return (f"{len(history['epoch'])} epochs in {sum(history['epoch_seconds']):.0f} s; best validation accuracy "
            f"{history['val_acc'][best]:.1%} at epoch {history['epoch'][best]}"
            + ("; stopped early" if history["stopped_early"] else ""))


def train_epoch(model, loader, loss_fn, optimizer, device=None, batch_transform=None,
                bar=None) -> tuple[float, float]:
    """One pass over ``loader`` with a gradient step per batch.

    Args:
        loss_fn: ``loss_fn(outputs, targets)`` -> scalar mean loss of the batch.
        batch_transform: optional ``f(inputs) -> inputs`` applied to each training batch on the
            device (data augmentation); never applied at evaluation.
        bar: optional tqdm bar, advanced by one per batch.
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
        if not math.isfinite(loss.item()):
            raise NonFiniteLossError(f"batch {batch} of {len(loader)}: the loss is {loss.item()}")
        loss.backward()
        optimizer.step()
        total_loss += loss.item() * len(targets)
        correct += _count_correct(outputs.detach(), targets)
        seen += len(targets)
        if bar is not None:
            bar.update(1)
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


def new_history() -> dict:
    """An empty history: a list per epoch-wise key, plus the run's summary fields."""
    history = {key: [] for key in HISTORY_KEYS}
    history.update(best_epoch=None, best_val_loss=None, stopped_early=False, interrupted=False, non_finite=None)
    return history


def save_checkpoint(path: str | Path, **content) -> None:
    """``torch.save`` ``content`` to ``path`` atomically.

    The file is written next to its destination and renamed over it, so an interrupted save
    never leaves a half-written checkpoint behind: the previous one stays intact.
    """
    with atomic_write(path) as tmp:
        torch.save(content, tmp)


def load_checkpoint(path: str | Path, model=None, which: str = "best_model", map_location="cpu") -> dict:
    """Load a checkpoint written by :func:`fit` (``torch.load(weights_only=True)``: no pickled code).

    If ``model`` is given, its weights are set from ``which`` (``"best_model"`` or ``"last_model"``).
    Returns the checkpoint dict: ``config``, ``history``, ``best_model``, ``last_model``,
    ``optimizer``, ``scheduler``, ``epoch``, ``rng_state`` (torch's CPU, CUDA and MPS generators: a resumed
    run draws the same dropout masks, shuffles and augmentations; on a GPU, cuDNN's own non-deterministic
    kernels can still make it differ in the last digits).
    """
    path = Path(path)
    try:
        checkpoint = torch.load(path, map_location=map_location, weights_only=True)
    except FileNotFoundError:
        raise FileNotFoundError(f"No checkpoint at {path}") from None
    except Exception as error:  # truncated, foreign, or pickled code (never run): name the file, not torch's insides
        raise RuntimeError(f"{path} is not a readable checkpoint ({type(error).__name__}: "
                           f"{str(error).strip().splitlines()[0][:200]}): it is truncated, or not one that fit "
                           "wrote (pickled Python objects are refused, never run). Delete it to train from "
                           "scratch.") from None
    if model is not None:
        try:
            model.load_state_dict(checkpoint[which])
        except (RuntimeError, KeyError, TypeError) as error:
            raise ValueError(f"{path} holds the weights of another model (its config: {checkpoint.get('config')}; "
                             f"{str(error).strip().splitlines()[0][:200]}). Build the model it was trained with, "
                             "or give this one another checkpoint_path to train it from scratch.") from None
    return checkpoint


def fit(model, train_loader, val_loader, loss_fn, optimizer, epochs: int, *, device=None,
        scheduler=None, patience: int | None = None, restore_best: bool = False,
        batch_transform=None, checkpoint_path: str | Path | None = None, resume: bool = False,
        config: dict | None = None, progress: bool | None = None, live: bool = False,
        on_epoch_end=None, name: str | None = None, summary: bool = True) -> dict:
    """Train for up to ``epochs`` epochs, evaluating on ``val_loader`` after each one.

    Args:
        loss_fn: ``loss_fn(outputs, targets)`` -> scalar mean loss.
        scheduler: optional LR scheduler, stepped once per epoch.
        patience: stop after this many epochs without a lower validation loss (early stopping).
        restore_best: load the weights of the epoch with the lowest validation loss at the end.
        batch_transform: augmentation applied to training batches only (see :func:`train_epoch`).
        checkpoint_path: after every epoch, save (atomically) the best and last weights, the
            optimizer/scheduler state, the history and ``config`` there.
        resume: continue from ``checkpoint_path`` if it exists (same model and optimizer).
        progress: show a progress bar (default: yes, except in smoke mode or with ``live``). In a notebook
            it is one text line updated in place, replaced at the end by the run's summary line.
        live: redraw the learning curves in place after every epoch (``helpers.plotting.LiveCurves``);
            an executed notebook stores the final figure and the summary line.
        on_epoch_end: ``f(history)``, called after every epoch (``live`` adds the live curves to it).
        name: what the run is called in its summary line and the live figure's title (e.g. the data it ran on).
        summary: False: no summary line at the end (the caller prints its own, from the history).
    Returns:
        history: ``epoch``, ``train_loss``, ``train_acc``, ``val_loss``, ``val_acc``,
        ``epoch_seconds`` (one entry per epoch; seconds of training + validation), plus
        ``best_epoch``, ``best_val_loss``, ``stopped_early``, ``interrupted`` and ``non_finite``
        (None, or where the loss became nan/inf: training stops there, prints the usual causes, and
        the model gets the weights of the best epoch so far).

    Ctrl-C (KeyboardInterrupt) stops training cleanly: the history so far is returned, the
    checkpoint holds the last finished epoch, and ``resume=True`` carries on from there.
    """
    device = device or next(model.parameters()).device
    history, best_state, start_epoch = new_history(), None, 0
    if resume and checkpoint_path is not None and Path(checkpoint_path).is_file():
        checkpoint = load_checkpoint(checkpoint_path, model, which="last_model")
        optimizer.load_state_dict(checkpoint["optimizer"])
        if scheduler is not None and checkpoint.get("scheduler") is not None:
            scheduler.load_state_dict(checkpoint["scheduler"])
        _set_rng_states(checkpoint["rng_state"])
        history, best_state, start_epoch = checkpoint["history"], checkpoint["best_model"], checkpoint["epoch"]
        history["interrupted"] = False
        print(f"Resuming from {shown_path(checkpoint_path)} after epoch {start_epoch}.")

    callbacks = [on_epoch_end] if on_epoch_end is not None else []
    if live:
        from helpers.plotting import LiveCurves  # matplotlib only when asked for
        callbacks.append(LiveCurves(title=name and f"{name}: learning curves"))
    # One bar over all batches of all epochs: it moves even when an epoch takes minutes.
    show_bar = _progress_enabled(progress, live)
    bar, line = _text_bar(not show_bar, total=epochs * len(train_loader), initial=start_epoch * len(train_loader),
                          unit="batch")
    try:
        for epoch in range(start_epoch, epochs):
            bar.set_description(f"epoch {epoch + 1}/{epochs}")
            if patience is not None and history["best_epoch"] is not None \
                    and epoch - history["best_epoch"] >= patience:
                history["stopped_early"] = True
                break
            started = time.perf_counter()
            train_loss, train_acc = train_epoch(model, train_loader, loss_fn, optimizer, device,
                                                batch_transform, bar)
            val_loss, val_acc = evaluate(model, val_loader, loss_fn, device)
            if not math.isfinite(val_loss):
                raise NonFiniteLossError(f"validation after its last batch: the loss is {val_loss}")
            if scheduler is not None:
                scheduler.step()
            for key, value in zip(HISTORY_KEYS, (epoch + 1, train_loss, train_acc, val_loss, val_acc,
                                                 time.perf_counter() - started)):
                history[key].append(value)
            if history["best_val_loss"] is None or val_loss < history["best_val_loss"]:
                history["best_epoch"], history["best_val_loss"] = epoch + 1, val_loss
                best_state = copy.deepcopy(model.state_dict())
            bar.set_postfix(train_loss=f"{train_loss:.4f}", val_loss=f"{val_loss:.4f}", val_acc=f"{val_acc:.4f}")
            if checkpoint_path is not None:
                save_checkpoint(checkpoint_path, config=config or {}, history=history,
                                best_model=best_state, last_model=model.state_dict(),
                                optimizer=optimizer.state_dict(),
                                scheduler=scheduler.state_dict() if scheduler is not None else None,
                                epoch=epoch + 1, rng_state=_rng_states())
            for callback in callbacks:
                callback(history)
    except NonFiniteLossError as error:
        history["non_finite"] = f"epoch {epoch + 1}, {error}"
        kept = (f"the model now holds the weights of its best epoch ({history['best_epoch']})" if best_state
                is not None else "no epoch finished, so there are no earlier weights to go back to")
        print(f"Training stopped: non-finite loss in epoch {epoch + 1}, {error}. {NON_FINITE_HINT} "
              f"The history so far is returned; {kept}.")
        if best_state is not None:
            model.load_state_dict(best_state)
    except KeyboardInterrupt:
        history["interrupted"] = True
        done = len(history["epoch"])
        where = f"; checkpoint {shown_path(checkpoint_path)} holds epoch {done}" if checkpoint_path else ""
        print(f"Interrupted after {done} finished epoch(s){where}. The history so far is returned.")
    finally:
        bar.close()
    summary_line = ((f"[{name}] " if name else "") + run_summary(history)) if summary else ""
    if line is not None:
        line.handle.update({"text/plain": summary_line}, raw=True)
    elif (show_bar or live) and summary_line:
        print(summary_line)
    if restore_best and best_state is not None:
        model.load_state_dict(best_state)
    return history
