"""helpers.claims: a false claim stops a full run, a
smoke run shows it unchecked, the record is stored."""

import numpy as np
import pytest

from helpers.claims import Claim, ClaimFailed, claim, conclusion


def test_a_true_claim_is_shown_with_its_evidence_and_record():
    item = claim("every seed is worse", (np.array([-0.7, -1.1]) < 0).all(),
                 evidence="-0.7, -1.1 points")
    markdown, metadata = item._repr_markdown_()
    assert markdown == "✓ every seed is worse *(-0.7, -1.1 points)*"
    assert metadata == {"helpers": {"claim": "every seed is worse", "holds": True}}
    assert str(item) == "✓ every seed is worse (-0.7, -1.1 points)"


def test_a_false_claim_stops_a_full_run_with_statement_and_evidence(monkeypatch):
    monkeypatch.setenv("HELPERS_SMOKE", "0")
    with pytest.raises(ClaimFailed,
                       match=r"'the sign changes from seed to seed'.*all five negative"):
        claim("the sign changes from seed to seed", False, evidence="all five negative")


def test_a_smoke_run_shows_a_false_claim_unchecked(monkeypatch):
    monkeypatch.setenv("HELPERS_SMOKE", "1")
    item = claim("the CNN wins", np.bool_(False))
    assert item == Claim("the CNN wins", False, "")
    assert item._repr_markdown_()[0].startswith("✗ *(not checked: smoke run)* the CNN wins")


def test_a_conclusion_lists_its_claims_and_records_each(monkeypatch):
    monkeypatch.setenv("HELPERS_SMOKE", "0")
    shown = conclusion("Depth does not help here.", claim("a", True, "1 < 2"), claim("b", 1 > 0))
    markdown, metadata = shown._repr_markdown_()
    assert markdown.splitlines() == ["**Conclusion.** Depth does not help here.", "",
                                     "- ✓ a *(1 < 2)*", "- ✓ b"]
    assert metadata["helpers"]["claims"] == [{"claim": "a", "holds": True},
                                             {"claim": "b", "holds": True}]
    assert str(shown) == "Depth does not help here.\n- ✓ a (1 < 2)\n- ✓ b"
