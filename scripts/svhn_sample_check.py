"""Does notebook 04's pipeline learn real house numbers? Measure it on a sample of real SVHN.

It trains on the sample's training file and measures on its test file.

    python scripts/svhn_sample_check.py PATH/TO/svhn-sample  # it reports timings: a quiet machine

The folder holds ``train_32x32.mat`` and ``test_32x32.mat`` in the official layout, e.g. the
course's 6,000-image sample of real SVHN digits (5,000 train / 1,000 test). The sample is treated as
the whole dataset, exactly as notebook 04 treats SVHN: a stratified 10% of its training file is held
out for validation, normalisation statistics come from the rest, the model of notebook 04 is trained
with its extra components (``helpers.recipes.SVHN_MODEL_CONFIG`` and ``SVHN_RECIPE``, which the
notebook imports too), the checkpoint with the lowest validation loss is kept, and only then is the
test file read, once.

The numbers printed are "SVHN sample" results, NOT SVHN results: the sample is far smaller than SVHN
and is not its official split. Target: >= 92% test accuracy with <= 4 minutes of training on 2 CPU
cores.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import torch
from torch import nn

from helpers.data import RandomShift, TensorLoader, load_svhn_splits
from helpers.models import CNN, count_parameters
from helpers.recipes import SVHN_EPOCHS, SVHN_MODEL_CONFIG, SVHN_RECIPE
from helpers.training import choose_device, evaluate, fit, seed_everything


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path, help="folder with train_32x32.mat and test_32x32.mat")
    # the notebook's final-model epochs
    parser.add_argument("--epochs", type=int, default=SVHN_EPOCHS)
    parser.add_argument("--threads", type=int, default=2,
                        help="CPU threads for torch (the target is for 2)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    torch.set_num_threads(args.threads)
    with warnings.catch_warnings():
        # the sample's checksums are not the official ones: expected here
        warnings.filterwarnings("ignore", message=".*does not have the official checksum.*")
        splits = load_svhn_splits(folder=args.folder, seed=args.seed)
    print(splits.describe())
    device = choose_device()
    seed_everything(args.seed)
    model = CNN(**SVHN_MODEL_CONFIG).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=SVHN_RECIPE["lr"],
                                  weight_decay=SVHN_RECIPE["weight_decay"])
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)
    train_loader = TensorLoader(splits.train_images, splits.train_labels,
                                batch_size=SVHN_RECIPE["batch_size"], shuffle=True)
    val_loader = TensorLoader(splits.val_images, splits.val_labels, batch_size=512)
    print(f"model: CNN({SVHN_MODEL_CONFIG}), {count_parameters(model):,} parameters; device "
          f"{device}, {torch.get_num_threads()} CPU threads; {args.epochs} epochs")

    started = time.perf_counter()
    history = fit(model, train_loader, val_loader, nn.CrossEntropyLoss(), optimizer, args.epochs,
                  scheduler=scheduler, batch_transform=RandomShift(SVHN_RECIPE["max_shift"]),
                  restore_best=True, progress=False)
    training_seconds = time.perf_counter() - started
    for epoch, loss, acc, seconds in zip(history["epoch"], history["val_loss"], history["val_acc"],
                                         history["epoch_seconds"]):
        print(f"  epoch {epoch:>2}: val loss {loss:.4f}, val accuracy {acc:.2%} ({seconds:.1f} s)")

    test_images, test_labels = splits.load_test()  # first and only read of the test file
    test_loss, test_acc = evaluate(model, TensorLoader(test_images, test_labels, batch_size=512),
                                   nn.CrossEntropyLoss())
    per_image = training_seconds / (args.epochs * len(splits.train_labels))
    print(f"SVHN sample: test accuracy {test_acc:.2%} (error {1 - test_acc:.2%}) on "
          f"{len(test_labels):,} images of {args.folder / 'test_32x32.mat'}; best epoch "
          f"{history['best_epoch']} by validation loss")
    print(f"SVHN sample: training took {training_seconds:.0f} s for {args.epochs} epochs of "
          f"{len(splits.train_labels):,} images ({training_seconds / args.epochs:.1f} s per epoch, "
          f"including validation) on {torch.get_num_threads()} CPU threads")
    print(f"estimate for official SVHN from that measured epoch time: {per_image * 65_931:.0f} s "
          "per epoch of 65,931 training images (73,257 minus 10% validation) on this CPU")
    return 0


if __name__ == "__main__":
    sys.exit(main())
