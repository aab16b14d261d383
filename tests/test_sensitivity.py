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
