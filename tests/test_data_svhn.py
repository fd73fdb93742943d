"""SVHN (notebook 04): the real .mat loading path on synthetic files, and what it promises.

Clear errors, a leak-free split, training-only statistics, digit augmentation, and an
interrupted-and-resumed training run.

The network is never touched: torchvision's download_url is replaced by a function that fails like
an offline machine, and every file is written into a temporary folder.
"""

import shutil
import warnings
from urllib.error import URLError

import numpy as np
import pytest
import scipy.io
import torch
from torch import nn

from helpers.data import downloads, svhn
from helpers.data import (CorruptDatasetError, DatasetNotFoundError, RandomShift, TensorLoader,
                          channel_stats, load_svhn_splits, normalize_images, svhn_folder)
from helpers.data.splits import Provenance
from helpers.data.svhn import write_synthetic_svhn
from helpers.models import CNN
from helpers.settings import shown_path
from helpers.training import fit, load_checkpoint, seed_everything

N_TRAIN, N_TEST = 400, 120


def load_svhn(split, root):
    """Read one split's file as notebook 04's loader does: images (N, 3, 32, 32) uint8, labels."""
    path, _ = svhn.ensure_svhn(split, root=root)
    return svhn.read_svhn_mat(path)


def no_network(url, root, filename=None, md5=None):
    raise URLError("[Errno -3] Temporary failure in name resolution")


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    monkeypatch.setattr(downloads, "download_url", no_network)


@pytest.fixture
def root(tmp_path):
    write_synthetic_svhn(tmp_path, n_train=N_TRAIN, n_test=N_TEST)
    return tmp_path


def write_mat(path, images, labels):
    path.parent.mkdir(parents=True, exist_ok=True)
    scipy.io.savemat(path, {"X": images, "y": labels})
    return path


def copy_without_marker(root, target):
    """The synthetic files as a course subset would look: right layout, non-official checksums."""
    target.mkdir()
    for name in ("train_32x32.mat", "test_32x32.mat"):
        shutil.copy(root / "SVHN" / name, target / name)
    return target


# --- loading --------------------------------------------------------------------------------------


def test_synthetic_files_load_through_the_real_path_without_warnings(root):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # recorded checksums match: no warning
        images, labels = load_svhn("train", root=root)
    assert images.shape == (N_TRAIN, 3, 32, 32) and images.dtype == torch.uint8
    assert labels.shape == (N_TRAIN,) and labels.dtype == torch.int64
    assert sorted(labels.unique().tolist()) == list(range(10))
    assert (root / "SVHN" / "train_32x32.mat").is_file()  # <data root>/SVHN/ layout


def test_label_10_is_digit_0_and_the_layout_is_row_column_colour_image(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (32, 32, 3, 3), dtype=np.uint8)
    path = write_mat(tmp_path / "train_32x32.mat", x, np.array([[10], [1], [9]], dtype=np.uint8))
    images, labels = svhn.read_svhn_mat(path)
    assert labels.tolist() == [0, 1, 9]
    assert images.shape == (3, 3, 32, 32)
    # image n, channel c, row r, column w == X[r, w, c, n]
    assert images[2, 1, 5, 7] == x[5, 7, 1, 2]


def test_labels_stored_as_doubles_load_too(tmp_path):
    x = np.zeros((32, 32, 3, 2), dtype=np.uint8)
    path = write_mat(tmp_path / "a.mat", x, np.array([[10.0], [3.0]]))
    assert svhn.read_svhn_mat(path)[1].tolist() == [0, 3]


GOOD_X = np.zeros((32, 32, 3, 4), dtype=np.uint8)
GOOD_Y = np.array([[1], [2], [10], [4]], dtype=np.uint8)


