import numpy as np
import pytest
import torch

from helpers.data import make_rings, polar_features, rings_path, stratified_split
from helpers.data.toy2d import DISC_RADIUS, RING_RADII, RINGS_SPLITS, save_rings


def load_rings(split):
    """One split of the 2D data as notebook 01's Dataset reads it: (N, 2) float32, (N,) int64."""
    with np.load(rings_path(split)) as npz:
        return npz["samples"], npz["annotations"]


def test_make_rings_shapes_dtypes_and_balance():
    samples, annotations = make_rings(1000, seed=3)
    assert samples.shape == (1000, 2) and samples.dtype == np.float32
    assert annotations.shape == (1000,) and annotations.dtype == np.int64
    assert set(np.unique(annotations)) == {0, 1}
    assert annotations.sum() == 500


def test_make_rings_radii_lie_in_their_class_regions():
    samples, annotations = make_rings(2000, seed=4)
    radius = np.linalg.norm(samples, axis=1)
    assert radius[annotations == 0].max() <= DISC_RADIUS + 1e-5
    assert radius[annotations == 1].min() >= RING_RADII[0] - 1e-5
    assert radius[annotations == 1].max() <= RING_RADII[1] + 1e-5


def test_make_rings_is_centred_and_uniform_in_angle():
    samples, annotations = make_rings(4000, seed=5)
    assert np.abs(samples.mean(axis=0)).max() < 0.1
    angle = np.arctan2(samples[:, 1], samples[:, 0])
    counts, _ = np.histogram(angle, bins=4, range=(-np.pi, np.pi))
    assert counts.min() > 0.2 * len(samples)  # each quadrant holds about a quarter


def test_make_rings_uniform_by_area_in_disc():
    # uniform by area: half of the disc points lie within radius 1/sqrt(2)
    samples, annotations = make_rings(20000, seed=6)
    radius = np.linalg.norm(samples[annotations == 0], axis=1)
    assert abs(np.mean(radius < DISC_RADIUS / np.sqrt(2)) - 0.5) < 0.02


def test_make_rings_seeded():
    a, b = make_rings(100, seed=7), make_rings(100, seed=7)
    c = make_rings(100, seed=8)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])


def test_shipped_files_are_what_the_generator_makes(tmp_path):
    save_rings(tmp_path)
    for split, (n, _) in RINGS_SPLITS.items():
        shipped_samples, shipped_annotations = load_rings(split)
        assert shipped_samples.shape == (n, 2) and shipped_samples.dtype == np.float32
        assert shipped_annotations.dtype == np.int64
        with np.load(tmp_path / f"{split}.npz") as fresh:
            assert np.array_equal(fresh["samples"], shipped_samples)
            assert np.array_equal(fresh["annotations"], shipped_annotations)


def test_rings_path_regenerates_when_shipped_file_is_missing(tmp_path, monkeypatch):
    monkeypatch.setattr("helpers.data.toy2d.RINGS_DIR", tmp_path / "absent")
    (tmp_path / "root").mkdir()
    monkeypatch.setenv("HELPERS_DATA", str(tmp_path / "root"))
    path = rings_path("val")
    assert path == tmp_path / "root" / "2d" / "val.npz" and path.is_file()
    assert np.array_equal(load_rings("val")[0], make_rings(*RINGS_SPLITS["val"])[0])


def test_rings_path_rejects_unknown_split():
    with pytest.raises(ValueError, match="split"):
        rings_path("test")


def test_polar_features_on_known_points():
    points = torch.tensor([[1.0, 0.0], [0.0, 2.0], [-3.0, 0.0], [0.0, -1.0], [1.0, 1.0]])
    expected = torch.tensor([[1.0, 0.0], [2.0, np.pi / 2], [3.0, np.pi], [1.0, -np.pi / 2],
                             [np.sqrt(2), np.pi / 4]],
                            dtype=torch.float32)
    assert torch.allclose(polar_features(points), expected, atol=1e-6)


def test_polar_features_separates_the_rings_by_radius():
    samples, annotations = make_rings(500, seed=9)
    r = polar_features(torch.tensor(samples))[:, 0].numpy()
    assert r[annotations == 0].max() < r[annotations == 1].min()


def test_polar_features_rejects_wrong_shape():
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        polar_features(torch.zeros(5, 3))


def test_stratified_split_is_disjoint_complete_and_balanced():
    labels = np.repeat(np.arange(4), [100, 200, 300, 400])
    kept, held_out = stratified_split(labels, 0.1, seed=0)
    assert len(np.intersect1d(kept, held_out)) == 0
    assert np.array_equal(np.sort(np.concatenate([kept, held_out])), np.arange(len(labels)))
    assert np.array_equal(np.bincount(labels[held_out]), [10, 20, 30, 40])
    again = stratified_split(labels, 0.1, seed=0)
    assert np.array_equal(again[1], held_out)
