"""Parameter draws and credible intervals: seeded, centred on the cited values, honest about width."""

from __future__ import annotations

import numpy as np
import pytest

from model.errors import ArgumentError
from model.uncertainty import MAX_DRAWS, parameter_draws, posterior_intervals

CASE = {"context": {"age_band": "25_34", "menopause": "pre"}, "findings": {"test_chlamydia": True}}


def test_draws_are_centred_on_the_cited_values(shipped_knowledge):
    values = parameter_draws(shipped_knowledge, draws=4000, seed=3)
    for pid, p in shipped_knowledge.parameters.items():
        drawn = values[pid]
        assert drawn.shape == (4000,)
        if p.table == "risk_factors":
            assert np.median(drawn) == pytest.approx(p.value, rel=0.1), pid
        elif p.table not in ("finding_links",):  # links are raised to their leak where drawn below it
            assert drawn.mean() == pytest.approx(p.value, abs=max(0.02, 0.2 * p.value)), pid


def test_a_link_is_never_drawn_below_its_leak(shipped_knowledge):
    values = parameter_draws(shipped_knowledge, draws=1000, seed=0)
    for p in shipped_knowledge.table("finding_links"):
        assert np.all(values[p.id] >= values[f"finding_leaks:{p.key['finding']}"])


def test_a_zero_width_interval_is_fixed(shipped_knowledge):
    values = parameter_draws(shipped_knowledge, draws=50, seed=0)
    fixed = "context_prevalence:pregnancy=not_pregnant|menopause=post"
    assert np.all(values[fixed] == shipped_knowledge.parameters[fixed].value)


def test_intervals_are_reproducible_and_depend_on_the_seed(shipped_model):
    first = posterior_intervals(shipped_model, CASE, draws=300, seed=7)
    again = posterior_intervals(shipped_model, CASE, draws=300, seed=7)
    other = posterior_intervals(shipped_model, CASE, draws=300, seed=8)
    assert first.equals(again)
    assert not first[["low", "high"]].equals(other[["low", "high"]])


def test_interval_contains_the_point_and_narrows_with_the_level(shipped_model):
    wide = posterior_intervals(shipped_model, CASE, draws=500, level=0.9)
    narrow = posterior_intervals(shipped_model, CASE, draws=500, level=0.5)
    assert list(wide.index) == sorted(wide.index, key=lambda c: -wide.explains[c])  # the differential's order
    row = wide.loc["chlamydia"]
    assert row.low < row.posterior < row.high and row.high - row.low > 0.01
    assert row.explains_low < row.explains < row.explains_high
    assert np.all(narrow.low >= wide.low - 1e-12) and np.all(narrow.high <= wide.high + 1e-12)
    assert np.all(narrow.explains_low >= wide.explains_low - 1e-12)


def test_an_impossible_cause_has_a_zero_interval(shipped_model):
    table = posterior_intervals(shipped_model, {"context": {"pregnancy": "not_pregnant"}}, draws=100)
    assert table.loc["pregnancy_complication", ["posterior", "low", "high"]].tolist() == [0.0, 0.0, 0.0]


def test_a_bad_level_is_refused(shipped_model):
    with pytest.raises(ArgumentError, match="level: 90 is not a number from 0 to 1"):
        posterior_intervals(shipped_model, CASE, level=90)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"draws": 0}, "draws: 0 is not a whole number from 1 to 20,000"),
        ({"draws": MAX_DRAWS + 1}, "draws: 20001 is not a whole number from 1 to 20,000"),
        ({"draws": 10.5}, "draws: 10.5 is not a whole number"),
        ({"draws": True}, "draws: True is not a whole number"),
        ({"seed": -1}, "seed: -1 is not a whole number of 0 or more"),
        ({"level": 0.0}, "level: 0.0 must be strictly between 0 and 1"),
        ({"level": "0.9"}, "level: '0.9' is not a number from 0 to 1"),
    ],
)
def test_counts_and_levels_outside_their_stated_limits_are_typed_errors(shipped_model, arguments, message):
    """Regression: draws=0 failed deep inside NumPy, and 100,000,000 draws ran out of memory."""
    with pytest.raises(ArgumentError, match=message):
        posterior_intervals(shipped_model, CASE, **arguments)
