"""One battery of checks run over every id of the shipped vocabulary and knowledge base."""

from __future__ import annotations

import pytest

from model import load_knowledge
from model.network import cause_parents

KB = load_knowledge()
VOCAB = KB.vocabulary


@pytest.mark.parametrize("cause", list(VOCAB.causes))
def test_every_cause_is_labelled_cited_and_observable(cause):
    entry = VOCAB.causes[cause]
    assert entry.label and entry.description.endswith(".")
    assert any(p.key["cause"] == cause for p in KB.table("cause_base_rates"))
    assert any(p.key["link_source"] == cause for p in KB.table("finding_links")), "no finding reveals it"
    assert set(cause_parents(KB, cause)) <= set(VOCAB.context)


@pytest.mark.parametrize("finding", list(VOCAB.findings))
def test_every_finding_has_a_question_a_leak_and_a_link(finding):
    entry = VOCAB.findings[finding]
    assert entry.question.endswith("?")
    assert f"finding_leaks:{finding}" in KB.parameters
    assert any(p.key["finding"] == finding for p in KB.table("finding_links"))
    assert finding.startswith("exam_") == (entry.group == "examination")
    assert finding.startswith("test_") == (entry.group == "tests")


@pytest.mark.parametrize("variable", list(VOCAB.context))
def test_every_context_variable_has_a_full_population_distribution(variable):
    var = VOCAB.context[variable]
    rows = [p for p in KB.table("context_prevalence") if p.key["variable"] == variable]
    parent_states = VOCAB.context[var.parent].states if var.parent else ("",)
    assert len(rows) == len(var.states) * len(parent_states)


@pytest.mark.parametrize("parameter", list(KB.parameters.values()), ids=list(KB.parameters))
def test_every_number_has_a_source_population_and_uncertainty(parameter):
    assert parameter.source and all(s in KB.sources for s in parameter.source)
    assert parameter.population
    assert (parameter.ci_low is not None) or (parameter.total is not None)
    if parameter.evidence == "derived":
        assert parameter.rationale
    if parameter.is_expert_estimate:
        assert len(parameter.rationale) > 20, "an expert estimate says what it rests on"


def test_expert_estimates_are_a_minority():
    share = sum(p.is_expert_estimate for p in KB.parameters.values()) / len(KB.parameters)
    assert share < 0.5