@pytest.mark.parametrize("content, problem", [
    ({"X": GOOD_X}, "missing"),
    ({"images": GOOD_X, "y": GOOD_Y}, "missing"),
    ({"X": np.zeros((28, 28, 3, 4), np.uint8), "y": GOOD_Y}, "32x32x3xN"),
    ({"X": np.zeros((32, 32, 3, 4), np.float32), "y": GOOD_Y}, "uint8"),
    ({"X": GOOD_X, "y": GOOD_Y[:3]}, "one label per image"),
    ({"X": GOOD_X, "y": np.array([[0], [1], [2], [3]], np.uint8)}, "1..10"),
    ({"X": GOOD_X, "y": np.array([[1], [2], [11], [3]], np.uint8)}, "1..10"),
    ({"X": GOOD_X, "y": np.array([[1.5], [2], [10], [3]])}, "1..10"),
])
def test_structural_problems_name_the_file(tmp_path, content, problem):
    path = tmp_path / "train_32x32.mat"
    scipy.io.savemat(path, content)
    with pytest.raises(CorruptDatasetError, match=problem) as caught:
        svhn.read_svhn_mat(path)
    assert str(path) in str(caught.value)


def test_non_official_checksum_is_a_warning_and_the_data_is_not_called_official(root, tmp_path):
    """ensure_svhn warns; load_svhn_splits names the data "SVHN sample" in all it describes.

    A warning would store this machine's paths in a notebook.
    """
    folder = copy_without_marker(root, tmp_path / "course-subset")
    with pytest.warns(UserWarning, match="official checksum") as caught:
        svhn.ensure_svhn("train", folder)
    assert ([str(w.message).split(" does not")[0] for w in caught]
            == [shown_path(folder / "train_32x32.mat")])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        splits = load_svhn_splits(folder=folder)
    assert ("NOT the official ones" in splits.source
            and "official SVHN (checksums verified)" not in splits.source)
    assert splits.label == "SVHN sample" and "NOT the official split" in splits.summary()
    assert splits.provenance is Provenance.SAMPLE
    assert len(splits.train_labels) + len(splits.val_labels) == N_TRAIN


def test_synthetic_data_says_so(root):
    splits = load_svhn_splits(root=root)
    assert splits.describe().startswith("data: SYNTHETIC stand-in for SVHN")


def test_every_kind_of_files_gets_its_short_label_and_a_summary_with_the_counts(root, tmp_path):
    """Notebook 04 prints splits.label beside every number and splits.summary() as its data line."""
    synthetic = load_svhn_splits(root=root)
    assert synthetic.label == "SYNTHETIC SVHN"
    sample = load_svhn_splits(folder=copy_without_marker(root, tmp_path / "svhn-sample"))
    assert sample.label == "SVHN sample"
    n_val = round(0.1 * N_TRAIN)
    assert sample.summary() == (f"data: SVHN sample, {N_TRAIN - n_val:,} train / {n_val:,} "
                                f"validation / {N_TEST:,} test images "
                                "(real SVHN digits from a sample, NOT the official split: not SVHN "
                                "results)")
    # the test file's size comes from its header, its pixels are not read
    assert not sample.test_loaded


def test_label_source_and_summary_come_from_the_provenance(root):
    splits = load_svhn_splits(root=root)
    assert splits.provenance is Provenance.SYNTHETIC and splits.folder == shown_path(root / "SVHN")
    expected = {
        Provenance.OFFICIAL: ("official SVHN", "official SVHN (checksums verified)",
                              "the official split"),
        Provenance.SAMPLE: ("SVHN sample",
                            "SVHN sample: SVHN-format files whose checksums are NOT "
                            "the official ones",
                            "NOT the official split"),
        Provenance.SYNTHETIC: ("SYNTHETIC SVHN",
                               "SYNTHETIC stand-in for SVHN "
                               "(write_synthetic_svhn; not real photos)",
                               "synthetic stand-in")}
    for provenance, (label, source, summary) in expected.items():
        splits.provenance = provenance
        assert splits.label == label and provenance.label("SVHN") == label
        assert splits.source.startswith(source) and splits.source.endswith(f" from {splits.folder}")
        assert splits.summary().startswith(f"data: {label}, ") and summary in splits.summary()


