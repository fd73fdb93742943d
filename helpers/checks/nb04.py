"""Notebook 04 (SVHN): self-checks for its exercises.

The leak-free stratified split, per-channel statistics, random shifts, and the design exercise (a
small model under a parameter budget, graded on the test file).
"""

from collections.abc import Callable

import torch
from torch import nn

from helpers.checks.core import (Verdict, all_of, check_parameter_budget, pair, run,
                                 stratified_subset, trained_error)


def _imbalanced_labels() -> torch.Tensor:
    """1,000 shuffled labels of 4 classes of very different sizes (500/300/150/50)."""
    counts = (500, 300, 150, 50)
    labels = torch.cat([torch.full((n,), c) for c, n in enumerate(counts)])
    return labels[torch.randperm(len(labels), generator=torch.Generator().manual_seed(0))]


def check_validation_split(split: Callable) -> Verdict:
    """Check ``split(labels, fraction, seed) -> (train_indices, val_indices)``.

    No index in both parts, together exactly 0..N-1 (positions in the *training* file), every class
    gives ``fraction`` of its images to validation (±1).
    """
    def test():
        labels = _imbalanced_labels()
        train, val = (torch.as_tensor(part).reshape(-1).long()
                      for part in pair(split(labels, 0.1, 0), "split"))
        shared = len(set(train.tolist()) & set(val.tolist()))
        if shared:
            return (False,
                    f"{shared} indices are in both parts: those validation images are trained on")
        if sorted(train.tolist() + val.tolist()) != list(range(len(labels))):
            return False, "together the two parts must be every index 0..N-1 exactly once"
        for c in range(4):
            wanted, got = 0.1 * int((labels == c).sum()), int((labels[val] == c).sum())
            if abs(got - wanted) > 1:
                return False, f"class {c} has {got} validation images, 10% of it is {wanted:g}"
        again = [torch.as_tensor(p).reshape(-1).long()
                 for p in pair(split(labels, 0.1, 0), "split")]
        if not torch.equal(torch.sort(again[1]).values, torch.sort(val).values):
            return False, "the same seed must give the same split"
        return True, f"{len(train)} train / {len(val)} validation, disjoint, 10% of each class"
    return run("the split is leak-free and stratified", "split each class on its own, so every "
               "class gives the same share to validation, and let the seed alone decide which "
               "images go (section 2 of notebook 04)", test,
               code_hint="per class: find the positions of its images (torch.nonzero), put them "
               "in a random order drawn from a torch.Generator seeded with `seed` (the generator= "
               "argument of torch.randperm, https://pytorch.org/docs/stable/generated/"
               "torch.randperm.html), and send the rounded share `fraction` of them to "
               "validation, the others to training")


def check_channel_stats(channel_stats: Callable) -> Verdict:
    """``channel_stats(images uint8 (N, 3, H, W)) -> (mean (3,), std (3,))`` of pixels/255."""
    def test():
        generator = torch.Generator().manual_seed(0)
        images = torch.randint(0, 256, (20, 3, 8, 8), generator=generator, dtype=torch.uint8)
        images[:, 1] //= 4  # give every channel different statistics
        images[:, 2] = 255 - images[:, 2] // 2
        mean, std = pair(channel_stats(images), "channel_stats")
        scaled = images.double().transpose(0, 1).reshape(3, -1) / 255
        for name, got, expected in (("mean", mean, scaled.mean(1)), ("std", std, scaled.std(1))):
            got = torch.as_tensor(got).double()
            if tuple(got.shape) != (3,):
                return False, (f"the {name} has shape {tuple(got.shape)}; one number per colour "
                               "channel is (3,)")
            if not torch.allclose(got, expected, atol=2e-3):
                return False, f"{name} {[round(v, 3) for v in got.tolist()]}, expected " \
                              f"{[round(v, 3) for v in expected.tolist()]}"
        return True, "one mean and one std per colour channel"
    return run("channel_stats gives per-channel statistics", "pixels are whole numbers "
               "0..255: scale them to [0, 1] first; then one mean and one std per colour channel, "
               "over all images and positions (section 3 of notebook 04)", test,
               code_hint="uint8 tensors cannot hold fractions: convert to float before dividing; "
               "Tensor.mean and Tensor.std reduce over several dimensions at once when dim is a "
               "tuple (https://pytorch.org/docs/stable/generated/torch.mean.html): keep only the "
               "colour dimension")


