"""Value of information: expected entropy reduction, checked against the law of total probability."""

from __future__ import annotations

import numpy as np
import pytest

from model import CaseError, build_model, diagnose
from model.inference import posterior_of, posteriors_given
from model.questions import binary_entropy, next_questions

CASE = {
    "context": {"age_band": "under_25", "menopause": "pre", "pregnancy": "not_pregnant", "sti_risk": "yes"},
    "findings": {"exam_contact_bleeding": True},
}


def test_every_unanswered_finding_is_ranked_once_highest_first(shipped_model):
    ranked = next_questions(shipped_model, CASE)
    findings = [q.finding for q in ranked]
    answered = {"exam_contact_bleeding", "postcoital_bleeding"}  # the second by default
    ruled_out = {"postmenopausal_bleeding", "test_pregnancy"}  # periods as usual, and not pregnant
    assert not answered & set(findings)
    assert sorted(findings) == sorted(
        f for f in shipped_model.knowledge.vocabulary.findings if f not in answered | ruled_out
    )
    gains = [q.expected_gain for q in ranked]
    assert gains == sorted(gains, reverse=True) and min(gains) >= 0


@pytest.mark.parametrize(
    ("context", "known"),
    [
        ({"menopause": "post"}, {"heavy_periods", "near_period", "intermenstrual_bleeding"}),
        ({"menopause": "pre"}, {"postmenopausal_bleeding"}),
        ({"pregnancy": "not_pregnant"}, {"test_pregnancy"}),
    ],
)
def test_a_question_whose_yes_the_context_rules_out_is_not_ranked(shipped_model, context, known):
    """Heavy periods were offered as a next question after the menopause; the vocabulary's impossible
    combinations already say the answer is no."""
    ranked = {q.finding for q in next_questions(shipped_model, {"context": context})}
    everything = set(shipped_model.knowledge.vocabulary.findings) - {"postcoital_bleeding"}
    assert ranked == everything - known


def test_answers_average_back_to_the_current_posterior(shipped_model):
    """P(c | e) = P(yes | e) P(c | e, yes) + P(no | e) P(c | e, no), for every cause and question."""
    now = diagnose(shipped_model, CASE).posteriors
    for q in next_questions(shipped_model, CASE):
        for cause, value in now.items():
            mixed = q.probability_yes * q.if_yes[cause] + (1 - q.probability_yes) * q.if_no[cause]
            assert mixed == pytest.approx(value, abs=1e-9), (q.finding, cause)


def test_posterior_after_an_answer_matches_pgmpy(shipped_model):
    question = next(q for q in next_questions(shipped_model, CASE) if q.finding == "test_chlamydia")
    evidence = {
        **CASE["context"],
        "postcoital_bleeding": "yes",
        "exam_contact_bleeding": "yes",
        "test_chlamydia": "yes",
    }
    assert question.if_yes["chlamydia"] == pytest.approx(
        posterior_of(shipped_model, "chlamydia", evidence), abs=1e-9
    )


def test_the_ranking_with_many_positive_findings_is_one_elimination_and_matches_pgmpy(
    shipped_model, monkeypatch
):
    """Five positive findings with part of the context unknown: every question's rows share the case's
    positive findings, so one compiled elimination serves them all instead of enumerating the linked
    causes' states row by row (0.3 s per answer in the app before)."""
    from model.stable_sums import StableSums

    eliminated = []
    eliminate = StableSums._eliminate
    monkeypatch.setattr(
        StableSums, "_eliminate", lambda self, *args: eliminated.append(1) or eliminate(self, *args)
    )
    context = {"age_band": "25_34", "menopause": "pre", "pregnancy": "not_pregnant", "contraception": "none"}
    positive = ["recurrent", "dryness", "fever", "itching", "pelvic_pain"]
    ranked = next_questions(shipped_model, {"context": context, "findings": dict.fromkeys(positive, True)})
    assert eliminated
    question = next(q for q in ranked if q.finding == "dysuria")
    evidence = {**context, "postcoital_bleeding": "yes", **dict.fromkeys(positive, "yes")}
    for answer, after in (("yes", question.if_yes), ("no", question.if_no)):
        for cause in ("atrophy", "candidiasis", "cervical_cancer"):
            expected = posterior_of(shipped_model, cause, {**evidence, "dysuria": answer})
            assert after[cause] == pytest.approx(expected, abs=1e-9), (answer, cause)


def test_expected_gain_is_the_entropy_drop(shipped_model):
    """For "serious": H(P(any serious | e)) minus the answer-weighted entropy after the answer."""
    evidence = {**CASE["context"], "postcoital_bleeding": "yes", "exam_contact_bleeding": "yes"}
    any_serious = (
        1 - posteriors_given(shipped_model, [evidence])[0][shipped_model.fast.queries.index("none_serious")]
    )
    for q in next_questions(shipped_model, CASE, target="serious")[:5]:
        after = q.probability_yes * binary_entropy(np.array(q.serious_if_yes)) + (
            1 - q.probability_yes
        ) * binary_entropy(np.array(q.serious_if_no))
        assert q.expected_gain == pytest.approx(binary_entropy(np.array(any_serious)) - after, abs=1e-9)


def test_a_chlamydia_test_is_worth_more_than_asking_about_bruising(shipped_model):
    """Contact bleeding in a young woman at higher STI risk: the NAAT discriminates, bruising hardly."""
    gains = {q.finding: q.expected_gain for q in next_questions(shipped_model, CASE)}
    assert gains["test_chlamydia"] > 10 * gains["easy_bruising"]


def test_unknown_target_is_refused(shipped_model):
    with pytest.raises(ValueError, match="target must be one of"):
        next_questions(shipped_model, CASE, target="everything")


def test_an_impossible_case_is_refused_naming_the_answer(tiny_knowledge):

    model = build_model(tiny_knowledge, overrides={"context_prevalence:pill=yes|age=old": 0.0})
    with pytest.raises(CaseError, match=r"context\.pill"):
        next_questions(model, {"context": {"age": "old", "pill": "yes"}})
