"""helpers.stats against values computed by hand or published, and the edge cases."""

import math

import numpy as np
import pytest

from helpers.stats import mcnemar, paired_difference, wilson_interval


def test_paired_difference_is_the_t_interval_of_the_differences():
    # differences 2, 1, 3: mean 2, sd 1, sem 1/sqrt(3); t(0.975, 2) = 4.302652729911275
    result = paired_difference([12, 11, 13], [10, 10, 10], unit="", scale=1)
    half = 4.302652729911275 / math.sqrt(3)
    assert result.mean == pytest.approx(2)
    assert (result.low, result.high) == (pytest.approx(2 - half), pytest.approx(2 + half))
    assert not result.detectable and result.direction == 0 and result.n == 3   # the CI holds 0
    assert str(result) == "+2.00, 95% CI [-0.48, +4.48], paired t over 3 seeds"
    steady = paired_difference([12, 12.2, 11.8], [10, 10, 10], unit="", scale=1)
    assert steady.detectable and steady.direction == 1


def test_paired_difference_refuses_unpaired_inputs():
    with pytest.raises(ValueError, match="same seeds"):
        paired_difference([0.9, 0.8], [0.9])


def test_wilson_interval_matches_the_published_formula():
    # Wilson (1927) for 25 errors of 447 images at z = 1.959964
    rate = wilson_interval(25, 447)
    z, p, n = 1.959963984540054, 25 / 447, 447
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    assert (rate.low, rate.high) == (pytest.approx(centre - half), pytest.approx(centre + half))
    assert str(rate).startswith("5.59% (25 of 447), 95% CI [")
    with pytest.raises(ValueError):
        wilson_interval(5, 0)


def test_mcnemar_counts_the_discordant_images_and_tests_them_exactly():
    correct_a = np.array([True] * 90 + [True] * 8 + [False] * 2)
    correct_b = np.array([True] * 90 + [False] * 8 + [True] * 2)
    result = mcnemar(correct_a, correct_b)
    assert (result.only_a, result.only_b) == (8, 2)
    assert result.p_value == pytest.approx(0.109375)   # 2 * P(X <= 2), X ~ Bin(10, 1/2)
    assert not result.detectable and result.direction == 0
    assert result.mean == pytest.approx(0.06)
    assert result.low < 0 < result.high   # the interval agrees with the test
    strong = mcnemar([True] * 30 + [False] * 70, [False] * 30 + [False] * 70)
    assert strong.detectable and strong.direction == 1 and strong.p_value < 1e-8


def test_mcnemar_with_identical_predictions_finds_nothing():
    same = mcnemar([True, False, True], [True, False, True])
    assert same.p_value == 1.0 and not same.detectable


def test_mcnemar_interval_and_test_agree_on_every_split_of_the_discordant_images():
    for only_a in range(0, 41):
        correct_a = np.array([True] * only_a + [False] * (40 - only_a) + [True] * 460)
        correct_b = np.array([False] * only_a + [True] * (40 - only_a) + [True] * 460)
        result = mcnemar(correct_a, correct_b)
        assert result.detectable == (result.low > 0 or result.high < 0)
        assert (result.p_value < 0.05) == result.detectable, (only_a, result)


def test_a_difference_without_spread_prints_no_zero_width_interval():
    """Three seeds with the same difference print as such, not as a '95% CI [-1.00, -1.00]'."""
    result = paired_difference([1, 1, 1], [2, 2, 2], unit="epochs", scale=1)
    assert str(result) == ("-1.00 epochs on each of the 3 seeds, paired t over 3 seeds: no spread "
                           "between seeds, so no interval")
    assert not result.detectable and result.direction == 0  # 3 seeds: not even a sign test's 5%
