"""What `fit(..., live=True)` costs: one redraw of the live learning curves against one epoch of notebook 03's best CNN.

    HELPERS_DATA=/path/to/data .venv/bin/python scripts/benchmark_live_curves.py [--epochs 1]

It trains notebook 03's best CNN on MNIST exactly as the notebook does (Adam, one-cycle schedule, batch size 128,
channels-last) and times its epochs, then times the redraw `fit` adds after each epoch: `LiveCurves` redrawing
the figure and rendering it to PNG, as the notebook's inline backend does when the display is updated (median
of 10 by default). Target: a redraw costs less than 5% of an epoch.
"""

import argparse
import io
import statistics
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import torch  # noqa: E402
from torch import nn  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from helpers.data import TensorLoader, load_mnist_splits  # noqa: E402
from helpers.models import mnist_best_cnn  # noqa: E402
from helpers.plotting import LiveCurves  # noqa: E402
from helpers.training import fit, seed_everything  # noqa: E402


def redraw_seconds(history, repeats=10):
    live = LiveCurves()
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        live(history)                                                          # clear, plot, lay out
        live.fig.savefig(io.BytesIO(), format="png", bbox_inches="tight")     # what the display update sends
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--redraws", type=int, default=10)
    args = parser.parse_args(argv)
    epochs = args.epochs
    splits = load_mnist_splits(seed=0)
    train_loader = TensorLoader(splits.train_images, splits.train_labels, batch_size=128, shuffle=True, drop_last=True)
    val_loader = TensorLoader(splits.val_images, splits.val_labels, batch_size=1000)
    seed_everything(0)
    model = mnist_best_cnn().to(memory_format=torch.channels_last)
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=5e-3, total_steps=epochs * len(train_loader))
    optimizer.register_step_post_hook(lambda *args: scheduler.step())
    history = fit(model, train_loader, val_loader, nn.CrossEntropyLoss(), optimizer, epochs, progress=False)
    epoch = statistics.median(history["epoch_seconds"])
    # the figure of a 3-epoch run (notebook 03's best CNN): a longer history costs the same to draw
    shown = {key: (value * 3 if isinstance(value, list) else value) for key, value in history.items()}
    shown["epoch"] = list(range(1, len(shown["epoch"]) + 1))
    redraw = redraw_seconds(shown, args.redraws)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; best CNN epoch (median of {epochs}): "
          f"{epoch:.2f} s; live redraw (median of {args.redraws}): {redraw:.3f} s = {redraw / epoch:.1%} of an epoch")
    return 0


if __name__ == "__main__":
    sys.exit(main())
