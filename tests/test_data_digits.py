"""helpers.data.digits: scikit-learn's 8x8 digits split in order 1000/350/447 (no download)."""

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

from helpers.data import DIGITS_SPLITS, DigitsDataset, digits_loaders, load_digits_split

SIZES = {"train": 1000, "val": 350, "test": 447}


def test_split_sizes_cover_every_row_once_in_order():
    assert {split: stop - start for split, (start, stop) in DIGITS_SPLITS.items()} == SIZES
    assert (DIGITS_SPLITS["train"][0] == 0
            and DIGITS_SPLITS["test"][1] == len(load_digits().target) == 1797)
    assert (DIGITS_SPLITS["train"][1] == DIGITS_SPLITS["val"][0]
            and DIGITS_SPLITS["val"][1] == DIGITS_SPLITS["test"][0])


@pytest.mark.parametrize("split", SIZES)
def test_split_is_the_rows_of_load_digits_in_their_stored_order(split):
    bunch = load_digits()
    start, stop = DIGITS_SPLITS[split]
    pixels, labels = load_digits_split(split)
    assert pixels.shape == (SIZES[split], 64) and pixels.dtype == np.float32
    assert labels.shape == (SIZES[split],) and labels.dtype == np.int64
    # no shuffle
    np.testing.assert_allclose(pixels, bunch.data[start:stop] / 16.0, rtol=0, atol=1e-7)
    np.testing.assert_array_equal(labels, bunch.target[start:stop])
    assert pixels.min() == 0.0 and pixels.max() == 1.0
    assert set(np.unique(labels)) == set(range(10))  # every digit occurs in every split


def test_returned_arrays_are_copies_that_do_not_change_the_cache():
    pixels, labels = load_digits_split("train")
    pixels[:] = -1
    labels[:] = -1
    again_pixels, again_labels = load_digits_split("train")
    assert again_pixels.min() == 0.0 and again_labels.min() == 0


def test_dataset_items_and_description():
    dataset = DigitsDataset("val")
    assert len(dataset) == 350
    image, label = dataset[0]
    assert image.shape == (64,) and image.dtype == torch.float32
    assert label.shape == () and label.dtype == torch.int64
    pixels, labels = load_digits_split("val")
    assert torch.equal(image, torch.from_numpy(pixels[0])) and label.item() == labels[0]
    assert (dataset.describe()
            == "validation set: 350 images of scikit-learn load_digits (rows 1000-1349)")


def test_limit_keeps_the_first_images_of_the_split():
    dataset = DigitsDataset("test", limit=5)
    assert len(dataset) == 5 and list(dataset.rows) == [1350, 1351, 1352, 1353, 1354]
    pixels, labels = load_digits_split("test")
    assert torch.equal(dataset.pixels, torch.from_numpy(pixels[:5]))
    assert torch.equal(dataset.labels, torch.from_numpy(labels[:5]))
    assert dataset.describe() == "test set: 5 images of scikit-learn load_digits (rows 1350-1354)"
    assert len(DigitsDataset("test", limit=10_000)) == 447  # more than there are: the whole split


@pytest.mark.parametrize("limit", [0, -3, 2.5, True])
def test_a_bad_limit_is_a_clear_error(limit):
    with pytest.raises(ValueError, match="limit must be a positive whole number"):
        DigitsDataset("train", limit=limit)


@pytest.mark.parametrize("split", ["training", "valid", "", None])
def test_an_unknown_split_is_a_clear_error(split):
    with pytest.raises(ValueError, match="split must be one of"):
        load_digits_split(split)
    with pytest.raises(ValueError, match="split must be one of"):
        DigitsDataset(split)


def test_loaders_batch_shapes_shuffle_only_training_and_are_seeded():
    loaders = digits_loaders(batch_size=32)
    assert set(loaders) == {"train", "val", "test"}
    images, labels = next(iter(loaders["train"]))
    assert images.shape == (32, 64) and images.dtype == torch.float32
    assert labels.shape == (32,) and labels.dtype == torch.int64
    assert len(loaders["train"]) == 32  # ceil(1000 / 32)
    for split in ("val", "test"):  # evaluation: the whole split as one batch, in order
        batches = list(loaders[split])
        assert len(batches) == 1
        assert torch.equal(batches[0][1], loaders[split].dataset.labels)
    train_labels = loaders["train"].dataset.labels
    torch.manual_seed(0)
    first = torch.cat([labels for _, labels in loaders["train"]])
    torch.manual_seed(0)
    second = torch.cat([labels for _, labels in loaders["train"]])
    assert torch.equal(first, second)  # the shuffle follows the global seed
    assert (not torch.equal(first, train_labels)
            and torch.equal(first.sort().values, train_labels.sort().values))


def test_loaders_pass_limit_to_every_split():
    loaders = digits_loaders(batch_size=4, limit=10)
    assert ({split: len(loader.dataset) for split, loader in loaders.items()}
            == {"train": 10, "val": 10, "test": 10})
    assert len(loaders["train"]) == 3


# --- random_affine: the augmentation of notebook 02 -----------------------------------------------

def test_random_affine_keeps_shape_and_range_and_is_seeded():
    from helpers.data import random_affine

    pixels = DigitsDataset("train").pixels[:50]
    torch.manual_seed(0)
    first = random_affine(pixels)
    torch.manual_seed(0)
    again = random_affine(pixels)
    assert first.shape == (50, 64) and first.dtype == torch.float32
    assert first.min() >= 0 and first.max() <= 1
    assert torch.equal(first, again)                      # same seed, same images
    assert not torch.allclose(first, pixels)               # but not the originals
    assert not torch.allclose(first, random_affine(pixels))  # and new draws next time


def test_random_affine_with_every_amount_zero_is_the_identity():
    from helpers.data import random_affine

    pixels = DigitsDataset("val").pixels[:20]
    same = random_affine(pixels, degrees=0, scale=0, shear=0, shift=0, ink=0)
    assert torch.allclose(same, pixels, atol=1e-5)


def test_random_affine_shift_moves_ink_by_at_most_the_limit():
    from helpers.data import random_affine

    image = torch.zeros(1, 8, 8)
    image[0, 3:5, 3:5] = 1.0                               # a 2x2 blob in the middle
    torch.manual_seed(1)
    moved = random_affine(image.reshape(1, 64).repeat(200, 1), degrees=0, scale=0, shear=0,
                          shift=1.0, ink=0)
    cols = torch.arange(8.0)
    centre_x = (moved.reshape(200, 8, 8).sum(1) * cols).sum(1) / moved.sum(1)
    assert (centre_x - 3.5).abs().max() <= 1.0 + 1e-4    # the ink's centre moved by at most 1 pixel
    assert (centre_x - 3.5).abs().max() > 0.5            # and it did move


def test_random_affine_rejects_a_batch_that_is_not_8x8_vectors():
    from helpers.data import random_affine

    with pytest.raises(ValueError, match=r"\(N, 64\)"):
        random_affine(torch.zeros(4, 1, 8, 8))
