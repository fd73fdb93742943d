"""helpers.claims: a false claim stops the storing run and is shown as not supported elsewhere.

The storing run is make notebooks; in anyone else's run a false claim is shown as not supported,
and in a smoke run it is unchecked; comparative claims carry their test.
"""

import numpy as np
import pytest

from helpers.claims import Claim, ClaimFailed, claim, compared, conclusion, verdict
from helpers.stats import paired_difference


def test_a_true_claim_is_shown_with_its_evidence_and_record():
    item = claim("every seed is worse", (np.array([-0.7, -1.1]) < 0).all(),
                 evidence="-0.7, -1.1 points")
    markdown, metadata = item._repr_markdown_()
    assert markdown == "✓ every seed is worse *(-0.7, -1.1 points)*"
    assert metadata == {"helpers": {"claim": "every seed is worse", "holds": True,
                                    "checked": False}}
    assert str(item) == "✓ every seed is worse (-0.7, -1.1 points)"


def test_a_false_claim_stops_the_storing_run_with_statement_and_evidence(monkeypatch):
    monkeypatch.setenv("HELPERS_SMOKE", "0")
    monkeypatch.setenv("HELPERS_STRICT", "1")
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
    monkeypatch.setenv("HELPERS_STRICT", "1")
    shown = conclusion("Depth does not help here.", claim("a", True, "1 < 2"), claim("b", 1 > 0))
    markdown, metadata = shown._repr_markdown_()
    assert markdown.splitlines() == ["**Conclusion.** Depth does not help here.", "",
                                     "- ✓ a *(1 < 2)*", "- ✓ b"]
    assert metadata["helpers"]["claims"] == [{"claim": "a", "holds": True, "checked": True},
                                             {"claim": "b", "holds": True, "checked": True}]
    assert metadata["helpers"]["lead"] == "Depth does not help here."
    assert str(shown) == "Depth does not help here.\n- ✓ a (1 < 2)\n- ✓ b"
    assert repr(shown) == str(shown)   # what a plain-text viewer shows: no dataclass repr


def test_outside_the_storing_run_a_false_claim_is_shown_not_raised(monkeypatch):
    monkeypatch.setenv("HELPERS_SMOKE", "0")
    monkeypatch.delenv("HELPERS_STRICT", raising=False)
    item = claim("the CNN wins", False, evidence="-0.4 points")
    assert str(item) == "✗ (not supported by this run) the CNN wins (-0.4 points)"
    assert item._repr_markdown_()[1] == {"helpers": {"claim": "the CNN wins", "holds": False,
                                                     "checked": False}}


def test_a_comparative_claim_carries_its_test_and_interval(monkeypatch):
    monkeypatch.setenv("HELPERS_SMOKE", "0")
    monkeypatch.setenv("HELPERS_STRICT", "1")
    result = paired_difference([0.97, 0.96, 0.975], [0.95, 0.945, 0.952])
    item = compared("batch norm raises the accuracy", result, expect="higher")
    record = item._repr_markdown_()[1]["helpers"]
    assert record["holds"] and record["test"] == "paired t over 3 seeds"
    low, high = record["interval"]
    assert 0 < low < result.mean * 100 < high
    assert "95% CI [" in item.evidence and "paired t over 3 seeds" in item.evidence
    with pytest.raises(ClaimFailed):
        compared("batch norm lowers the accuracy", result, expect="lower")
    with pytest.raises(ClaimFailed):   # a detectable difference is not "no difference"
        compared("no detectable difference", result, expect="no difference")
    with pytest.raises(ValueError):
        compared("wins", result, expect="wins")


def test_an_interval_containing_zero_is_never_a_win(monkeypatch):
    monkeypatch.setenv("HELPERS_SMOKE", "0")
    monkeypatch.setenv("HELPERS_STRICT", "1")
    result = paired_difference([0.957, 0.968], [0.959, 0.953])   # +0.65 points over 2 seeds
    assert not result.detectable
    with pytest.raises(ClaimFailed):
        compared("the VGG with batch norm wins", result, expect="higher")
    said = verdict("the VGG with batch norm", "the MLP", result)
    assert said.holds and said.statement.startswith("no detectable difference in test accuracy")


def test_one_seed_never_decides(monkeypatch):
    result = paired_difference([0.99], [0.90])
    assert not result.detectable and "no interval" in str(result)
    assert verdict("A", "B", result).statement.startswith("no detectable difference")


def test_a_verdict_names_the_direction_the_test_found():
    higher = paired_difference([0.9, 0.91, 0.92], [0.8, 0.82, 0.81])
    assert verdict("A", "B", higher).statement == "A has a higher test accuracy than B"
    assert verdict("B", "A", paired_difference([0.8, 0.82, 0.81], [0.9, 0.91, 0.92])).statement \
        == "B has a lower test accuracy than A"


def test_a_claim_as_lead_is_checked_and_recorded(monkeypatch):
    monkeypatch.setenv("HELPERS_SMOKE", "0")
    lead = verdict("A", "B", paired_difference([0.9, 0.91, 0.92], [0.8, 0.82, 0.81]))
    markdown, metadata = conclusion(lead, claim("b", True))._repr_markdown_()
    assert markdown.startswith("**Conclusion.** ✓ A has a higher test accuracy than B *(+")
    assert [record["claim"] for record in metadata["helpers"]["claims"]] == [lead.statement, "b"]
    assert "lead" not in metadata["helpers"]