def test_helpers_svhn_points_at_another_folder(root, tmp_path, monkeypatch):
    """Without the official files, make notebooks points HELPERS_SVHN at the course's sample."""
    folder = copy_without_marker(root, tmp_path / "svhn-sample")
    monkeypatch.setenv("HELPERS_SVHN", str(folder))
    # an explicit root wins
    assert svhn_folder() == folder.resolve() and svhn_folder(root) == root / "SVHN"
    assert load_svhn_splits().label == "SVHN sample"


def test_missing_files_offline_give_an_actionable_error(tmp_path):
    with pytest.raises(DatasetNotFoundError) as caught:
        load_svhn_splits(root=tmp_path)
    message = str(caught.value)
    assert "SVHN is not available" in message and "train_32x32.mat" in message
    assert "http://ufldl.stanford.edu/housenumbers/train_32x32.mat" in message
    assert str(tmp_path / "SVHN") in message and "HELPERS_DATA" in message


def test_a_missing_test_file_is_reported_before_any_training(root):
    (root / "SVHN" / "test_32x32.mat").unlink()
    with pytest.raises(DatasetNotFoundError, match="test_32x32.mat"):
        load_svhn_splits(root=root)


def test_truncated_file_gives_a_clear_error(root):
    path = root / "SVHN" / "train_32x32.mat"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.warns(UserWarning, match="checksum"), pytest.raises(CorruptDatasetError,
                                                                    match="truncated") as caught:
        load_svhn("train", root=root)
    assert str(path) in str(caught.value)


def test_official_files_present_only_for_real_files(root, tmp_path):
    assert not svhn.official_files_present(root=root)  # synthetic
    assert not svhn.official_files_present(root=tmp_path / "empty")
    assert svhn.official_files_present(folder=copy_without_marker(root, tmp_path / "copy"))


def test_synthetic_writer_never_overwrites_real_files(root, tmp_path):
    folder = copy_without_marker(root, tmp_path / "real")
    with pytest.raises(FileExistsError):
        write_synthetic_svhn(folder=folder)


# --- the leakage test -----------------------------------------------------------------------------


def test_validation_is_a_disjoint_stratified_part_of_the_training_file_only(root):
    raw_images, raw_labels = load_svhn("train", root=root)
    splits = load_svhn_splits(root=root, val_fraction=0.1, seed=3)
    train, val = splits.train_indices, splits.val_indices
    assert len(set(train.tolist()) & set(val.tolist())) == 0, (
        "an image is both trained on and validated on")
    assert sorted(train.tolist() + val.tolist()) == list(range(N_TRAIN)), (
        "the union is the training file")
    assert len(val) >= 0.1 * N_TRAIN
    for digit in range(10):  # stratified: each class keeps its share
        in_class = int((raw_labels == digit).sum())
        assert abs(int((raw_labels[val] == digit).sum()) - 0.1 * in_class) <= 1
    # the tensors really are those images of the training file, normalised with the training stats
    assert (torch.equal(splits.val_labels, raw_labels[val])
            and torch.equal(splits.train_labels, raw_labels[train]))
    expected = normalize_images(raw_images[val], splits.mean, splits.std)
    assert torch.allclose(splits.val_images, expected)
    with pytest.raises(ValueError, match="at least 0.1"):
        load_svhn_splits(root=root, val_fraction=0.05)


