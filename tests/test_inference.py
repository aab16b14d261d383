import itertools
import math
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model import Case, CaseError, KnowledgeError, build_model, diagnose
from model.inference import Diagnosis, PosteriorCache, diagnose_as_entered, posteriors_given
from model.triage import assess_triage, evidence_weighed
from tests.test_invariants import cases


def reference_posterior(kb, evidence):
    """Enumerate the tiny network's joint distribution straight from the knowledge-base numbers.

    An independent implementation of priors/README.md's semantics: it shares no code with
    model.network, so agreement checks the network builder as well as the inference.
    """
    v = {p.id: p.value for p in kb.parameters.values()}
    p_pill = {
        "young": v["context_prevalence:pill=yes|age=young"],
        "old": v["context_prevalence:pill=yes|age=old"],
    }
    p_yes = sum(v[f"context_prevalence:age={a}"] * p_pill[a] for a in ("young", "old"))
    odds_ratio = v["risk_factors:ectropion:pill=yes"]
    # intercept a: (1 - p_yes) * s(a) + p_yes * s(a + ln OR) = base rate, solved by bisection
    lo, hi = -30.0, 30.0
    for _ in range(200):
        a = (lo + hi) / 2
        mean = (1 - p_yes) / (1 + math.exp(-a)) + p_yes / (1 + math.exp(-a - math.log(odds_ratio)))
        lo, hi = (a, hi) if mean < v["cause_base_rates:ectropion"] else (lo, a)
    p_ect = {"no": 1 / (1 + math.exp(-a)), "yes": 1 / (1 + math.exp(-a - math.log(odds_ratio)))}

    def noisy_or(finding, active):
        leak = v[f"finding_leaks:{finding}"]
        inhibit = 1 - leak
        for source in active:
            inhibit *= (1 - v[f"finding_links:{source}:{finding}"]) / (1 - leak)
        return 1 - inhibit

    totals = {c: 0.0 for c in kb.vocabulary.causes}
    norm = 0.0
    for age, pill, ect, inf, can in itertools.product(("young", "old"), ("no", "yes"), *[(0, 1)] * 3):
        if can and age == "young":
            continue
        w = v[f"context_prevalence:age={age}"]
        w *= p_pill[age] if pill == "yes" else 1 - p_pill[age]
        w *= p_ect[pill] if ect else 1 - p_ect[pill]
        w *= v["cause_base_rates:infection"] if inf else 1 - v["cause_base_rates:infection"]
        if age == "old":
            w *= v["cause_base_rates:cancer"] if can else 1 - v["cause_base_rates:cancer"]
        present = {"ectropion": ect, "infection": inf, "cancer": can}
        state = {"age": age, "pill": pill}
        for finding, answer in evidence.items():
            if finding in state:
                w *= state[finding] == answer
                continue
            active = [c for c, on in present.items() if on]
            active += [f"pill={pill}"] if f"finding_links:pill={pill}:{finding}" in v else []
            active = [s for s in active if f"finding_links:{s}:{finding}" in v]
            p = noisy_or(finding, active)
            w *= p if answer == "yes" else 1 - p
        norm += w
        for c, on in present.items():
            totals[c] += w * on
    return {c: t / norm for c, t in totals.items()}


def test_hand_computed_posterior_of_a_positive_test(tiny_model):
    """Infection prior 0.1; sensitivity 0.9; false-positive rate 0.02: 0.09 / (0.09 + 0.9 * 0.02)."""
    result = diagnose(tiny_model, {"findings": {"test_infection": True}})
    assert result.posteriors["infection"] == pytest.approx(0.09 / 0.108, abs=1e-12)
    assert result.priors["infection"] == pytest.approx(0.1, abs=1e-12)


def test_hand_computed_posterior_with_context(tiny_model):
    """Old: cancer 0.05; lesion link 0.7, leak 0.01: 0.05 * 0.7 / (0.05 * 0.7 + 0.95 * 0.01)."""
    result = diagnose(tiny_model, {"context": {"age": "old"}, "findings": {"lesion": True}})
    assert result.posteriors["cancer"] == pytest.approx(0.035 / 0.0445, abs=1e-12)


@pytest.mark.parametrize(
    "evidence",
    [
        {},
        {"discharge": "yes"},
        {"age": "old", "contact_bleeding": "yes"},
        {"pill": "yes", "contact_bleeding": "yes", "test_infection": "no"},
        {"contact_bleeding": "yes", "lesion": "no", "discharge": "no", "test_infection": "yes"},
        {"age": "young", "pill": "no", "contact_bleeding": "no"},
    ],
)
def test_pgmpy_matches_enumeration_of_the_knowledge_base(tiny_knowledge, tiny_model, evidence):
    context = {k: s for k, s in evidence.items() if k in ("age", "pill")}
    findings = {k: s == "yes" for k, s in evidence.items() if k not in context}
    result = diagnose(tiny_model, {"context": context, "findings": findings})
    expected = reference_posterior(tiny_knowledge, evidence)
    for cause, value in expected.items():
        assert result.posteriors[cause] == pytest.approx(value, abs=1e-12)


