"""What the page shows: the differential's order, explanations, ticks, citations, saved files."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from model import build_model, diagnose
from model.evaluation import load_vignettes
from model.explain import contributions, trajectory, triage_after_each_answer
from model.page import (
    NO_EFFECT,
    ask_first,
    differential_rows,
    explanation,
    parameter_meaning,
    question_rows,
    ratio_ticks,
    reason_lines,
    short_citation,
    teaching_causes,
    teaching_steps,
    trajectory_rows,
    what_if_rows,
)
from model.present import answer_steps, format_probability
from model.questions import next_questions

CASE = {
    "context": {"age_band": "under_25", "menopause": "pre", "sti_risk": "yes"},
    "findings": {"test_chlamydia": True},
}


def test_rows_follow_the_ranking_in_use(shipped_model):
    result = diagnose(shipped_model, CASE)
    explains = differential_rows(result, shipped_model.knowledge, "explains")
    present = differential_rows(result, shipped_model.knowledge, "present")
    assert list(explains["cause"]) == result.ranking
    assert list(present["cause"]) == sorted(result.posteriors, key=result.posteriors.get, reverse=True)
    assert list(present["bar"]) == sorted(result.posteriors.values(), reverse=True)
    assert explains["leading"].sum() == 3 and bool(explains["leading"].iloc[0])


def test_serious_causes_are_named_in_words(shipped_model):
    rows = differential_rows(diagnose(shipped_model, CASE), shipped_model.knowledge, "explains")
    serious = rows[rows["serious"]]
    assert len(serious) and all(name.endswith(" (serious)") for name in serious["name"])
    assert set(rows["kind"]) == {"serious cause", "other cause"}


def test_a_case_that_does_not_present_has_only_present(shipped_model):
    result = diagnose(shipped_model, {"findings": {"postcoital_bleeding": False}})
    rows = differential_rows(result, shipped_model.knowledge, "explains")
    assert list(rows["bar"]) == sorted(result.posteriors.values(), reverse=True)
    assert not any("present" in text for text in rows["text"])


def test_tiny_contributions_are_listed_as_no_effect(shipped_model):
    case = shipped_model.parse({"context": {"pregnancy": "not_pregnant"}, "findings": {"fever": False}})
    why = explanation(contributions(shipped_model, case, "pregnancy_complication"), shipped_model.knowledge)
    assert why.moved.empty and "Fever or feeling unwell: no" in why.no_effect
    why = explanation(
        contributions(shipped_model, shipped_model.parse(CASE), "chlamydia"), shipped_model.knowledge
    )
    assert (why.moved["log_odds"].abs() >= NO_EFFECT).all() and "Chlamydia test positive: yes" in set(
        why.moved["answer"]
    )


@given(st.floats(1e-6, 1e6), st.floats(1e-6, 1e6))
def test_ratio_ticks_cover_the_bars_and_one(a, b):
    low, high = min(a, b), max(a, b)
    ticks = ratio_ticks(low, high)
    assert ticks[0] <= min(low, 1) and ticks[-1] >= max(high, 1) and 1 in ticks
    assert ticks == sorted(ticks) and len(ticks) <= 2 * (abs(math.log10(low)) + abs(math.log10(high))) + 4


def test_every_reason_is_one_line_in_the_clinicians_words_with_a_short_citation(shipped_model):
    case = {"findings": {"heavy": True, "non_consensual": True, "test_chlamydia": True}}
    result = diagnose(shipped_model, case)
    lines = reason_lines(result.triage, shipped_model.knowledge)
    assert len(lines) == len(result.triage.reasons) > len(result.triage.red_flags) >= 2
    for (line, references, red), flag in zip(lines, result.triage.reasons, strict=True):
        assert "\n" not in line and flag.clinician in line and "http" not in line
        assert list(flag.source) == references[: len(flag.source)]
        assert red == (flag in result.triage.red_flags)
        assert not any(level in line for level in ("urgent:", "soon:", "suspected_cancer"))
    assert [red for *_, red in lines] == sorted((red for *_, red in lines), reverse=True)  # red flags first


def test_a_line_that_already_names_its_guideline_does_not_name_it_twice(shipped_model):
    """Postmenopausal bleeding at 55 or over: the rule's own words end in "(NICE NG12)"."""
    result = diagnose(shipped_model, {"context": {"age_band": "55_plus", "menopause": "post"}})
    lines = [line for line, *_ in reason_lines(result.triage, shipped_model.knowledge)]
    assert any("(NICE NG12)" in line for line in lines)
    assert not any(line.count("(NICE NG12)") > 1 for line in lines)


def test_a_red_flag_below_the_overall_level_reads_as_a_further_step(shipped_model):
    """Heavy bleeding at 55 after the menopause: the emergency leads; the suspected-cancer referral and
    the two-week assessment follow as "Also, ...", so no line reads as a second, slower verdict."""
    case = {"context": {"age_band": "55_plus", "menopause": "post"}, "findings": {"heavy": True}}
    result = diagnose(shipped_model, case)
    lines = [line for line, _, red in reason_lines(result.triage, shipped_model.knowledge) if red]
    assert lines[0].startswith("Emergency: ")
    assert lines[1:] and all(line.startswith("Also, ") for line in lines[1:])
    assert any(line.startswith("Also, urgent suspected-cancer referral: ") for line in lines)


def test_short_citations_come_from_the_sources_file(shipped_knowledge):
    assert short_citation(shipped_knowledge.sources["rcog_gtg63"]) == "RCOG GTG 63"
    assert all(short_citation(s) for s in shipped_knowledge.sources.values())