def check_random_shift(random_shift: Callable) -> Verdict:
    """Check ``random_shift(images (N, C, H, W), max_shift)``.

    It moves each image by its own offset of at most ``max_shift`` pixels per direction, zeros
    shifted in (not wrapped around, not mirrored); 0 changes nothing.
    """
    def shift_of(image, out, s):
        padded = nn.functional.pad(image, (s, s, s, s))
        h, w = image.shape[-2:]
        return next(((dy - s, dx - s) for dy in range(2 * s + 1) for dx in range(2 * s + 1)
                     if torch.equal(padded[:, dy:dy + h, dx:dx + w], out)), None)

    def test():
        # no zeros inside
        images = torch.rand(32, 3, 12, 12, generator=torch.Generator().manual_seed(0)) + 0.5
        out = random_shift(images, 2)
        if not isinstance(out, torch.Tensor) or out.shape != images.shape:
            return False, (f"got {type(out).__name__} {tuple(getattr(out, 'shape', ()))}, expected "
                           f"{tuple(images.shape)}")
        offsets = [shift_of(a, b, 2) for a, b in zip(images, out)]
        if None in offsets:
            i = offsets.index(None)
            if shift_of(images[i].flip(-1), out[i], 2) is not None:
                return False, f"image {i} is mirrored: a flipped 2 or 5 is no longer a digit"
            return False, (f"image {i} is not a shift of at most 2 pixels with zeros filled in "
                           "(wrapped around?)")
        if len(set(offsets)) < 4:
            return False, (f"only {len(set(offsets))} different offset(s) in a batch of 32: draw "
                           "one per image")
        if not torch.equal(random_shift(images, 0), images):
            return False, "max_shift=0 must return the images unchanged"
        return True, "each image shifted by at most 2 pixels, zeros filled in, offsets vary"
    return run("random_shift shifts each image on its own", "each image moves by its own random "
               "offset; what moves out of the frame is lost and zeros come in at the other side "
               "(section 5 of notebook 04)", test,
               code_hint="a shift is a crop of a bigger image: surround every image with a border "
               "of max_shift zeros (nn.functional.pad, https://pytorch.org/docs/stable/generated/"
               "torch.nn.functional.pad.html), then cut a window of the original size out of each "
               "padded image, at a corner drawn for that image alone")


#: The open design exercise: a model of at most this many parameters, trained by the student's own
#: loop on at most DESIGN_TRAIN_IMAGES images of the training split (a stratified subset) ...
DESIGN_PARAMETER_BUDGET = 25_000
DESIGN_TRAIN_IMAGES = 2_000
#: The self-check measures it on at most this many validation images (a stratified subset).
DESIGN_VAL_IMAGES = 1_000
#: ... must reach this error on the validation images (self-check) and this one on the test file,
#: which the exercise never gives the student (the hidden check at grading).
DESIGN_VAL_ERROR, DESIGN_TEST_ERROR = 0.30, 0.35
#: The student's training may take this long before the check stops it (a loop that never ends).
DESIGN_SECONDS = 600


def check_svhn_design(build_model: Callable, train_model: Callable,
                      split: str = "val") -> Verdict:
    """Check the design exercise's ``build_model`` and ``train_model``.

    ``build_model()`` -> an nn.Module mapping (N, 3, 32, 32) normalised SVHN images to (N, 10)
    logits with at most :data:`DESIGN_PARAMETER_BUDGET` parameters; ``train_model(model, images,
    labels)`` trains it on a stratified subset of the training split and returns it. Its error on
    ``split`` ("val": the validation split, the self-check; "test": the test file, grading) must be
    at most the target. The feedback gives the parameter count, the error and the training time.
    """
    from helpers.data import load_svhn_splits

    target = DESIGN_VAL_ERROR if split == "val" else DESIGN_TEST_ERROR
    splits = load_svhn_splits()
    images, labels = stratified_subset(splits.train_images, splits.train_labels,
                                       DESIGN_TRAIN_IMAGES)
    held_images, held_labels = (splits.load_test() if split == "test" else stratified_subset(
        splits.val_images, splits.val_labels, DESIGN_VAL_IMAGES))

    def within_budget():
        return check_parameter_budget(
            build_model, DESIGN_PARAMETER_BUDGET, "the parameters of a 3x3 convolution grow with "
            "C_in x C_out, and a dense layer on a whole feature map holds one weight per position: "
            "count them with the formulas of section 4, then use fewer channels, fewer "
            "convolutions per block, or a global pool before the linear layer")

    def accurate():
        def test():
            error, seconds, _ = trained_error(build_model, train_model, images, labels,
                                              held_images, held_labels)
            return error <= target, (f"{error:.1%} error on {len(held_images):,} {where} images "
                                     f"after {seconds:.0f} s of training on {len(labels):,} images")
        where = "validation" if split == "val" else "held-out test"
        return run(f"your recipe reaches at most {target:.0%} {where} error", "this check "
                   "prints only the validation error: measure your trained model's error on its "
                   "training images too (evaluate it after train_model returns). Both high means "
                   "it underfits (more "
                   "epochs, a higher learning rate, batch norm: section 4; little or no dropout: "
                   "section 6), a large gap means it overfits (augmentation, weight decay: "
                   "sections 5 and 6); also check "
                   "that train_model calls model.train() and steps the optimizer after every batch",
                   test, seconds=DESIGN_SECONDS, graded_further=split == "val")
    return all_of(within_budget, accurate)