def test_the_test_file_is_not_read_until_the_final_evaluation(root, monkeypatch):
    reads = []
    real_read = svhn.read_svhn_mat
    monkeypatch.setattr(svhn, "read_svhn_mat",
                        lambda path: reads.append(path.name) or real_read(path))
    splits = load_svhn_splits(root=root)
    assert reads == ["train_32x32.mat"]
    assert "not read yet" in splits.describe()

    # Training and model selection need nothing from the
    # test file: even a destroyed one goes unnoticed...
    test_path = root / "SVHN" / "test_32x32.mat"
    good_bytes = test_path.read_bytes()
    test_path.write_bytes(b"overwritten")
    seed_everything(0)
    model = CNN([4, 8], in_channels=3)
    fit(model, TensorLoader(splits.train_images, splits.train_labels, batch_size=64, shuffle=True),
        TensorLoader(splits.val_images, splits.val_labels, batch_size=256), nn.CrossEntropyLoss(),
        torch.optim.Adam(model.parameters()), epochs=1, progress=False)
    assert reads == ["train_32x32.mat"] and not splits.test_loaded
    # ...until the final evaluation reads it, once, normalised with the training statistics.
    with pytest.raises(CorruptDatasetError):
        splits.load_test()
    test_path.write_bytes(good_bytes)
    test_images, test_labels = splits.load_test()
    assert reads[-1] == "test_32x32.mat" and splits.test_loaded and "read;" in splits.describe()
    raw_test = real_read(test_path)[0]
    assert test_images.shape == (N_TEST, 3, 32, 32) and len(test_labels) == N_TEST
    assert torch.allclose(test_images, normalize_images(raw_test, splits.mean, splits.std))


def test_normalisation_statistics_come_from_the_training_split_only(root):
    raw_images, _ = load_svhn("train", root=root)
    splits = load_svhn_splits(root=root, val_fraction=0.3)
    mean, std = channel_stats(raw_images[splits.train_indices])
    assert torch.equal(splits.mean, mean) and torch.equal(splits.std, std)
    all_mean, _ = channel_stats(raw_images)
    assert not torch.allclose(splits.mean, all_mean, atol=1e-6), (
        "validation images leaked into the statistics")
    per_channel = splits.train_images.transpose(0, 1).reshape(3, -1)
    assert torch.allclose(per_channel.mean(1), torch.zeros(3), atol=1e-4)
    assert torch.allclose(per_channel.std(1), torch.ones(3), atol=1e-3)


def test_channel_stats_matches_a_direct_computation_in_chunks():
    images = torch.randint(0, 256, (50, 3, 8, 8), dtype=torch.uint8)
    mean, std = channel_stats(images, chunk_size=7)
    scaled = images.double().transpose(0, 1).reshape(3, -1) / 255
    assert torch.allclose(mean.double(), scaled.mean(1), atol=1e-6)
    assert torch.allclose(std.double(), scaled.std(1, unbiased=False), atol=1e-6)


# --- augmentation ---------------------------------------------------------------------------------


def shift_of(original, shifted, max_shift):
    """The (dy, dx) by which ``shifted`` is ``original`` moved (zeros shifted in), or None."""
    s = max_shift
    padded = nn.functional.pad(original, (s, s, s, s))
    for dy in range(2 * s + 1):
        for dx in range(2 * s + 1):
            if torch.equal(padded[:, dy:dy + 32, dx:dx + 32], shifted):
                return dy - s, dx - s
    return None


def test_random_shift_moves_each_image_within_range_and_never_flips():
    generator = torch.Generator().manual_seed(0)
    images = torch.randn(64, 3, 32, 32, generator=generator)
    shifted = RandomShift(2, generator=torch.Generator().manual_seed(1))(images)
    assert shifted.shape == images.shape and shifted.dtype == images.dtype
    offsets = [shift_of(image, out, 2) for image, out in zip(images, shifted)]
    assert None not in offsets, ("every output is its own input moved by at most 2 pixels "
                                 "(so labels still fit)")
    assert len(set(offsets)) > 10, "each image gets its own random offset"
    for image, out in zip(images, shifted):
        assert shift_of(image.flip(-1), out, 2) is None  # not a mirror image
    assert torch.equal(RandomShift(0)(images), images)
    again = RandomShift(2, generator=torch.Generator().manual_seed(1))(images)
    assert torch.equal(again, shifted), "seeded: the same offsets again"


