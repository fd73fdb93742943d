"""Notebook 01's playground: seconds per interaction (retrain + redraw), median of 20.

    .venv/bin/python scripts/benchmark_playground.py

One interaction is what a control change costs in the notebook's kernel: noisy data, a fresh network
trained with the default sizes (2 hidden layers of 8 units, 200 full-batch epochs, 600 points), the
playground's figure redrawn and rendered to PNG (`Playground.png`, what `Playground.show` displays).
The 20 interactions cycle through the features, activations and noise levels a student would click
through. What a student waits for in the browser (this plus the way to and from JupyterLab):
scripts/benchmark_playground_browser.py.
"""

import argparse
import itertools
import statistics
import sys
import time

import matplotlib

matplotlib.use("Agg")
import torch  # noqa: E402

from helpers.playground import ACTIVATIONS, FEATURES, Playground  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interactions", type=int, default=20)
    n = parser.parse_args(argv).interactions
    settings = itertools.cycle(itertools.product(FEATURES, ACTIVATIONS, (0.1, 0.3)))
    playground = Playground()
    playground.png()  # warm-up: imports, first-call allocations
    seconds, cpu_seconds = [], []
    for features, activation, noise in itertools.islice(settings, n):
        started, cpu_started = time.perf_counter(), time.process_time()
        playground.png(features=features, activation=activation, noise=noise)
        seconds.append(time.perf_counter() - started)
        cpu_seconds.append(time.process_time() - cpu_started)
    # All of it runs on one thread, so its CPU time is the wall time it takes on an idle core; on a
    # shared, overloaded machine the wall time is longer by the time spent waiting for a core.
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; {n} interactions "
          f"(retrain + redraw): median {statistics.median(seconds):.3f} s wall "
          f"(min {min(seconds):.3f}, max {max(seconds):.3f}), median "
          f"{statistics.median(cpu_seconds):.3f} s CPU")
    return 0


if __name__ == "__main__":
    sys.exit(main())
