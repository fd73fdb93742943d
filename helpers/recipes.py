"""Notebook 04's SVHN configuration in one place, and notebook 03's fast MNIST recipe.

The model, its training recipe, the ablation's variants and how much to train on each kind of
machine. Notebook 04, ``scripts/svhn_sample_check.py``, ``scripts/svhn_time_budget.py`` and
``scripts/benchmark_speed.py`` import it, so none of them holds a copy that could drift.

Training costs (training images x epochs). A GPU (or ``full_run``) gets the full recipe on the whole
training split; a CPU gets a budget that keeps the whole notebook within about 15 minutes on the
official files (the README's maintainer section states the latest measurement of
``scripts/svhn_time_budget.py``). The notebook shows none of this: it prints what it trains.
"""

from __future__ import annotations

from dataclasses import dataclass

#: ``CNN(**SVHN_MODEL_CONFIG)``, the model notebook 04 writes out layer by layer: three VGG-style
#: blocks (two 3x3 convolutions each), batch norm, a global max pool, dropout 0.3, one linear layer.
SVHN_MODEL_CONFIG = dict(channels=[32, 64, 128], in_channels=3, convs_per_block=2, batch_norm=True,
                         dropout=0.3)
#: The recipe: AdamW (lr, weight_decay), cosine annealing over the run, batches of 64, random
#: shifts of up to 2 pixels. Batches of 64 rather than 128: twice the optimizer steps for the same
#: images (trial runs on the sample, 4,498 images x 6 epochs, seed 0: the recipe without dropout
#: at 6.4% validation error; the full recipe stayed at about 80% for 3 epochs, then 24.8%).
SVHN_RECIPE = dict(lr=2e-3, weight_decay=5e-4, batch_size=64, max_shift=2)
#: The final model's epochs when there is time for them (a GPU, or ``full_run``).
SVHN_EPOCHS = 16

#: The ablation, leave-one-out: the full recipe, and the full recipe with one component of its
#: training taken out (batch norm is part of the architecture of section 4 and stays). Each entry
#: overrides the recipe's settings (``dropout``, ``max_shift``, ``schedule``); every run trains
#: exactly as the final model does (the same images, batch size and epochs), one change per variant.
SVHN_ABLATION_VARIANTS = {
    "full recipe": {},
    "without augmentation": {"max_shift": 0},
    "without dropout": {"dropout": 0.0},
    "without LR schedule": {"schedule": "constant"},
}

#: The variant the stored notebook's ablation chose on validation data (its section 6);
#: ``scripts/benchmark_speed.py`` measures this recipe against the reference CNN.
SVHN_CHOSEN_VARIANT = "full recipe"


def ablation_recipe(variant: str) -> dict:
    """The full settings of one ablation variant: model, optimiser, schedule, augmentation."""
    settings = {**SVHN_MODEL_CONFIG, **SVHN_RECIPE, "schedule": "cosine"}
    return {**settings, **SVHN_ABLATION_VARIANTS[variant]}


def svhn_files(download: bool = True):
    """The SVHN files notebook 04 reads and the name of their data.

    ``(train_path, test_path, name)``, ``name`` being "official SVHN" (official checksums), "SVHN
    sample" (files in the official layout with other checksums, e.g. the course's sample of real
    digits) or "SYNTHETIC SVHN". The files are downloaded when missing; nothing is read."""
    import warnings

    from helpers.data.svhn import ensure_svhn, is_synthetic, svhn_folder

    folder = svhn_folder()
    with warnings.catch_warnings():
        # a checksum warning would print this machine's path into the notebook; the name says it
        warnings.simplefilter("ignore")
        train_path, official_train = ensure_svhn("train", folder, download=download)
        test_path, official_test = ensure_svhn("test", folder, download=download)
    name = ("SYNTHETIC SVHN" if is_synthetic(folder) else
            "official SVHN" if official_train and official_test else "SVHN sample")
    return train_path, test_path, name


#: The CPU budget (the whole notebook within about 15 minutes on the official files): the final
#: model and every ablation run (4 variants x 3 seeds) train on the same stratified subset of at
#: most this many training images, for this many epochs, in the recipe's batches; the ablation
#: runs are validated on a stratified subset of at most CPU_ABLATION_VAL_IMAGES validation images.
CPU_TRAIN_IMAGES, CPU_EPOCHS = 4_500, 6
CPU_ABLATION_VAL_IMAGES = 1_000


def svhn_checkpoint(config: dict):
    """The file notebook 04's final model keeps its checkpoint in.

    One file per configuration (a hash of ``config`` in its name, in the run folder of
    :func:`helpers.cache.cache_dir`), so a changed configuration never resumes another run.
    """
    from helpers.cache import cache_dir, run_key

    return cache_dir() / f"svhn-cnn-{run_key(config)}.pt"


