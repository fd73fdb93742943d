"""Conclusions bound to the run shown beside them, judged by one standard of evidence.

A conclusion states things about results. Written as a claim, such a statement is checked against
the results of the run::

    claim("every seed of the 4-layer MLP is below the 3-layer one", (difference < 0).all(),
          evidence=f"paired differences {difference.round(2).tolist()} points")

A claim that *compares* (better, worse, wins, helps, hurts, faster, no difference) is decided by a
test of :mod:`helpers.stats`, never by eye; :func:`compared` asserts a direction and
:func:`verdict` writes the sentence from the result::

    result = paired_difference(acc_bn, acc_plain)          # same seeds on both sides
    compared("batch norm raises the test accuracy", result, expect="higher")
    verdict("the MLP with batch norm", "the plain MLP", result, what="test accuracy")

Their evidence carries the difference, its 95% interval and the test ("+1.60 points, 95% CI
[+0.40, +2.80], paired t over 3 seeds"), and so does the output's metadata. A difference whose
interval contains 0 can only be stated as "no detectable difference at this budget".

When a claim does not hold:

- ``make notebooks`` (``HELPERS_STRICT=1``) raises :class:`ClaimFailed`: a notebook whose
  text its own run contradicts is never stored;
- any other run (a student's, another seed, other data, a GPU) shows it as "✗ not supported by
  this run" with its evidence, and the notebook goes on;
- a smoke run (tiny data, two epochs) shows every claim unchecked.

Each claim's output carries ``{"helpers": {"claim": ..., "holds": ..., "test": ..., "interval":
...}}`` metadata, which the tests read.
"""

from __future__ import annotations

from dataclasses import dataclass

from helpers.settings import claims_must_hold, smoke_mode
from helpers.stats import Difference


class ClaimFailed(AssertionError):
    """A statement of a conclusion that the results do not support."""


@dataclass(frozen=True)
class Claim:
    """One checked statement: what the text says, whether the run supports it, and the numbers.

    ``test`` and ``interval`` name the statistical test and the 95% interval that decided a
    comparative claim (see :func:`compared`); plain claims have neither."""

    statement: str
    holds: bool
    evidence: str = ""
    test: str | None = None
    interval: tuple[float, float] | None = None

    def mark(self, markdown: bool = False) -> str:
        """✓ for a claim that holds; else why it is shown although it does not."""
        if self.holds:
            return "✓"
        reason = "not checked: smoke run" if smoke_mode() else "not supported by this run"
        return f"✗ *({reason})*" if markdown else f"✗ ({reason})"

    def __str__(self) -> str:
        return f"{self.mark()} {self.statement}" + (f" ({self.evidence})" if self.evidence else "")

    def __repr__(self) -> str:
        return str(self)

    def _metadata(self) -> dict:
        # "checked": this run would have stopped at a false claim (make notebooks, full mode), so
        # the tests can tell a stored notebook from a smoke run or a user's run
        record = {"claim": self.statement, "holds": self.holds,
                  "checked": claims_must_hold() and not smoke_mode()}
        if self.test is not None:
            record.update(test=self.test, interval=list(self.interval or ()))
        return {"helpers": record}

    def _repr_markdown_(self):
        return _markdown_line(self), self._metadata()


def _markdown_line(item: Claim) -> str:
    return (f"{item.mark(markdown=True)} {item.statement}"
            + (f" *({item.evidence})*" if item.evidence else ""))


def _checked(item: Claim) -> Claim:
    """``item`` itself; raises :class:`ClaimFailed` when it is false and claims must hold."""
    if not item.holds and claims_must_hold() and not smoke_mode():
        raise ClaimFailed(f"the notebook says: {item.statement!r}, but its run shows otherwise"
                          + (f": {item.evidence}" if item.evidence else ""))
    return item


def claim(statement: str, holds, evidence: str = "") -> Claim:
    """Check ``statement`` against ``holds`` (anything with a truth value, e.g. a numpy bool).

    For statements that compare two variants use :func:`compared` or :func:`verdict` instead."""
    return _checked(Claim(statement, bool(holds), evidence))


#: What :func:`compared` accepts as ``expect``, and when each holds.
EXPECTATIONS = {
    "higher": lambda result: result.direction > 0,
    "lower": lambda result: result.direction < 0,
    "no difference": lambda result: result.direction == 0,
}


def compared(statement: str, result: Difference, expect: str, evidence: str = "") -> Claim:
    """A comparative claim, decided by a test of :mod:`helpers.stats`.

    Args:
        statement: what the text says, e.g. "batch norm raises the test accuracy".
        result: a :class:`~helpers.stats.Difference` (``a - b``), e.g. from ``paired_difference``
            or ``mcnemar``.
        expect: ``"higher"`` (``a`` detectably above ``b``), ``"lower"``, or ``"no difference"``
            (the interval contains 0: the statement must say so, e.g. "no detectable difference").
        evidence: more numbers to show before the test's own.
    """
    if expect not in EXPECTATIONS:
        raise ValueError(f"expect must be one of {sorted(EXPECTATIONS)}, not {expect!r}")
    shown = "; ".join(part for part in (evidence, str(result)) if part)
    return _checked(Claim(statement, EXPECTATIONS[expect](result), shown, result.test,
                          tuple(result.interval())))


def verdict(name_a: str, name_b: str, result: Difference, what: str = "test accuracy",
            evidence: str = "") -> Claim:
    """The sentence the result supports about ``name_a`` against ``name_b``, and its evidence.

    It always holds, since it is written from the result: "A has the higher test accuracy", "A has
    the lower test accuracy", or "no detectable difference in test accuracy between A and B at
    this budget". Use it where the run decides the outcome; use :func:`compared` where the text
    around it depends on one outcome."""
    if result.direction > 0:
        statement = f"{name_a} has a higher {what} than {name_b}"
    elif result.direction < 0:
        statement = f"{name_a} has a lower {what} than {name_b}"
    else:
        statement = (f"no detectable difference in {what} between {name_a} and {name_b} "
                     "at this budget")
    expect = {1: "higher", -1: "lower", 0: "no difference"}[result.direction]
    return compared(statement, result, expect, evidence)


@dataclass(frozen=True)
class Conclusion:
    """A short conclusion: a lead, then its claims as a list (Markdown in a notebook).

    The lead is either a :class:`Claim` (checked like the others) or a plain sentence that states
    no result (a question, "In short:"): results live in claims."""

    lead: str | Claim
    claims: tuple[Claim, ...]

    def __str__(self) -> str:
        return "\n".join([str(self.lead), *(f"- {item}" for item in self.claims)]).strip()

    def __repr__(self) -> str:
        return str(self)

    def _repr_markdown_(self):
        lead = _markdown_line(self.lead) if isinstance(self.lead, Claim) else self.lead
        lines = [f"**Conclusion.** {lead}".rstrip(), ""]
        lines += [f"- {_markdown_line(item)}" for item in self.claims]
        records = [item._metadata()["helpers"] for item in self.claims]
        if isinstance(self.lead, Claim):
            records.insert(0, self.lead._metadata()["helpers"])
        metadata = {"helpers": {"claims": records}}
        if isinstance(self.lead, str):
            metadata["helpers"]["lead"] = self.lead
        return "\n".join(lines), metadata


def conclusion(lead: str | Claim, *claims: Claim) -> Conclusion:
    """A conclusion to display as a cell's last expression: ``conclusion("In short:", claim(...))``.

    A lead that states a result must be a claim (``conclusion(verdict(...), claim(...))``)."""
    return Conclusion(lead, claims)
