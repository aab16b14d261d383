"""The fast engine against pgmpy's variable elimination, the reference, to 1e-9."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from model import build_model, load_knowledge, quickscore
from model.inference import (
    fast_engine,
    posterior_of,
    posteriors_given,
    probability_none_of,
    reference_explains,
)
from model.network import network_tables
from model.quickscore import QUICKSCORE_MAX_POSITIVES, standard_queries

VOCAB = load_knowledge().vocabulary
SERIOUS = [c for c, cause in VOCAB.causes.items() if cause.serious]
TOLERANCE = 1e-9
SETTINGS = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


OTHER_FINDINGS = [f for f in VOCAB.findings if f != VOCAB.presenting]


CONTEXT_LINKED = sorted(
    {p.key["finding"] for p in load_knowledge().table("finding_links") if "=" in p.key["link_source"]}
)


@st.composite
def evidence_sets(draw, max_findings=10, context="some", answers="yes or no"):
    """Node-to-state evidence: some context known, some findings answered yes or no.

    The presenting finding is drawn on its own, mostly "yes" as every real case has it, so each
    test reaches the two-sum path for it as well as cases without it. ``context`` is ``"some"``
    (a random subset), ``"all"`` (every variable known: one row per case, and the findings that
    depend on the context, `CONTEXT_LINKED`, answered) or ``"none"`` (everything summed over);
    ``answers`` is ``"yes or no"`` or ``"no"`` (the closed form without inclusion-exclusion).
    """
    if context == "some":
        context_ids = draw(st.lists(st.sampled_from(list(VOCAB.context)), unique=True))
    else:
        context_ids = list(VOCAB.context) if context == "all" else []
    evidence = {v: draw(st.sampled_from(VOCAB.context[v].states)) for v in context_ids}
    presenting = draw(st.sampled_from(["yes", "yes", "yes", "no", None]))
    if presenting is not None:
        evidence[VOCAB.presenting] = presenting
    states = ["no"] if answers == "no" else ["yes", "no"]
    chosen = draw(st.lists(st.sampled_from(OTHER_FINDINGS), unique=True, max_size=max_findings))
    if context == "all" and max_findings:
        chosen = [*dict.fromkeys([*CONTEXT_LINKED, *chosen])]
    for finding in chosen:
        evidence[finding] = draw(st.sampled_from(states))
    return evidence


def reference_row(model, evidence):
    """Every standard query from pgmpy, in the fast engine's order."""
    causes = list(model.knowledge.vocabulary.causes)
    serious = [c for c, cause in model.knowledge.vocabulary.causes.items() if cause.serious]
    return np.array(
        [1.0]
        + [posterior_of(model, c, evidence) for c in causes]
        + [probability_none_of(model, causes, evidence), probability_none_of(model, serious, evidence)]
    )


def possible(model, evidence):
    return model.fast.joint(model.fast.encode(*_split(model, evidence)))[0, 0, 0] > 0


def _split(model, evidence):
    context = {k: v for k, v in evidence.items() if k in model.knowledge.vocabulary.context}
    findings = {k: v == "yes" for k, v in evidence.items() if k not in context}
    return [context], [findings]


@SETTINGS
@given(evidence=evidence_sets())
def test_fast_engine_matches_pgmpy_on_random_evidence(shipped_model, evidence):
    assume(possible(shipped_model, evidence))
    fast = posteriors_given(shipped_model, [evidence])[0]
    np.testing.assert_allclose(fast, reference_row(shipped_model, evidence), rtol=0, atol=TOLERANCE)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    evidence=evidence_sets(max_findings=0),
    positives=st.lists(st.sampled_from(OTHER_FINDINGS), unique=True, min_size=8, max_size=16),
)
def test_many_positive_findings_stay_exact(shipped_model, evidence, positives):
    """Past a few positive findings inclusion-exclusion cancels; the stable path must take over."""
    assert len(positives) > QUICKSCORE_MAX_POSITIVES
    evidence.update({f: "yes" for f in positives})
    assume(possible(shipped_model, evidence))
    fast = posteriors_given(shipped_model, [evidence])[0]
    np.testing.assert_allclose(fast, reference_row(shipped_model, evidence), rtol=0, atol=TOLERANCE)


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    evidence=evidence_sets(max_findings=0),
    positives=st.lists(st.sampled_from(OTHER_FINDINGS), unique=True, min_size=8, max_size=12),
)
def test_eight_to_twelve_positives_with_the_complaint_stay_exact(shipped_model, evidence, positives):
    """Every case presents: 8-12 more positive findings, each sum asked for 1e-10 * leak / 2."""
    evidence.update({VOCAB.presenting: "yes", **dict.fromkeys(positives, "yes")})
    assume(possible(shipped_model, evidence))
    fast = posteriors_given(shipped_model, [evidence])[0]
    np.testing.assert_allclose(fast, reference_row(shipped_model, evidence), rtol=0, atol=TOLERANCE)
    explains, unexplained = reference_explains(shipped_model, evidence)
    expected = np.append([explains[c] for c in VOCAB.causes], unexplained)
    np.testing.assert_allclose(explained_row(shipped_model, evidence), expected, rtol=0, atol=TOLERANCE)


