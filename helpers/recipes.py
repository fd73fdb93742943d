"""Notebook 04's SVHN configuration in one place: the model, its training recipe, the ablation's
variants and how much to train on each kind of machine. Notebook 04,
``scripts/svhn_sample_check.py`` and ``scripts/svhn_time_budget.py`` import it, so none of them
holds a copy that could drift.

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
#: The recipe: AdamW (lr, weight_decay), cosine annealing over
#: the run, batches of 128, random shifts of up to 2 pixels.
SVHN_RECIPE = dict(lr=2e-3, weight_decay=5e-4, batch_size=128, max_shift=2)
#: The final model's epochs when there is time for them (a GPU, or ``full_run``).
SVHN_EPOCHS = 16

#: The ablation, leave-one-out: the full recipe, and the full recipe with one component taken out.
#: Each entry overrides the recipe's settings (``batch_norm``, ``dropout``, ``max_shift``,
#: ``schedule``, ``init``). Every variant trains with the same settings (the recipe's learning rate
#: and weight decay; the budget's images, epochs and batch size), one change per variant; the
#: variant without batch norm also starts from
#: He initialisation, a forced second change: with PyTorch's default initial weights that deep
#: stack stayed at the majority class in trial runs on the sample's validation images.
SVHN_ABLATION_VARIANTS = {
    "full recipe": {},
    "without batch norm": {"batch_norm": False, "init": "he"},
    "without augmentation": {"max_shift": 0},
    "without dropout": {"dropout": 0.0},
    "without LR schedule": {"schedule": "constant"},
}


def ablation_recipe(variant: str) -> dict:
    """The full settings of one ablation variant: model
    keywords, optimiser, schedule and augmentation."""
    settings = {**SVHN_MODEL_CONFIG, **SVHN_RECIPE, "schedule": "cosine", "init": "default"}
    return {**settings, **SVHN_ABLATION_VARIANTS[variant]}


def svhn_files(download: bool = True):
    """The SVHN files notebook 04 reads and the name of their data: ``(train_path, test_path,
    name)``, ``name`` being "official SVHN" (official checksums), "SVHN sample" (files in the
    official layout with other checksums, e.g. the course's sample of real digits) or "SYNTHETIC
    SVHN". The files are downloaded when missing; nothing is read."""
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
#: model trains on at most this many training images for this many epochs; each ablation variant
#: (3 seeds each) on a stratified subset of this many images, for this many epochs, in batches of
#: ABLATION_BATCH_SIZE. The recipe sits at the majority class for its first ~100 optimizer steps
#: (trial runs on the sample's validation images, seed 0: 1,000 images x 12 epochs in batches of
#: 128, 96 steps, ended at 67% validation error; in batches of 32, 10 epochs, 312 steps: 43%, and
#: 20% without dropout; 4,500 images x 15 epochs in batches of 128: 4.6% at its best epoch), so the
#: short runs take small batches: many steps on few images.
CPU_TRAIN_IMAGES, CPU_EPOCHS = 4_500, 12
CPU_ABLATION_IMAGES, CPU_ABLATION_EPOCHS = 1_000, 10
ABLATION_BATCH_SIZE = 32

def svhn_checkpoint(config: dict):
    """The file notebook 04's final model keeps its checkpoint in: one per configuration (a hash of
    ``config`` in its name, in the run folder of :func:`helpers.cache.cache_dir`), so a changed
    configuration never resumes another run."""
    from helpers.cache import cache_dir, run_key

    return cache_dir() / f"svhn-cnn-{run_key(config)}.pt"


@dataclass(frozen=True)
class SvhnBudget:
    """How much notebook 04 trains (see :func:`svhn_budget`)."""

    reason: str
    #: final model: at most this many training images (a stratified subset; None: all of them)...
    train_images: int | None
    #: ...for this many epochs
    epochs: int
    #: ablation: training images (a stratified subset; None: all), epochs, batch size, validation
    #: images (None: all), seeds
    ablation_images: int | None
    ablation_epochs: int
    ablation_batch_size: int
    ablation_val_images: int | None
    ablation_seeds: tuple[int, ...]

    def final_epochs(self, n_images: int | None = None) -> int:
        """The final model's epochs (the same for every size of its training set)."""
        return self.epochs

    def plan(self, n_train: int) -> str:
        """What this budget trains when the training split holds ``n_train`` images, in one line."""
        final = n_train if self.train_images is None else min(self.train_images, n_train)
        ablation = n_train if self.ablation_images is None else min(self.ablation_images, n_train)
        return (f"final model: {final:,} of the {n_train:,} training images x {self.epochs} "
                f"epochs; ablation: {len(SVHN_ABLATION_VARIANTS)} variants x "
                f"{len(self.ablation_seeds)} seeds x {self.ablation_epochs} epochs on {ablation:,} "
                f"images in batches of {self.ablation_batch_size}")


def svhn_budget(device_type: str, smoke: bool = False, full_run: bool = False) -> SvhnBudget:
    """The budget for a device (``"cpu"``, ``"cuda"``, ``"mps"``): tiny in smoke mode, the full
    recipe on a GPU or with ``full_run``, a time budget on a CPU (the whole notebook within about
    15 minutes on the official files; the README's maintainer section states the latest
    measurement of ``scripts/svhn_time_budget.py``, written to ``docs/svhn_time_budget.json``)."""
    if smoke:
        # one or two batches per epoch: every cell runs, in a second or two (the test suite)
        return SvhnBudget("a check that every cell runs, on tiny synthetic data", 64, 2, 32, 2, 16,
                          None, (0, 1, 2))
    if full_run or device_type != "cpu":
        return SvhnBudget("FULL_RUN = True" if full_run else f"a GPU ({device_type})", None,
                          SVHN_EPOCHS, 20_000, 8, SVHN_RECIPE["batch_size"], None, (0, 1, 2))
    return SvhnBudget("a CPU", CPU_TRAIN_IMAGES, CPU_EPOCHS, CPU_ABLATION_IMAGES,
                      CPU_ABLATION_EPOCHS, ABLATION_BATCH_SIZE, 500, (0, 1, 2))


def svhn_training(device_type: str, full_run: bool = False) -> SvhnBudget:
    """How many images and epochs notebook 04 trains on a device: :func:`svhn_budget` under the
    plain name the notebook uses (tiny in smoke mode, ``helpers.smoke_mode()``)."""
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
    """(optimizer, scheduler) of :data:`MNIST_FAST_RECIPE` for ``model``: Adam, and a OneCycleLR
    over ``steps_per_epoch * epochs`` batches, to be stepped after every batch."""
    import torch   # here: the SVHN budget above is read by tools that never train

    epochs = epochs or MNIST_FAST_RECIPE["epochs"]
    optimizer = torch.optim.Adam(model.parameters(), lr=MNIST_FAST_RECIPE["max_lr"],
                                 betas=MNIST_FAST_RECIPE["betas"])
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=MNIST_FAST_RECIPE["max_lr"], total_steps=steps_per_epoch * epochs,
        pct_start=MNIST_FAST_RECIPE["pct_start"],
        cycle_momentum=MNIST_FAST_RECIPE["cycle_momentum"])
    return optimizer, scheduler
