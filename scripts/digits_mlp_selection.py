"""Which MLP recipe for notebook 02's 8x8 digits? Chosen by blocked cross-validation.

Never by the test set.

    # all recipes, 4 blocks x 2 seeds (~18 min)
    .venv/bin/python scripts/digits_mlp_selection.py
    .venv/bin/python scripts/digits_mlp_selection.py --recipes one-augmented five-augmented
    # then the chosen recipe on the test set
    .venv/bin/python scripts/digits_mlp_selection.py --final-seeds 5
    .venv/bin/python scripts/digits_mlp_selection.py --recipes five-augmented --no-cv \\
        --final-seeds 5 --refit
    # also every held-out error, as CSV
    .venv/bin/python scripts/digits_mlp_selection.py --results cv.csv
    # a few epochs per model: checks the script
    HELPERS_SMOKE=1 .venv/bin/python scripts/digits_mlp_selection.py

Why: notebook 02 splits the digits in their stored order (train 0-999, validation 1000-1349, test
1350-1796). The data carry no writer labels; if the digits are stored writer by writer, the
validation rows share writers with the training rows and the test rows do not, and the validation
error flatters (it is also biased downwards by early stopping, which keeps the epoch with the lowest
validation loss). A single validation block may then be a poor guide to new writers. The notebook
itself trains five MLPs and five CNNs from the same seeds and compares them on the validation block;
this script asks the recipe question (one MLP or the average of five, with or without augmentation)
without relying on that one block.

Blocked cross-validation uses only the 1350 non-test rows. They are cut into 4 contiguous blocks;
each block in turn is held out (it is also the early-stopping set), a model is trained on the other
3, and its error on the held-out block is recorded. Every block is "new writers" for its model. The
mean over the blocks and over ``--seeds`` ranks the recipes. The test rows are not read at all,
unless ``--final-seeds`` is given: then the recipe with the lowest blocked-CV error -- and only that
one -- is trained as in the notebook (rows 0-999, early stopping on 1000-1349) once per seed and its
test error printed, to show the spread over seeds.

Every recipe is the notebook's MLP (``helpers.models.MLP([64, 256, 256, 10], dropout=0.3)``, then
log-softmax; Adamax lr 0.01, weight decay 1e-3, batch size 32, early stopping on the validation NLL
with patience 30, best weights restored). "five" recipes average the probabilities of five such MLPs
trained from different seeds (an ensemble). Not part of the test suite: it trains hundreds of
networks.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from helpers.data import DIGITS_SPLITS, load_digits_split, random_affine
from helpers.models import MLP
from helpers.settings import smoke_mode
from helpers.training import fit, seed_everything

RECIPES = {  # name -> (number of MLPs averaged, augmentation of training batches)
    "one-augmented": (1, random_affine),   # notebook 02's first MLP
    "one-plain": (1, None),
    "five-augmented": (5, random_affine),
    "five-plain": (5, None),
}
BLOCKS = 4
# smoke: checks the script
PATIENCE, MAX_EPOCHS, BATCH_SIZE = (1, 2, 256) if smoke_mode() else (30, 300, 32)


def make_mlp() -> nn.Module:
    """Make notebook 02's MLP: (N, 64) pixels -> (N, 10) log-probabilities.

    The same layers, made in the same order.
    """
    return nn.Sequential(MLP([64, 256, 256, 10], dropout=0.3), nn.LogSoftmax(dim=1))


def train_mlp(train_xy, val_xy, seed: int, augment, refit: bool = False) -> nn.Module:
    """Train one MLP with early stopping on ``val_xy``; return it, best weights, in eval mode.

    refit: then train a fresh MLP from the same seed on ``train_xy`` and ``val_xy`` together for the
    best number of epochs found (no early stopping: nothing is left to stop on), and return that
    one.
    """
    seed_everything(seed)
    model = make_mlp()
    train_loader = DataLoader(TensorDataset(*train_xy), batch_size=BATCH_SIZE, shuffle=True)
    val_loader = DataLoader(TensorDataset(*val_xy), batch_size=len(val_xy[1]))
    optimizer = torch.optim.Adamax(model.parameters(), lr=0.01, weight_decay=1e-3)
    history = fit(model, train_loader, val_loader, nn.NLLLoss(), optimizer, MAX_EPOCHS,
                  patience=PATIENCE, restore_best=True, batch_transform=augment, progress=False)
    if refit:
        seed_everything(seed)
        model = make_mlp()
        all_xy = [torch.cat(pair) for pair in zip(train_xy, val_xy)]
        all_loader = DataLoader(TensorDataset(*all_xy), batch_size=BATCH_SIZE, shuffle=True)
        optimizer = torch.optim.Adamax(model.parameters(), lr=0.01, weight_decay=1e-3)
        fit(model, all_loader, val_loader, nn.NLLLoss(), optimizer, history["best_epoch"],
            batch_transform=augment, progress=False)   # val_loader only fills the history here
    return model.eval()


def recipe_error(recipe: str, train_xy, val_xy, eval_xy, seed: int, refit: bool = False) -> float:
    """Return the classification error of the recipe's model(s) on ``eval_xy``.

    An ensemble averages probabilities.
    """
    n_models, augment = RECIPES[recipe]
    models = [train_mlp(train_xy, val_xy, seed * 100 + k, augment, refit) for k in range(n_models)]
    pixels, labels = eval_xy
    with torch.no_grad():
        probabilities = torch.stack([model(pixels).exp() for model in models]).mean(dim=0)
    return (probabilities.argmax(dim=1) != labels).float().mean().item()


def non_test_rows():
    """Return rows 0-1349 of load_digits as tensors, in stored order.

    They are notebook 02's training and validation rows.
    """
    parts = [load_digits_split(split) for split in ("train", "val")]
    pixels = torch.from_numpy(np.concatenate([p for p, _ in parts]))
    labels = torch.from_numpy(np.concatenate([y for _, y in parts]))
    assert len(labels) == DIGITS_SPLITS["test"][0], "blocked CV must not see a test row"
    return pixels, labels


def blocked_cv(recipe: str, seeds, rows: list | None = None) -> list[float]:
    """Held-out error of every (seed, block): the block is held out, the other blocks train.

    rows: if given, one dict per (seed, block) is appended to it (what ``--results`` writes).
    """
    pixels, labels = non_test_rows()
    bounds = np.linspace(0, len(labels), BLOCKS + 1).astype(int)
    errors = []
    for seed in seeds:
        for start, stop in zip(bounds[:-1], bounds[1:]):
            held_out = torch.arange(start, stop)
            kept = torch.cat([torch.arange(0, start), torch.arange(stop, len(labels))])
            held_xy, kept_xy = (pixels[held_out], labels[held_out]), (pixels[kept], labels[kept])
            errors.append(recipe_error(recipe, kept_xy, held_xy, held_xy, seed))
            if rows is not None:
                n_models, augment = RECIPES[recipe]
                rows.append({"recipe": recipe, "models": n_models, "augmented": augment is not None,
                             "seed": seed, "held_out_rows": f"{start}-{stop - 1}",
                             "error": round(errors[-1], 6)})
    return errors


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipes", nargs="+", choices=list(RECIPES), default=list(RECIPES))
    parser.add_argument("--seeds", type=int, default=2, help="seeds per block (default 2)")
    parser.add_argument("--final-seeds", type=int, default=0,
                        help="then train the best recipe as in the notebook with this many seeds "
                             "and test it")
    parser.add_argument("--no-cv", action="store_true",
                        help="skip the cross-validation: --final-seeds then uses the first "
                             "of --recipes")
    parser.add_argument("--refit", action="store_true",
                        help="with --final-seeds: also refit every MLP on rows 0-1349 for its best "
                             "epoch count")
    parser.add_argument("--results", type=Path, default=None,
                        help="write every held-out error of the cross-validation to this CSV file")
    args = parser.parse_args(argv)
    torch.set_num_threads(max(1, min(2, torch.get_num_threads())))

    cv_error, rows = {}, []
    if not args.no_cv:
        print(f"blocked cross-validation on load_digits rows 0-{DIGITS_SPLITS['test'][0] - 1} "
              f"({BLOCKS} contiguous blocks x {args.seeds} seeds); the test rows are not used")
        print(f"{'recipe':<16} {'mean error':>10} {'min':>6} {'max':>6}  per (seed, block)")
        for recipe in args.recipes:
            started = time.perf_counter()
            errors = blocked_cv(recipe, range(args.seeds), rows)
            cv_error[recipe] = statistics.mean(errors)
            print(f"{recipe:<16} {cv_error[recipe]:>10.2%} {min(errors):>6.1%} "
                  f"{max(errors):>6.1%}  {' '.join(f'{e:.1%}' for e in errors)}  "
                  f"({time.perf_counter() - started:.0f} s)", flush=True)
    if args.results and rows:
        with args.results.open("w", newline="") as file:
            writer = csv.DictWriter(file, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        print(f"held-out errors written to {args.results}")
    chosen = min(cv_error, key=cv_error.get) if cv_error else args.recipes[0]
    print(f"lowest blocked-CV error: {chosen}" if cv_error
          else f"recipe given: {chosen} (no cross-validation)")

    if args.final_seeds:
        splits = {split: tuple(map(torch.from_numpy, load_digits_split(split)))
                  for split in DIGITS_SPLITS}
        errors = [recipe_error(chosen, splits["train"], splits["val"], splits["test"], seed)
                  for seed in range(args.final_seeds)]
        print(f"{chosen} on the {len(splits['test'][1])} test images "
              "(rows 0-999 train, 1000-1349 stop), seeds "
              f"0-{args.final_seeds - 1}: {' '.join(f'{e:.2%}' for e in errors)}; mean "
              f"{statistics.mean(errors):.2%}")
        if args.refit:
            errors = [recipe_error(chosen, splits["train"], splits["val"], splits["test"], seed,
                                   refit=True)
                      for seed in range(args.final_seeds)]
            print(f"{chosen}, refit on rows 0-1349 for each MLP's best epoch count, seeds "
                  f"0-{args.final_seeds - 1}: {' '.join(f'{e:.2%}' for e in errors)}; mean "
                  f"{statistics.mean(errors):.2%}")


if __name__ == "__main__":
    main()
