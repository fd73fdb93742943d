"""What `fit(..., live=True)` costs: one redraw of the live curves against one epoch of training.

The epoch is one of notebook 03's best CNN.

    HELPERS_DATA=/path/to/data .venv/bin/python scripts/benchmark_live_curves.py [--epochs 1]

It trains notebook 03's best CNN on MNIST exactly as the notebook does (Adam, one-cycle schedule,
batch size 128, channels-last) and times its epochs, then times the redraw `fit` adds after each
epoch: `LiveCurves` updating the figure and rendering it to PNG, as the notebook's inline backend
does when the display is updated, after each epoch of a 10-epoch run (median). Target: a redraw
costs less than 5% of an epoch.
"""

import argparse
import io
import statistics
import sys
import time

import matplotlib

matplotlib.use("Agg")
import torch  # noqa: E402
from torch import nn  # noqa: E402

from helpers.data import TensorLoader, load_mnist_splits  # noqa: E402
from helpers.models import mnist_best_cnn  # noqa: E402
from helpers.plotting import LiveCurves  # noqa: E402
from helpers.training import fit, seed_everything  # noqa: E402


def redraw_seconds(history, epochs=10):
    """Return the seconds of each redraw `fit` makes in an `epochs`-epoch run.

    The history's values are repeated to make the run.
    """
    live, seconds = LiveCurves(), []
    for n in range(1, epochs + 1):
        shown = {key: ([value[i % len(value)] for i in range(n)] if isinstance(value, list)
                       else value)
                 for key, value in history.items()}
        shown["epoch"] = list(range(1, n + 1))
        started = time.perf_counter()
        live(shown)  # new data for the curves
        # what the display update sends
        live.fig.savefig(io.BytesIO(), format="png", bbox_inches="tight")
        seconds.append(time.perf_counter() - started)
    return seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--redraws", type=int, default=10)
    args = parser.parse_args(argv)
    epochs = args.epochs
    splits = load_mnist_splits(seed=0)
    train_loader = TensorLoader(splits.train_images, splits.train_labels, batch_size=128,
                                shuffle=True, drop_last=True)
    val_loader = TensorLoader(splits.val_images, splits.val_labels, batch_size=1000)
    seed_everything(0)
    model = mnist_best_cnn().to(memory_format=torch.channels_last)
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=5e-3,
                                                    total_steps=epochs * len(train_loader))
    optimizer.register_step_post_hook(lambda *args: scheduler.step())
    history = fit(model, train_loader, val_loader, nn.CrossEntropyLoss(), optimizer, epochs,
                  progress=False)
    epoch = statistics.median(history["epoch_seconds"])
    seconds = redraw_seconds(history, args.redraws)
    redraw = statistics.median(seconds)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; best CNN epoch "
          f"(median of {epochs}): {epoch:.2f} s; live redraw after each of {args.redraws} "
          f"epochs: median {redraw:.3f} s (first {seconds[0]:.3f} s) = {redraw / epoch:.1%} of an "
          "epoch")
    return 0


if __name__ == "__main__":
    sys.exit(main())