def test_unknown_is_not_the_same_as_no(tiny_model):
    unknown = diagnose(tiny_model, {"findings": {}})
    absent = diagnose(tiny_model, {"findings": {"test_infection": False}})
    assert unknown.posteriors["infection"] == pytest.approx(0.1)
    assert absent.posteriors["infection"] < unknown.posteriors["infection"]
    assert diagnose(tiny_model, {"findings": {"test_infection": None}}).posteriors == unknown.posteriors


def test_no_cause_found_is_the_probability_that_every_cause_is_absent(tiny_knowledge, tiny_model):
    result = diagnose(tiny_model, {"context": {"age": "young", "pill": "no"}})
    ect = result.posteriors["ectropion"]
    assert result.no_cause_found == pytest.approx((1 - ect) * 0.9, abs=1e-12)


def test_ranking_is_most_probable_first(tiny_model):
    result = diagnose(tiny_model, {"findings": {"test_infection": True}})
    assert result.ranking == ["infection", "ectropion", "cancer"]
    assert isinstance(result, Diagnosis)


def test_evidence_of_probability_zero_names_the_answer(tiny_knowledge):
    model = build_model(tiny_knowledge, overrides={"context_prevalence:pill=yes|age=old": 0.0})
    with pytest.raises(
        CaseError, match=r"context.pill: this answer cannot occur together with the answers before it"
    ):
        diagnose(model, {"context": {"age": "old", "pill": "yes"}})


def test_overrides_change_the_answer(tiny_knowledge):
    base = diagnose(build_model(tiny_knowledge), {"findings": {"test_infection": True}})
    tuned = diagnose(
        build_model(tiny_knowledge, overrides={"finding_leaks:test_infection": 0.2}),
        {"findings": {"test_infection": True}},
    )
    assert tuned.posteriors["infection"] < base.posteriors["infection"]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.lists(cases(), min_size=1, max_size=6))
def test_a_batch_gives_every_case_the_triage_and_posteriors_it_gets_alone(shipped_model, batch):
    """Answering many cases' evidence sets in one engine call changes nothing about any case."""
    model = shipped_model
    parsed = []
    for data in batch:
        try:
            parsed.append(model.parse(data))
        except CaseError:
            continue  # contradictory answers are refused before any engine is asked
    cache = PosteriorCache.for_cases(model, parsed)
    queries = model.fast.queries

    def one_at_a_time(cause, evidences):
        return [float(posteriors_given(model, [e])[0, queries.index(cause)]) for e in evidences]

    for case in parsed:
        try:
            together = diagnose(model, case, cache=cache)
        except CaseError as batched_error:
            with pytest.raises(CaseError, match=re.escape(str(batched_error))):
                diagnose(model, case)
            continue
        assert together.triage == assess_triage(model.knowledge, case, one_at_a_time)
        alone = diagnose(model, case)
        assert together.triage == alone.triage
        assert together.posteriors == pytest.approx(alone.posteriors, abs=1e-12)
        assert together.priors == pytest.approx(alone.priors, abs=1e-12)
        assert (together.explains is None) == (alone.explains is None)
        if together.explains is not None:
            assert together.explains == pytest.approx(alone.explains, abs=1e-12)
            assert together.unexplained == pytest.approx(alone.unexplained, abs=1e-12)


def test_the_evidence_the_triage_weighs_is_answered_in_advance(shipped_model, monkeypatch):
    """After `PosteriorCache.for_cases`, diagnosing the case (triage included) asks the engine nothing."""
    case = shipped_model.parse(
        {"context": {"age_band": "45_54"}, "findings": {"exam_cervical_lesion": True, "recurrent": True}}
    )
    assert len(evidence_weighed(shipped_model.knowledge, case)) > 1
    cache = PosteriorCache.for_cases(shipped_model, [case])
    calls = []
    monkeypatch.setattr(shipped_model.fast, "explained", lambda *args, **kwargs: calls.append(args))
    diagnose(shipped_model, case, cache=cache)
    assert calls == []


def test_overrides_as_a_list_are_a_knowledge_error_not_an_attribute_error(tiny_knowledge):
    """Regression: ``build_model(overrides=[...])`` failed with AttributeError deep inside."""
    with pytest.raises(KnowledgeError, match=r"overrides: must be a mapping of parameter id to value"):
        build_model(tiny_knowledge, overrides=[("finding_leaks:lesion", 0.1)])


def test_an_answer_the_numbers_rule_out_is_set_aside_by_name_and_the_rest_kept(tiny_model):
    """A tuned folder can make an answer impossible; the app sets aside that answer only."""
    model = build_model(tiny_model.knowledge, overrides={"context_prevalence:pill=yes|age=old": 0})
    result, problems = diagnose_as_entered(model, Case({"age": "old", "pill": "yes"}, {"discharge": True}))
    assert result.case.context == {"age": "old"} and result.case.findings == {"discharge": True}
    assert problems == [
        '"On the pill" cannot occur with the other answers under these numbers, so the figures and triage set '
        "it aside. Please check this answer."
    ]
