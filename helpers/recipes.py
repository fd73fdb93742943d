"""Notebook 04's SVHN configuration in one place: the model, its training recipe, the ablation's
variants and how much to train on each kind of machine. Notebook 04,
``scripts/svhn_sample_check.py`` and ``scripts/svhn_time_budget.py`` import it, so none of them
holds a copy that could drift.

Training costs (training images x epochs). A GPU (or ``full_run``) gets the full recipe on the whole
training split; a CPU gets a budget that keeps the whole notebook within about 15 minutes on the
official files (the README's maintainer section states the latest measurement of
``scripts/svhn_time_budget.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

#: ``CNN(**SVHN_MODEL_CONFIG)``: three VGG-style blocks
#: (two 3x3 convolutions each), batch norm, dropout 0.3.
SVHN_MODEL_CONFIG = dict(channels=[32, 64, 128], in_channels=3, convs_per_block=2, batch_norm=True,
                         dropout=0.3)
#: The recipe: AdamW (lr, weight_decay), cosine annealing over
#: the run, batches of 128, random shifts of up to 2 pixels.
SVHN_RECIPE = dict(lr=2e-3, weight_decay=5e-4, batch_size=128, max_shift=2)
#: The final model's epochs when there is time for them.
SVHN_EPOCHS = 16

#: The ablation, leave-one-out: the final recipe, and the final recipe with one component taken out.
#: Each entry overrides the recipe's settings (``batch_norm``, ``dropout``, ``max_shift``,
#: ``schedule``, ``init``). The short runs use their own learning rate (``SvhnBudget.ablation_lr``),
#: and the variant without batch norm more epochs (``SvhnBudget.variant_epochs``). Both were chosen
#: on the validation images of the SVHN sample in trial runs (batches of 64): the final recipe sits
#: at the majority class for its first ~150 steps and then learns, so a short run needs steps more
#: than epochs. On 2,000 images x 6 epochs (190 steps) it ended at 43-66% validation error; on 3,500
#: images x 6 epochs (330 steps), at 14%; on 4,500, at 10-14%. lr 2e-3 and 3e-3 stayed at the
#: majority class longer than 1e-3. Without batch norm, PyTorch's default initial weights stayed at
#: the majority class; He initialisation learns, more slowly.
SVHN_ABLATION_VARIANTS = {
    "final recipe": {},
    # a deep stack without batch norm also needs initial weights scaled for it (He initialisation)
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


@dataclass(frozen=True)
class SvhnBudget:
    """How much notebook 04 trains, and why (see :func:`svhn_budget`)."""

    reason: str
    #: final model: at most this many training images (a stratified subset; None: all of them)...
    train_images: int | None
    #: ...for min(max_epochs, image_epochs // images) epochs (None: always max_epochs)
    image_epochs: int | None
    max_epochs: int
    #: ablation: training images (stratified subset), epochs,
    #: batch size, validation images (None: all), seeds
    ablation_images: int | None
    ablation_epochs: int
    ablation_epochs_without_bn: int
    ablation_batch_size: int
    ablation_val_images: int | None
    ablation_seeds: tuple[int, ...]
    #: the ablation's learning rate (its short runs need a smaller one than the final model's)
    ablation_lr: float

    def final_epochs(self, n_images: int) -> int:
        """The final model's epochs when it trains on ``n_images`` images."""
        if self.image_epochs is None:
            return self.max_epochs
        return max(1, min(self.max_epochs, self.image_epochs // n_images))

    def variant_epochs(self, variant: str) -> int:
        """Epochs of one ablation variant: without batch
        norm the network starts to learn much later."""
        return (self.ablation_epochs_without_bn if variant == "without batch norm"
                else self.ablation_epochs)

    def plan(self, n_train: int) -> str:
        """What this budget trains when the training split holds ``n_train`` images, in one line."""
        final = n_train if self.train_images is None else min(self.train_images, n_train)
        ablation = n_train if self.ablation_images is None else min(self.ablation_images, n_train)
        return (f"final model: {final:,} of the {n_train:,} training images x "
                f"{self.final_epochs(final)} epochs; ablation: {len(SVHN_ABLATION_VARIANTS)} "
                f"variants x {len(self.ablation_seeds)} seeds x {self.ablation_epochs} epochs "
                f"({self.ablation_epochs_without_bn} without batch norm) on {ablation:,} images")


def svhn_budget(device_type: str, smoke: bool = False, full_run: bool = False) -> SvhnBudget:
    """The budget for a device (``"cpu"``, ``"cuda"``, ``"mps"``): tiny in smoke mode, the full
    recipe on a GPU or with ``full_run``, a time budget on a CPU."""
    if smoke:
        # one or two batches per epoch: every cell runs, in a second or two (the test suite)
        return SvhnBudget("a check that every cell runs, on tiny synthetic data", 64, None, 2,
                          32, 1, 2, 32, None, (0, 1), 1e-3)
    if full_run or device_type != "cpu":
        return SvhnBudget("FULL_RUN = True" if full_run else f"a GPU ({device_type})", None, None,
                          SVHN_EPOCHS, 20_000, 8, 16, 128, None, (0, 1, 2), 1e-3)
    return SvhnBudget("a CPU: about 15 minutes for the whole notebook on the official files; "
                      "FULL_RUN = True trains the final model on the whole training split", 9_000,
                      45_000, SVHN_EPOCHS, 3_500, 6, 8, 64, 500, (0, 1), 1e-3)


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
