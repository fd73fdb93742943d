"""One standard of evidence for every comparison the notebooks make.

Three tests, each returning a result that knows its interval and prints itself as evidence:

- :func:`paired_difference`: two variants trained with the same seeds; the mean of the per-seed
  differences with its 95% confidence interval (Student's t with n - 1 degrees of freedom).
- :func:`wilson_interval`: an error rate measured on n test images, with its 95% Wilson interval.
- :func:`mcnemar`: two models on the same test images; the exact McNemar test on the images that
  exactly one of them gets right, with a 95% interval for the difference in accuracy.

A difference is *detectable* when its interval excludes 0 (McNemar: p < 0.05). Otherwise the honest
statement is "no detectable difference at this budget", never a win. One seed gives no interval.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

CONFIDENCE = 0.95


@dataclass(frozen=True)
class Difference:
    """A difference ``a - b`` with its confidence interval ``[low, high]`` and the test behind it.

    ``unit`` is how the numbers print ("points" for percentage points, "" for plain numbers);
    ``scale`` multiplies them for printing (100 turns accuracies in [0, 1] into points)."""

    mean: float
    low: float
    high: float
    n: int
    test: str
    unit: str = "points"
    scale: float = 1.0
    digits: int = 2

    @property
    def detectable(self) -> bool:
        """True when the interval excludes 0: the data show a difference at this confidence."""
        return bool(self.low > 0 or self.high < 0)

    @property
    def direction(self) -> int:
        """+1 when ``a`` is detectably larger, -1 when detectably smaller, 0 when undecided."""
        return 0 if not self.detectable else (1 if self.mean > 0 else -1)

    def interval(self) -> list[float | None]:
        """``[low, high]`` as printed (scaled): what a claim's metadata records.

        ``None`` stands for an unbounded end (one seed, or no spread between seeds): JSON, and so a
        notebook's metadata, has no infinity.
        """
        return [round(end * self.scale, 6) if math.isfinite(end) else None
                for end in (self.low, self.high)]

    def __str__(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        mean, low, high = (f"{value * self.scale:+.{self.digits}f}"
                           for value in (self.mean, self.low, self.high))
        if self.test.endswith("the same difference on every seed"):
            test = self.test.split(",")[0]
            return (f"{mean}{unit} on each of the {self.n} seeds, {test}: no spread between seeds,"
                    " so no interval")
        if not math.isfinite(self.low):
            return f"{mean}{unit}, {self.test}: no interval"
        return f"{mean}{unit}, {CONFIDENCE:.0%} CI [{low}, {high}], {self.test}"


def paired_difference(a, b, unit: str = "points", scale: float = 100.0,
                      digits: int = 2) -> Difference:
    """Mean per-seed difference ``a - b`` with its 95% t-interval.

    Args:
        a, b: one value per seed, seed i of ``a`` paired with seed i of ``b`` (shape ``(n,)``),
            e.g. test accuracies in [0, 1] (then ``scale=100`` prints percentage points).
    Returns:
        a :class:`Difference`; with one seed its interval is infinite, so it is never detectable.
    """
    a, b = np.asarray(a, dtype=float).ravel(), np.asarray(b, dtype=float).ravel()
    if a.shape != b.shape or a.size == 0:
        raise ValueError(f"a paired comparison needs the same seeds on both sides: got {a.size} "
                         f"and {b.size} values")
    differences = a - b
    n, mean = differences.size, float(differences.mean())
    test = f"paired t over {n} seed{'s' if n != 1 else ''}"
    if n < 2:
        return Difference(mean, -math.inf, math.inf, n, test, unit, scale, digits)
    sem = float(differences.std(ddof=1)) / math.sqrt(n)
    if sem == 0:
        # The same difference on every seed (e.g. whole epochs, or two models at 100%): the t
        # statistic is undefined, and a zero-width interval would claim certainty that a few
        # seeds cannot give (with 3 seeds, even a sign test cannot reach 5%). So: no interval,
        # never detectable, the same rule as one seed.
        return Difference(mean, -math.inf, math.inf, n,
                          test + ", the same difference on every seed", unit, scale, digits)
    half = float(stats.t.ppf(0.5 + CONFIDENCE / 2, n - 1)) * sem
    return Difference(mean, mean - half, mean + half, n, test, unit, scale, digits)


@dataclass(frozen=True)
class Rate:
    """An error rate ``errors / n`` with its 95% Wilson interval ``[low, high]``."""

    errors: int
    n: int
    low: float
    high: float
    test: str = "Wilson interval"

    @property
    def rate(self) -> float:
        """The measured rate, ``errors / n``."""
        return self.errors / self.n

    def interval(self) -> list[float]:
        """``[low, high]`` in percent, as printed."""
        return [round(self.low * 100, 6), round(self.high * 100, 6)]

    def __str__(self) -> str:
        return (f"{self.rate:.2%} ({self.errors} of {self.n:,}), {CONFIDENCE:.0%} CI "
                f"[{self.low:.2%}, {self.high:.2%}], {self.test}")


def wilson_interval(errors: int, n: int) -> Rate:
    """The error rate of ``errors`` mistakes on ``n`` images, with its 95% Wilson interval."""
    errors, n = int(errors), int(n)
    if n <= 0 or not 0 <= errors <= n:
        raise ValueError(f"an error rate needs 0 <= errors <= n and n > 0: got {errors} of {n}")
    interval = stats.binomtest(errors, n).proportion_ci(CONFIDENCE, method="wilson")
    return Rate(errors, n, float(interval.low), float(interval.high))


@dataclass(frozen=True)
class McNemar(Difference):
    """Accuracy of ``a`` minus accuracy of ``b`` on the same images, with McNemar's exact test.

    ``only_a`` images only ``a`` gets right, ``only_b`` only ``b``; ``p_value`` is the exact
    two-sided binomial test on those discordant images. The interval comes from the same test (the
    exact Clopper-Pearson interval of the share of discordant images that ``a`` gets right), so it
    excludes 0 exactly when the test finds a difference."""

    only_a: int = 0
    only_b: int = 0
    p_value: float = 1.0

    def __str__(self) -> str:
        return (f"{super().__str__()}: {self.only_a} images only the first gets right, "
                f"{self.only_b} only the second, p = {self.p_value:.2g}")


def mcnemar(correct_a, correct_b, digits: int = 2) -> McNemar:
    """Compare two models on the same test images.

    Args:
        correct_a, correct_b: booleans, one per test image (shape ``(n,)``), whether each model
            classified that image correctly.
    Returns:
        a :class:`McNemar`: the accuracy difference ``a - b`` in points, its 95% exact interval
        and the exact McNemar p-value (the interval excludes 0 when the test rejects).
    """
    correct_a = np.asarray(correct_a, dtype=bool).ravel()
    correct_b = np.asarray(correct_b, dtype=bool).ravel()
    if correct_a.shape != correct_b.shape or correct_a.size == 0:
        raise ValueError("McNemar's test needs both models' results on the same images: got "
                         f"{correct_a.size} and {correct_b.size}")
    n = correct_a.size
    only_a = int((correct_a & ~correct_b).sum())
    only_b = int((~correct_a & correct_b).sum())
    discordant = only_a + only_b
    mean = (only_a - only_b) / n
    if discordant == 0:
        low = high = 0.0
        p_value = 1.0
    else:
        test = stats.binomtest(only_a, discordant)
        share = test.proportion_ci(CONFIDENCE, method="exact")   # of discordant images, a's
        low, high = (discordant * (2 * share.low - 1) / n, discordant * (2 * share.high - 1) / n)
        p_value = float(test.pvalue)
    return McNemar(mean, low, high, n, f"McNemar's exact test on {n:,} images", "points", 100.0,
                   digits, only_a, only_b, p_value)


# --- a loss series: its moving average and its spikes (notebook 05) ------------------------------


def smooth(values, window: int = 20) -> np.ndarray:
    """Return the moving average over the last ``window`` values (fewer at the start).

    The result has the length of ``values``.
    """
    values = np.asarray(values, dtype=float)
    cumulative = np.cumsum(np.insert(values, 0, 0.0))
    ends = np.arange(1, len(values) + 1)
    starts = np.maximum(ends - window, 0)
    return (cumulative[ends] - cumulative[starts]) / (ends - starts)


def find_spikes(losses, window: int = 20, factor: float = 5.0, floor: float = 0.05) -> list[int]:
    """Return the indices of batches whose loss is a spike.

    A spike: over ``factor`` x the median of the ``window`` losses before it, and over ``floor``
    (so that noise at a loss of 0.0001 does not count).
    """
    losses = np.asarray(losses)
    return [i for i in range(window, len(losses))
            if losses[i] > floor and losses[i] > factor * np.median(losses[i - window:i])]