def test_random_shift_as_batch_transform_keeps_images_with_their_labels(root):
    splits = load_svhn_splits(root=root)
    seen = []

    def recording(inputs):
        out = RandomShift(2)(inputs)
        seen.append((inputs, out))
        return out

    seed_everything(0)
    model = CNN([4], in_channels=3)
    fit(model, TensorLoader(splits.train_images, splits.train_labels, batch_size=100, shuffle=True),
        TensorLoader(splits.val_images, splits.val_labels, batch_size=100), nn.CrossEntropyLoss(),
        torch.optim.SGD(model.parameters(), lr=0.01), epochs=1, batch_transform=recording,
        progress=False)
    assert len(seen) == 4  # training batches only, never the validation set
    for inputs, out in seen:
        assert out.shape == inputs.shape
        assert all(shift_of(a, b, 2) is not None for a, b in zip(inputs, out))


# --- checkpoint and resume on the SVHN training setup ---------------------------------------------


def svhn_run(splits, checkpoint_path, batch_transform, resume=False, epochs=3):
    """Train notebook 04's recipe, shrunk: BN + dropout CNN, AdamW + cosine, shifts, best kept."""
    seed_everything(0)
    model = CNN([6, 12], in_channels=3, batch_norm=True, dropout=0.3)
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=5e-4)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    train_loader = TensorLoader(splits.train_images, splits.train_labels, batch_size=64,
                                shuffle=True)
    val_loader = TensorLoader(splits.val_images, splits.val_labels, batch_size=256)
    history = fit(model, train_loader, val_loader, nn.CrossEntropyLoss(), optimizer, epochs,
                  scheduler=scheduler, batch_transform=batch_transform,
                  checkpoint_path=checkpoint_path, resume=resume,
                  config={"model": "svhn-test", "epochs": epochs}, progress=False)
    return model, history


@pytest.mark.usefixtures("full_epoch_counts")
def test_interrupted_svhn_run_keeps_its_checkpoint_and_resumes_to_the_same_result(root, tmp_path):
    splits = load_svhn_splits(root=root)
    full_model, full_history = svhn_run(splits, tmp_path / "uninterrupted.pt", RandomShift(2))

    batches_per_epoch = -(-len(splits.train_labels) // 64)
    shift, calls = RandomShift(2), []

    def ctrl_c_in_epoch_two(inputs):
        calls.append(1)
        if len(calls) == batches_per_epoch + 2:  # the user presses Ctrl-C in the middle of epoch 2
            raise KeyboardInterrupt
        return shift(inputs)

    path = tmp_path / "svhn.pt"
    _, history = svhn_run(splits, path, ctrl_c_in_epoch_two)
    assert history["interrupted"] and history["epoch"] == [1]
    checkpoint = load_checkpoint(path)  # torch.load(weights_only=True)
    assert checkpoint["epoch"] == 1 and checkpoint["history"]["epoch"] == [1]
    assert checkpoint["config"] == {"model": "svhn-test", "epochs": 3}
    best = CNN([6, 12], in_channels=3, batch_norm=True, dropout=0.3)
    load_checkpoint(path, best)  # the best weights so far load into a fresh model

    resumed_model, resumed_history = svhn_run(splits, path, RandomShift(2), resume=True)
    assert resumed_history["epoch"] == [1, 2, 3] and not resumed_history["interrupted"]
    for key in ("train_loss", "val_loss", "val_acc"):
        assert resumed_history[key] == pytest.approx(full_history[key], rel=1e-5), key
    for name, tensor in full_model.state_dict().items():
        assert torch.allclose(resumed_model.state_dict()[name].float(), tensor.float(),
                              atol=1e-5), name
    assert load_checkpoint(path)["best_model"].keys() == full_model.state_dict().keys()
