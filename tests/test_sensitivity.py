"""Tornado tables: each end of each interval, checked against a model rebuilt with that override."""

from __future__ import annotations

import pytest

from model import build_model, diagnose
from model.sensitivity import tornado

CASE = {"context": {"age_band": "25_34"}, "findings": {"test_chlamydia": True}}


def test_the_test_accuracy_moves_a_positive_test_most(shipped_model):
    table = tornado(shipped_model, CASE, "chlamydia")
    assert table.index[0] in ("finding_leaks:test_chlamydia", "cause_base_rates:chlamydia")
    assert list(table.swing) == sorted(table.swing, reverse=True)
    assert table.attrs["posterior"] == pytest.approx(
        diagnose(shipped_model, CASE).posteriors["chlamydia"], abs=1e-12
    )


@pytest.mark.parametrize(
    "pid",
    [
        "finding_leaks:test_chlamydia",
        "risk_factors:chlamydia:sti_risk=yes",
        "context_prevalence:age_band=25_34",
    ],
)
def test_each_end_equals_a_rebuilt_model(shipped_knowledge, shipped_model, pid):
    table = tornado(shipped_model, CASE, "chlamydia", parameters=[pid])
    p = shipped_knowledge.parameters[pid]
    for end, column in ((p.ci_low, "at_low"), (p.ci_high, "at_high")):
        rebuilt = build_model(shipped_knowledge, overrides={pid: end})
        expected = diagnose(rebuilt, CASE, engine="pgmpy").posteriors["chlamydia"]
        assert table.loc[pid, column] == pytest.approx(expected, abs=1e-9)


def test_unknown_cause_is_refused(shipped_model):
    with pytest.raises(ValueError, match="unknown cause"):
        tornado(shipped_model, CASE, "flu")


def test_a_link_is_never_moved_below_its_leak(shipped_knowledge, shipped_model):
    """The knowledge base refuses a link below its leak; the tornado narrows that end to the leak."""
    pid = "finding_links:gonorrhea:exam_mucopurulent_cervicitis"
    case = {"findings": {"exam_mucopurulent_cervicitis": True}}
    row = tornado(shipped_model, case, "gonorrhea", parameters=[pid]).loc[pid]
    leak = shipped_knowledge.parameters["finding_leaks:exam_mucopurulent_cervicitis"].value
    assert row.low == max(shipped_knowledge.parameters[pid].ci_low, leak)
    prior = diagnose(shipped_model, {}).posteriors["gonorrhea"]
    assert row.at_low >= prior - 1e-12  # a positive finding never lowers its cause


def test_an_end_that_makes_the_case_impossible_is_flagged_first(shipped_model):
    case = {"context": {"age_band": "under_25", "menopause": "peri"}, "findings": {}}
    table = tornado(shipped_model, case, "chlamydia")
    assert table.impossible.iloc[0] and table.index[0].startswith("context_prevalence:menopause=")
    assert not table.impossible.iloc[-1]


def test_nothing_to_vary_is_a_clear_error(shipped_model):
    with pytest.raises(ValueError, match="no parameter with a 95% interval"):
        tornado(shipped_model, CASE, "chlamydia", parameters=[])