def explained_row(model, evidence):
    """What explains the presenting finding, and the unexplained share, from the fast engine."""
    found = model.fast.explained(model.fast.encode(*_split(model, evidence)))
    return np.append(found.explains[0, 0], found.unexplained[0, 0])


@SETTINGS
@given(evidence=evidence_sets())
def test_what_explains_the_bleeding_matches_pgmpy_link_nodes(shipped_model, evidence):
    """The identity P(link fired, E) = a P(cause, E without F) against pgmpy's explicit link nodes."""
    evidence[VOCAB.presenting] = "yes"
    assume(possible(shipped_model, evidence))
    explains, unexplained = reference_explains(shipped_model, evidence)
    expected = np.append([explains[c] for c in VOCAB.causes], unexplained)
    np.testing.assert_allclose(explained_row(shipped_model, evidence), expected, rtol=0, atol=TOLERANCE)


def test_explains_is_not_defined_without_the_presentation(shipped_model):
    for evidence in ({}, {VOCAB.presenting: "no", "postmenopausal_bleeding": "yes"}):
        assert np.isnan(explained_row(shipped_model, evidence)).all()
        assert reference_explains(shipped_model, evidence) == (None, None)


def test_responsibilities_are_at_most_presence_and_cover_the_bleeding(shipped_model):
    """Each cause explains the bleeding only if present; and someone explains it (the union bound)."""
    evidence = {
        VOCAB.presenting: "yes",
        "age_band": "25_34",
        "exam_ectropion": "yes",
        "test_chlamydia": "yes",
    }
    row = explained_row(shipped_model, evidence)
    posteriors = posteriors_given(shipped_model, [evidence])[0]
    present = np.array([posteriors[shipped_model.fast.queries.index(c)] for c in VOCAB.causes])
    assert np.all(row[:-1] <= present + 1e-12)
    assert row.sum() >= 1 - 1e-12


def test_cancellation_is_detected_and_repaired(shipped_model, monkeypatch):
    """Six unlikely positive findings: inclusion-exclusion alone is off by more than ten times the
    tolerance (about 4e-8 here); the result is not."""
    evidence = {"age_band": "35_44", "menopause": "pre", "pregnancy": "not_pregnant"}
    evidence.update(
        dict.fromkeys(["dysuria", "exam_polyp", "itching", "weight_loss", "faintness", "fever"], "yes")
    )
    reference = reference_row(shipped_model, evidence)
    np.testing.assert_allclose(
        posteriors_given(shipped_model, [evidence])[0], reference, rtol=0, atol=TOLERANCE
    )
    monkeypatch.setattr(quickscore, "QUICKSCORE_MAX_POSITIVES", 99)  # try inclusion-exclusion first
    np.testing.assert_allclose(
        posteriors_given(shipped_model, [evidence])[0], reference, rtol=0, atol=TOLERANCE
    )
    monkeypatch.setattr(quickscore, "PRECISION", np.inf)  # trust every inclusion-exclusion sum
    unguarded = posteriors_given(shipped_model, [evidence])[0]
    assert np.abs(unguarded - reference).max() > 10 * TOLERANCE


