"""How much does feeding the data cost? One MNIST MLP training epoch, three ways, in one run.

    .venv/bin/python scripts/benchmark_mnist_loader.py              # official MNIST, data root
    .venv/bin/python scripts/benchmark_mnist_loader.py --repeats 3  # on a quiet machine: timings
    # e.g. on synthetic data:
    HELPERS_SMOKE=1 HELPERS_DATA=DIR .venv/bin/python scripts/benchmark_mnist_loader.py --repeats 1

Not part of the test suite (timings depend on the machine). It trains
``helpers.models.mnist_best_mlp()`` (784-512-512-10 with BatchNorm, Adam) for one epoch over the
55,000 training images, batch size 128:

1. **TensorLoader** -- the project's loader: images normalised once into one tensor, one random
   permutation per epoch, one indexing operation per batch (``helpers.data.TensorLoader``).
2. **seed-style** -- ``torchvision.datasets.MNIST(transform=Compose([ToTensor(), Normalize((0.5,),
   (0.5,))]))`` in a ``torch.utils.data.DataLoader`` (shuffled, default ``num_workers=0``): every
   item goes through a PIL image, ``ToTensor`` and ``Normalize`` in Python, then the items are
   stacked into a batch.
3. **pure compute** -- the forward/backward/step of the very same batches, made beforehand and kept
   in a list, so that no loading happens at all: the floor for any loader.

Targets (issue 3): TensorLoader <= 1.1x pure compute, and >= 2x faster than seed-style.
Each timing is the median over ``--repeats`` epochs (seed-style: once unless
``--seed-style-repeats``).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import torch
from torch import nn
from torch.utils.data import DataLoader, Subset
from torchvision import datasets, transforms

from helpers.data import TensorLoader, ensure_mnist, load_mnist_splits
from helpers.models import count_parameters, mnist_best_mlp
from helpers.settings import data_root

BATCH_SIZE = 128


def timed_epoch(batches, seed: int = 0) -> tuple[float, int]:
    """Time one pass of a fresh ``mnist_best_mlp()`` over ``batches``: (seconds, images seen)."""
    torch.manual_seed(seed)
    model = mnist_best_mlp()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    seen = 0
    started = time.perf_counter()
    for images, labels in batches:
        optimizer.zero_grad()
        loss_fn(model(images), labels).backward()
        optimizer.step()
        seen += len(labels)
    return time.perf_counter() - started, seen


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", default=None, help="data root (default: $HELPERS_DATA or data/)")
    parser.add_argument("--repeats", type=int, default=3,
                        help="epochs timed for TensorLoader and pure compute")
    parser.add_argument("--seed-style-repeats", type=int, default=1,
                        help="epochs timed for the seed-style loader")
    args = parser.parse_args(argv)

    splits = load_mnist_splits(args.root)
    print(splits.describe())
    print(f"model: mnist_best_mlp() ({count_parameters(mnist_best_mlp()):,} parameters), batch "
          f"size {BATCH_SIZE}, torch {torch.__version__}, {torch.get_num_threads()} threads")

    tensor_loader = TensorLoader(splits.train_images, splits.train_labels, batch_size=BATCH_SIZE,
                                 shuffle=True, generator=torch.Generator().manual_seed(0))
    # the same training images, read item by item through PIL as in the seed notebooks
    ensure_mnist(args.root)
    to_tensor = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])
    seed_dataset = Subset(datasets.MNIST(data_root(args.root), train=True, transform=to_tensor,
                                         download=False),
                          splits.train_indices.tolist())
    seed_loader = DataLoader(seed_dataset, batch_size=BATCH_SIZE, shuffle=True,
                             generator=torch.Generator().manual_seed(0))
    # sanity: both loaders give the same pixels for the same image
    first_image, _ = seed_dataset[0]
    assert torch.allclose(first_image, splits.train_images[0],
                          atol=1e-6), "the two pipelines disagree"

    # warm-up: the first steps of a process are slower (allocations)
    timed_epoch(list(tensor_loader)[:20])
    timings = {"pure compute": [], "TensorLoader": [], "seed-style": []}
    for repeat in range(max(args.repeats, args.seed_style_repeats)):
        if repeat < args.repeats:
            premade = list(tensor_loader)  # made before the clock starts: nothing left to load
            timings["pure compute"].append(timed_epoch(premade)[0])
            del premade
            timings["TensorLoader"].append(timed_epoch(tensor_loader)[0])
        if repeat < args.seed_style_repeats:
            seconds, seen = timed_epoch(seed_loader)
            assert seen == len(splits.train_labels)
            timings["seed-style"].append(seconds)

    median = {name: statistics.median(values) for name, values in timings.items()}
    print(f"\none epoch over {len(splits.train_labels):,} images (median of {args.repeats} epochs; "
          f"seed-style {args.seed_style_repeats}):")
    for name, values in timings.items():
        each = ", ".join(f"{v:.2f}" for v in values)
        print(f"  {name:<13} {median[name]:6.2f} s   ({each})")
    vs_compute = median["TensorLoader"] / median["pure compute"]
    speedup = median["seed-style"] / median["TensorLoader"]
    met = {True: "met", False: "MISSED"}
    print(f"\nTensorLoader / pure compute = {vs_compute:.3f}  "
          f"(target <= 1.1: {met[vs_compute <= 1.1]})")
    print(f"seed-style / TensorLoader   = {speedup:.2f}x (target >= 2: {met[speedup >= 2]})")
    return 0 if vs_compute <= 1.1 and speedup >= 2 else 1


if __name__ == "__main__":
    sys.exit(main())
