import math

import pytest

from model import diagnose
from model.explain import contributions, trajectory, triage_after_each_answer


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


def test_triage_after_each_answer_ends_at_the_cases_triage_and_never_falls_as_yes_answers_add(shipped_model):
    case = shipped_model.parse({"findings": {"dryness": True, "exam_cervical_lesion": True, "heavy": True}})
    steps = triage_after_each_answer(shipped_model, case)
    assert len(steps) == len(case.findings) + 1
    assert steps[-1] == diagnose(shipped_model, case).triage
    urgency = [shipped_model.knowledge.red_flags.urgency(t.level) for t in steps]
    assert urgency == sorted(urgency) and urgency[0] < urgency[-1]  # every answer a yes: the level only rises
