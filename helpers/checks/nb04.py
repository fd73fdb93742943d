"""Notebook 04 (SVHN): the leak-free stratified split, per-channel statistics, random shifts."""

from collections.abc import Callable

import torch
from torch import nn

from helpers.checks.core import Verdict, pair, run


def _imbalanced_labels() -> torch.Tensor:
    """1,000 labels of 4 classes with very different sizes
    (500/300/150/50), shuffled: stratification shows."""
    counts = (500, 300, 150, 50)
    labels = torch.cat([torch.full((n,), c) for c, n in enumerate(counts)])
    return labels[torch.randperm(len(labels), generator=torch.Generator().manual_seed(0))]


def check_validation_split(split: Callable) -> Verdict:
    """``split(labels, fraction, seed) -> (train_indices, val_indices)``: no index in both parts,
    together exactly 0..N-1 (positions in the *training* file), every class gives ``fraction`` of
    its images to validation (±1)."""
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
               "images go", test,
               code_hint="for each label: members = torch.nonzero(labels == label).squeeze(1), "
               "shuffled with torch.randperm(len(members), generator=seeded); the first "
               "round(fraction * len(members)) go to validation, the rest to training")


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
               "over all images and positions", test, code_hint="scaled = images.float() / 255; "
               "scaled.mean(dim=(0, 2, 3)), scaled.std(dim=(0, 2, 3))")


def check_random_shift(random_shift: Callable) -> Verdict:
    """``random_shift(images (N, C, H, W), max_shift)`` moves each image by its own offset of at
    most ``max_shift`` pixels per direction, zeros shifted in (not wrapped around, not mirrored); 0
    changes nothing."""
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
               "offset; what moves out of the frame is lost and zeros come in at the other side",
               test,
               code_hint="padded = nn.functional.pad(images, (s, s, s, s)); per image, crop "
               "padded[i, :, dy:dy + H, dx:dx + W] with dy, dx drawn from 0..2 * s")
