"""Property-based checks that hold for every case the vocabulary allows."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from model import CaseError, diagnose, load_knowledge

VOCAB = load_knowledge().vocabulary
SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@st.composite
def cases(draw):
    """A random case: some context known, some findings answered, the rest unknown."""
    context_ids = draw(
        st.lists(st.sampled_from(list(VOCAB.context)), unique=True, max_size=len(VOCAB.context))
    )
    context = {v: draw(st.sampled_from(VOCAB.context[v].states)) for v in context_ids}
    finding_ids = draw(st.lists(st.sampled_from(list(VOCAB.findings)), unique=True, max_size=8))
    findings = {f: draw(st.booleans()) for f in finding_ids}
    return {"context": context, "findings": findings}


def _diagnose_or_skip(model, case):
    try:
        return diagnose(model, case)
    except CaseError:
        assume(False)  # impossible combinations are rejected by design, tested elsewhere


@SETTINGS
@given(case=cases())
def test_every_probability_is_a_probability(shipped_model, case):
    result = _diagnose_or_skip(shipped_model, case)
    for values in (result.posteriors, result.priors):
        assert set(values) == set(VOCAB.causes)
        assert all(0.0 <= p <= 1.0 for p in values.values())
    assert 0.0 <= result.no_cause_found <= 1.0
    assert sorted(result.ranking) == sorted(VOCAB.causes)
    ranked = [result.differential[c] for c in result.ranking]
    assert ranked == sorted(ranked, reverse=True)


@SETTINGS
@given(case=cases())
def test_what_explains_the_bleeding_is_coherent(shipped_model, case):
    """A cause explains the bleeding only if present; someone always explains it (the leak included);
    and the differential says which ordering it used."""
    result = _diagnose_or_skip(shipped_model, case)
    if not result.case.findings[VOCAB.presenting]:
        assert result.explains is None and result.unexplained is None and result.ranked_by == "present"
        return
    assert result.ranked_by == "explains"
    for cause, p in result.explains.items():
        assert 0.0 <= p <= result.posteriors[cause] + 1e-12, cause
    assert 0.0 <= result.unexplained <= 1.0
    assert sum(result.explains.values()) + result.unexplained >= 1 - 1e-9


@SETTINGS
@given(case=cases(), finding=st.sampled_from([f for f in VOCAB.findings if f != VOCAB.presenting]))
def test_unknown_lies_between_yes_and_no(shipped_model, case, finding):
    """Leaving a finding unknown averages over its answers; it is never the same as answering no.

    By the law of total probability P(c | e) = P(f | e) P(c | e, f) + P(not f | e) P(c | e, not f).
    """
    case["findings"].pop(finding, None)
    unknown = _diagnose_or_skip(shipped_model, case)
    answered = {}
    for answer in (True, False):
        case["findings"][finding] = answer
        answered[answer] = _diagnose_or_skip(shipped_model, case)
    for cause, p in unknown.posteriors.items():
        low, high = sorted(answered[a].posteriors[cause] for a in (True, False))
        assert low - 1e-9 <= p <= high + 1e-9, cause


@SETTINGS
@given(case=cases())
def test_priors_depend_on_context_only(shipped_model, case):
    """The "before" figures are given the context and the presenting answer, nothing else."""
    with_findings = _diagnose_or_skip(shipped_model, case)
    presenting = {VOCAB.presenting: with_findings.case.findings[VOCAB.presenting]}
    context_only = _diagnose_or_skip(shipped_model, {"context": case["context"], "findings": presenting})
    assert with_findings.priors == pytest.approx(context_only.posteriors, abs=1e-12)
    if with_findings.prior_explains is not None:
        assert with_findings.prior_explains == pytest.approx(context_only.explains, abs=1e-12)


@SETTINGS
@given(case=cases(), combo=st.sampled_from(VOCAB.impossible_combinations))
def test_a_contradiction_never_lowers_the_triage(shipped_model, case, combo):
    """Answers that cannot be true together are weighed, not dropped: the triage is the most urgent of
    the readings that set one of them aside (pregnant after the menopause keeps the same-day flag)."""
    from model.inference import diagnose_readings

    for node, states in combo.when.items():
        section = "context" if node in VOCAB.context else "findings"
        case[section][node] = states[0] if section == "context" else states[0] == "yes"
    result, problems = diagnose_readings(shipped_model, case)
    assert problems and all("cannot both be right" in p for p in problems)
    policy = shipped_model.knowledge.red_flags
    for node in combo.when:
        reading = {s: {k: v for k, v in case[s].items() if k != node} for s in ("context", "findings")}
        try:
            other = diagnose(shipped_model, reading)
        except CaseError:
            continue  # still contradictory another way; weighed in its own turn
        assert policy.urgency(result.triage.level) >= policy.urgency(other.triage.level)
