import math

import pytest

from model import diagnose
from model.explain import contributions, trajectory


def test_contributions_add_up_to_the_move_from_prior_to_posterior(tiny_model):
    case = tiny_model.parse(
        {"context": {"age": "old"}, "findings": {"contact_bleeding": True, "lesion": False}}
    )
    result = diagnose(tiny_model, case)
    steps = contributions(tiny_model, case, "cancer")
    logit = lambda p: math.log(p / (1 - p))  # noqa: E731
    assert [s.finding for s in steps] == ["contact_bleeding", "lesion"]
    assert sum(s.log_odds for s in steps) == pytest.approx(
        logit(result.posteriors["cancer"]) - logit(result.priors["cancer"])
    )
    assert steps[0].log_odds > 0 > steps[1].log_odds
    assert steps[0].after == steps[1].before


def test_single_test_contribution_is_its_likelihood_ratio(tiny_model):
    """Infection is independent of context: the LR of a positive test is sensitivity / false-positive rate."""
    case = tiny_model.parse({"findings": {"test_infection": True}})
    (step,) = contributions(tiny_model, case, "infection")
    assert step.likelihood_ratio == pytest.approx(0.9 / 0.02)


def test_trajectory_starts_at_the_prior_and_ends_at_the_posterior(tiny_model):
    case = tiny_model.parse(
        {"context": {"age": "old"}, "findings": {"contact_bleeding": True, "lesion": True}}
    )
    rows = trajectory(tiny_model, case, ["cancer", "ectropion"])
    result = diagnose(tiny_model, case)
    assert len(rows) == 3
    assert rows[0]["cancer"] == pytest.approx(result.priors["cancer"])
    assert rows[-1]["ectropion"] == pytest.approx(result.posteriors["ectropion"])