def test_ask_first_holds_the_findings_of_red_flag_rules(shipped_knowledge):
    first = ask_first(shipped_knowledge)
    assert {"heavy", "faintness", "non_consensual"} <= set(first)
    assert shipped_knowledge.vocabulary.presenting not in first


def test_question_rows_are_narrow_and_readable(shipped_model):
    values = next_questions(shipped_model, CASE)[:5]
    rows = question_rows(values, shipped_model.knowledge, now=diagnose(shipped_model, CASE).posteriors)
    assert list(rows.columns) == [
        "Ask about",
        "Chance of yes",
        "Gain (bits)",
        "If yes: biggest change (present)",
        "If no: biggest change (present)",
    ]
    assert len(rows) == 5 and all(len(label) < 60 for label in rows["Ask about"])


def test_each_answer_shows_the_cause_it_would_move_furthest_not_the_one_already_certain(shipped_model):
    """With chlamydia confirmed, "most likely present" read "Chlamydia (97%)" on every row; the biggest
    change names what the question is for (a reviewer's point)."""
    case = {"context": {"age_band": "under_25"}, "findings": {"test_chlamydia": True}}
    now = diagnose(shipped_model, case).posteriors
    values = next_questions(shipped_model, case)[:5]
    rows = question_rows(values, shipped_model.knowledge, now=now)
    causes = shipped_model.knowledge.vocabulary.causes
    ectropion = causes["ectropion"].label
    for q, said in zip(values, rows["If yes: biggest change (present)"], strict=True):
        moved = max(q.if_yes, key=lambda c: abs(q.if_yes[c] - now[c]))
        assert said == (
            f"{causes[moved].label}: {format_probability(now[moved])} → {format_probability(q.if_yes[moved])}"
        )
    assert not all(said.startswith("Chlamydia") for said in rows["If yes: biggest change (present)"])
    if "exam_ectropion" in [q.finding for q in values]:
        row = [q.finding for q in values].index("exam_ectropion")
        assert rows["If yes: biggest change (present)"][row].startswith(ectropion)
    with pytest.raises(ValueError, match="chances now"):
        question_rows(values, shipped_model.knowledge)


def test_for_serious_causes_the_questions_show_the_chance_of_one_after_each_answer(shipped_model):
    """The serious target ranks by whether a serious cause is present, so its table shows exactly that
    chance after each answer (not the leading cause, which is usually benign)."""
    values = next_questions(shipped_model, CASE, "serious")[:5]
    rows = question_rows(values, shipped_model.knowledge, "serious")
    assert list(rows["If yes: a serious cause present"]) == [
        format_probability(q.serious_if_yes) for q in values
    ]
    assert list(rows["If no: a serious cause present"]) == [
        format_probability(q.serious_if_no) for q in values
    ]


def test_every_published_case_draws_its_final_diagnosis_and_names_each_answer(shipped_model):
    """Teaching: 12 of the 47 library cases (all six cervical cancers) ended on a chart without their diagnosis."""
    for vignette in load_vignettes(shipped_model):
        causes = teaching_causes(diagnose(shipped_model, vignette.case).ranking, vignette.diagnosis)
        assert vignette.diagnosis in causes and len(causes) == len(set(causes)) == 4
        steps = answer_steps(vignette.case, shipped_model.knowledge)
        path = trajectory(shipped_model, vignette.case, causes)
        rows = trajectory_rows(steps, path, shipped_model.knowledge, vignette.diagnosis)
        assert len(rows) == 4 * len(steps)
        final = f"{shipped_model.knowledge.vocabulary.causes[vignette.diagnosis].label} (final diagnosis)"
        assert (rows["cause"] == final).sum() == len(steps)
        table = teaching_steps(steps, triage_after_each_answer(shipped_model, vignette.case))
        assert table["Answer"].iloc[0] == "Context only"
        assert all(answer.endswith((": yes", ": no")) for answer in table["Answer"].iloc[1:])


def test_what_if_lists_the_cause_a_number_belongs_to_even_when_it_does_not_lead(shipped_model):
    parameter = "cause_base_rates:cervical_cancer|age_band=35_44"
    tuned = build_model(shipped_model.knowledge, overrides={parameter: 0.002})
    case = {"context": {"age_band": "35_44"}, "findings": {"dryness": True}}
    now, then = diagnose(shipped_model, case), diagnose(tuned, case)
    assert "cervical_cancer" not in now.ranking[:3]
    rows = what_if_rows(now, then, shipped_model.knowledge, parameter, top=3)
    assert list(rows["Cause"]) == [
        shipped_model.knowledge.vocabulary.causes[c].label for c in now.ranking[:3]
    ] + ["Cervical cancer"]
    assert rows["What if"].iloc[-1] == format_probability(then.differential["cervical_cancer"])
    assert rows["What if"].iloc[-1] != rows["Now"].iloc[-1]


def test_every_number_of_the_knowledge_base_says_what_it_is_in_words(shipped_knowledge):
    meanings = {p: parameter_meaning(p, shipped_knowledge) for p in shipped_knowledge.parameters}
    assert len(set(meanings.values())) == len(meanings)  # no two numbers read the same
    for parameter, meaning in meanings.items():
        assert "_" not in meaning.split('"')[0] and meaning.endswith("."), parameter  # labels, not ids
        kind = "The odds ratio" if parameter.startswith("risk_factors:") else ("The chance", "The share")
        assert meaning.startswith(kind), parameter