@dataclass(frozen=True)
class SvhnBudget:
    """How much notebook 04 trains (see :func:`svhn_budget`)."""

    reason: str
    #: the final model and every ablation run: at most this many training images (a stratified
    #: subset; None: all of them)...
    train_images: int | None
    #: ...for this many epochs, in the recipe's batches
    epochs: int
    #: the ablation's validation images (a stratified subset; None: all) and seeds
    ablation_val_images: int | None
    ablation_seeds: tuple[int, ...]

    def plan(self, n_train: int) -> str:
        """What this budget trains when the training split holds ``n_train`` images, in one line."""
        final = n_train if self.train_images is None else min(self.train_images, n_train)
        return (f"final model and each ablation run: {final:,} of the {n_train:,} training "
                f"images x {self.epochs} epochs in batches of {SVHN_RECIPE['batch_size']}; "
                f"ablation: {len(SVHN_ABLATION_VARIANTS)} variants x "
                f"{len(self.ablation_seeds)} seeds")


def svhn_budget(device_type: str, smoke: bool = False, full_run: bool = False) -> SvhnBudget:
    """The budget for a device (``"cpu"``, ``"cuda"``, ``"mps"``).

    Tiny in smoke mode, the full recipe on a GPU or with ``full_run``, a time budget on a CPU (the
    whole notebook within about 15 minutes on the official files; the README's maintainer section
    states the latest measurement of ``scripts/svhn_time_budget.py``, written to
    ``docs/svhn_time_budget.json``).
    """
    if smoke:
        # one or two batches per epoch: every cell runs, in a second or two (the test suite)
        return SvhnBudget("a check that every cell runs, on tiny synthetic data", 64, 2, None,
                          (0, 1, 2))
    if full_run or device_type != "cpu":
        return SvhnBudget("FULL_RUN = True" if full_run else f"a GPU ({device_type})", None,
                          SVHN_EPOCHS, None, (0, 1, 2))
    return SvhnBudget("a CPU", CPU_TRAIN_IMAGES, CPU_EPOCHS, CPU_ABLATION_VAL_IMAGES, (0, 1, 2))


def svhn_training(device_type: str, full_run: bool = False) -> SvhnBudget:
    """How many images and epochs notebook 04 trains on a device.

    :func:`svhn_budget` under the plain name the notebook uses (tiny in smoke mode,
    ``helpers.smoke_mode()``).
    """
    from helpers.settings import smoke_mode

    return svhn_budget(device_type, smoke=smoke_mode(), full_run=full_run)


# --- notebook 03: the fast MNIST CNN's recipe (helpers.models.mnist_best_cnn) ---------------------

#: Adam with lower betas than the default (0.9, 0.999), a one-cycle learning rate stepped every
#: batch that peaks at ``max_lr`` after a share ``pct_start`` of the steps (0.2 reached 99% test
#: accuracy a quarter epoch sooner than OneCycleLR's default 0.3 in trial runs on 2 seeds, both
#: 99.2-99.4% after 2 epochs), without cycling beta1 (``cycle_momentum=False``), batches of 256,
#: ``epochs`` passes over the training images, reshuffled every epoch. Chosen from the lessons of
#: the public speed recipe tuomaso/train_mnist_fast (data in one tensor, batch 256, OneCycle, Adam
#: betas (0.7, 0.9)) with batch norm added, which allows the higher peak rate; measured against it
#: by ``scripts/benchmark_speed.py`` (the README's maintainer section quotes it).
MNIST_FAST_RECIPE = dict(epochs=2, max_lr=0.02, pct_start=0.2, batch_size=256, betas=(0.7, 0.9),
                         cycle_momentum=False)


def mnist_fast_optimizer(model, steps_per_epoch: int, epochs: int | None = None):
    """Return (optimizer, scheduler) of :data:`MNIST_FAST_RECIPE` for ``model``.

    Adam, and a OneCycleLR over ``steps_per_epoch * epochs`` batches, to be stepped after every
    batch."""
    import torch   # here: the SVHN budget above is read by tools that never train

    epochs = epochs or MNIST_FAST_RECIPE["epochs"]
    optimizer = torch.optim.Adam(model.parameters(), lr=MNIST_FAST_RECIPE["max_lr"],
                                 betas=MNIST_FAST_RECIPE["betas"])
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=MNIST_FAST_RECIPE["max_lr"], total_steps=steps_per_epoch * epochs,
        pct_start=MNIST_FAST_RECIPE["pct_start"],
        cycle_momentum=MNIST_FAST_RECIPE["cycle_momentum"])
    return optimizer, scheduler
