"""Conclusions bound to the run shown beside them.

A conclusion states things about results ("the 4-layer MLP is worse on every seed"). Written as a
claim, such a statement is checked against the results when the notebook runs in full mode::

    claim("the 4-layer MLP is worse than the 3-layer one on every seed", (difference < 0).all(),
          evidence=f"paired differences {difference.round(2).tolist()} points")

A claim that does not hold raises :class:`ClaimFailed` with the statement and its evidence, which
stops ``make notebooks``: a notebook whose text its own run contradicts is never stored. In smoke
mode (tiny data, two epochs) results mean nothing, so claims are shown but not checked. The stored
notebook shows every claim with its evidence; its output carries
``{"helpers": {"claim": ..., "holds": ...}}`` metadata, which the tests read.
"""

from __future__ import annotations

from dataclasses import dataclass

from helpers.settings import smoke_mode


class ClaimFailed(AssertionError):
    """A statement of a conclusion that the results do not support."""


@dataclass(frozen=True)
class Claim:
    """One checked statement: what the text says,
    whether the run supports it, and the numbers why."""

    statement: str
    holds: bool
    evidence: str = ""

    def __str__(self) -> str:
        mark = "✓" if self.holds else "✗ (not checked: smoke run)"
        return f"{mark} {self.statement}" + (f" ({self.evidence})" if self.evidence else "")

    def _metadata(self) -> dict:
        return {"helpers": {"claim": self.statement, "holds": self.holds}}

    def _repr_markdown_(self):
        return _markdown_line(self), self._metadata()


def _markdown_line(item: Claim) -> str:
    mark = "✓" if item.holds else "✗ *(not checked: smoke run)*"
    return f"{mark} {item.statement}" + (f" *({item.evidence})*" if item.evidence else "")


def claim(statement: str, holds, evidence: str = "") -> Claim:
    """Check ``statement`` against ``holds`` (anything with a truth value, e.g. a numpy bool).

    Full mode: raise ClaimFailed when it does not hold. Smoke mode: return it unchecked, marked ✗.
    """
    item = Claim(statement, bool(holds), evidence)
    if not item.holds and not smoke_mode():
        raise ClaimFailed(f"the notebook says: {statement!r}, but its run shows otherwise"
                          + (f": {evidence}" if evidence else ""))
    return item


@dataclass(frozen=True)
class Conclusion:
    """A short conclusion: an optional lead sentence, then
    its claims as a list (Markdown in a notebook)."""

    lead: str
    claims: tuple[Claim, ...]

    def __str__(self) -> str:
        return "\n".join([self.lead, *(f"- {item}" for item in self.claims)]).strip()

    def _repr_markdown_(self):
        lines = [f"**Conclusion.** {self.lead}".rstrip(), ""]
        lines += [f"- {_markdown_line(item)}" for item in self.claims]
        metadata = {"helpers": {"claims": [item._metadata()["helpers"] for item in self.claims]}}
        return "\n".join(lines), metadata


def conclusion(lead: str, *claims: Claim) -> Conclusion:
    """A conclusion to display as a cell's last expression:
    ``conclusion("In short:", claim(...), ...)``."""
    return Conclusion(lead, claims)