def test_a_batch_equals_its_cases_one_by_one(shipped_model):
    evidences = [
        {},
        {"age_band": "25_34", "test_chlamydia": "yes"},
        {"menopause": "post", "dryness": "yes", "heavy": "no"},
        {"pregnancy": "first_trimester", "pelvic_pain": "yes", "faintness": "yes"},
        {"age_band": "25_34", "test_chlamydia": "no", "exam_ectropion": "yes"},
    ]
    together = posteriors_given(shipped_model, evidences)
    for row, evidence in zip(together, evidences, strict=True):
        np.testing.assert_allclose(row, posteriors_given(shipped_model, [evidence])[0], rtol=0, atol=1e-13)


def test_impossible_evidence_gives_nan(tiny_knowledge):
    model = build_model(tiny_knowledge, overrides={"context_prevalence:pill=yes|age=old": 0.0})
    rows = posteriors_given(model, [{"age": "old", "pill": "yes"}, {"age": "old"}])
    assert np.isnan(rows[0]).all() and not np.isnan(rows[1]).any()


def test_draws_axis_matches_pgmpy_built_from_each_draw(shipped_knowledge):
    """Each draw of the tables is a whole network: pgmpy built from that draw's numbers agrees."""
    values = {
        "finding_links:chlamydia:test_chlamydia": np.array([0.9, 0.6]),
        "cause_base_rates:ectropion": np.array([0.1, 0.3]),
        "risk_factors:ectropion:contraception=combined_hormonal": np.array([1.2, 3.0]),
        "finding_leaks:exam_contact_bleeding": np.array([0.02, 0.06]),
    }
    engine = fast_engine(shipped_knowledge, network_tables(shipped_knowledge, values))
    evidence = {"age_band": "25_34", "test_chlamydia": "yes", "exam_contact_bleeding": "yes", "dysuria": "no"}
    context, findings = _split(build_model(shipped_knowledge), evidence)
    rows = engine.posteriors(engine.encode(context, findings))[:, 0]
    for d in range(2):
        model = build_model(shipped_knowledge, overrides={pid: v[d] for pid, v in values.items()})
        np.testing.assert_allclose(rows[d], reference_row(model, evidence), rtol=0, atol=TOLERANCE)


def test_tiny_network(tiny_model):
    """The tiny fixture, with the pill unknown and a context state as a link source."""
    evidence = {"age": "old", "lesion": "yes", "discharge": "no"}
    np.testing.assert_allclose(
        posteriors_given(tiny_model, [evidence])[0],
        reference_row(tiny_model, evidence),
        rtol=0,
        atol=TOLERANCE,
    )


def test_standard_queries_clamp_one_cause_each():
    queries = standard_queries(list(VOCAB.causes), SERIOUS)
    assert queries.names[0] == "evidence" and not queries.clamp[0].any()
    for i, cause in enumerate(VOCAB.causes):
        assert queries.clamp[queries.index(cause)].tolist().count(1) == 1
        assert queries.clamp[queries.index(cause), i] == 1


def test_a_wide_case_computed_in_row_blocks_is_summed_whole(shipped_model):
    """Unknown context expands to 720 rows here, more than one block holds: the blocks must add up."""
    evidence = {
        "age_band": "under_25",
        "menopause": "pre",
        "faintness": "yes",
        "test_gonorrhea": "yes",
        "recurrent": "yes",
    }
    np.testing.assert_allclose(
        posteriors_given(shipped_model, [evidence])[0],
        reference_row(shipped_model, evidence),
        rtol=0,
        atol=TOLERANCE,
    )


@pytest.mark.parametrize("context", ["some", "all", "none"])
@pytest.mark.parametrize(
    ("precision", "enumerate_up_to"),
    [(0.0, 12), (0.0, -1)],
    ids=["every case enumerated", "every case eliminated"],
)
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_each_stable_path_matches_pgmpy_on_its_own(
    shipped_model, monkeypatch, precision, enumerate_up_to, context, data
):
    """Force every case off inclusion-exclusion, to enumeration or to elimination, and check each alone,
    with the context partly known, all known and all unknown."""
    evidence = data.draw(evidence_sets(max_findings=8 if context != "none" else 5, context=context))
    assume(possible(shipped_model, evidence))
    monkeypatch.setattr(quickscore, "PRECISION", precision)
    monkeypatch.setattr(quickscore, "ENUMERATE_MAX_CAUSES", enumerate_up_to)
    fast = posteriors_given(shipped_model, [evidence])[0]
    np.testing.assert_allclose(fast, reference_row(shipped_model, evidence), rtol=0, atol=TOLERANCE)


