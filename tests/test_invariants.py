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
    ranked = [result.posteriors[c] for c in result.ranking]
    assert ranked == sorted(ranked, reverse=True)


@SETTINGS
@given(case=cases(), finding=st.sampled_from(list(VOCAB.findings)))
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
    with_findings = _diagnose_or_skip(shipped_model, case)
    context_only = _diagnose_or_skip(shipped_model, {"context": case["context"], "findings": {}})
    assert with_findings.priors == pytest.approx(context_only.posteriors, abs=1e-12)