def test_a_certain_link_makes_its_finding_certain(shipped_knowledge):
    """A link of exactly 1: a negative answer rules the source out exactly, not nearly."""
    model = build_model(shipped_knowledge, overrides={"finding_links:chlamydia:test_chlamydia": 1.0})
    row = posteriors_given(
        model, [{"age_band": "under_25", "test_chlamydia": "no", "exam_contact_bleeding": "yes"}]
    )[0]
    assert row[model.fast.queries.index("chlamydia")] == 0.0
    context_link = build_model(
        shipped_knowledge, overrides={"finding_links:pregnancy=first_trimester:test_pregnancy": 1.0}
    )
    impossible = posteriors_given(context_link, [{"pregnancy": "first_trimester", "test_pregnancy": "no"}])[0]
    assert np.isnan(impossible).all()


# Each path of the engine, reached on purpose rather than by luck (a sign flip in the context-linked
# findings' term once passed every random comparison: random contexts rarely know every variable).
PATHS = {
    "whole context known, yes and no": {"context": "all"},
    "whole context known, no only": {"context": "all", "answers": "no"},
    "context summed by broadcasting, yes and no": {"context": "none", "max_findings": 6},
    "context summed by broadcasting, no only": {"context": "none", "answers": "no"},
    "nothing answered but the complaint": {"max_findings": 0},
}


def _rows_per_case(model, evidence):
    context = _split(model, evidence)[0][0]
    engine = model.fast
    return int(np.prod([1 if v in context else len(engine.context_states[v]) for v in engine.context]))


@pytest.mark.parametrize("path", PATHS)
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_every_path_of_the_engine_matches_pgmpy(shipped_model, path, data):
    evidence = data.draw(evidence_sets(**PATHS[path]))
    assume(possible(shipped_model, evidence))
    rows = _rows_per_case(shipped_model, evidence)
    if PATHS[path].get("context") == "all":
        assert rows == 1  # one row per case: nothing summed over
    if PATHS[path].get("context") == "none":
        assert rows > quickscore.EXPAND_MAX_ROWS  # the broadcasting sum
    if PATHS[path].get("answers") == "no":
        assert "yes" not in [v for k, v in evidence.items() if k in OTHER_FINDINGS]
    fast = posteriors_given(shipped_model, [evidence])[0]
    np.testing.assert_allclose(fast, reference_row(shipped_model, evidence), rtol=0, atol=TOLERANCE)
    if evidence.get(VOCAB.presenting) == "yes":
        explains, unexplained = reference_explains(shipped_model, evidence)
        expected = np.append([explains[c] for c in VOCAB.causes], unexplained)
        np.testing.assert_allclose(explained_row(shipped_model, evidence), expected, rtol=0, atol=TOLERANCE)


@pytest.mark.parametrize(
    "known", [{}, {"age_band": "45_54", "menopause": "peri"}], ids=["none known", "some known"]
)
@pytest.mark.parametrize("absent", [16, 22], ids=["most causes absent", "every cause absent"])
def test_a_query_clamping_most_causes_absent_matches_pgmpy_with_the_context_summed(
    shipped_model, known, absent
):
    """With wide unknown context the engine rebuilds such a query from the factors of the causes left
    free instead of dividing them out one by one: both kinds of cause must be counted."""
    from model.inference import encode_evidence
    from model.quickscore import ABSENT, Queries

    causes = list(VOCAB.causes)
    clamp = np.zeros((2, len(causes)), dtype=np.int8)
    clamp[1, :absent] = ABSENT
    evidence = {**known, "postcoital_bleeding": "yes", "exam_contact_bleeding": "yes", "dryness": "no"}
    fast = shipped_model.fast.posteriors(
        encode_evidence(shipped_model, [evidence]), Queries(("evidence", "q"), clamp)
    )
    assert fast[0, 0, 1] == pytest.approx(
        probability_none_of(shipped_model, causes[:absent], evidence), abs=TOLERANCE
    )
