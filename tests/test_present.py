import json
import re

import pytest

from model import diagnose
from model.present import SEEK_CARE, diagnosis_record, diagnosis_text, format_probability, patient_summary


@pytest.mark.parametrize(
    ("p", "text"),
    [
        (0.5, "50.0%"),
        (0.0123, "1.2%"),
        (1 / 44000, "0.0023% (1 in 44,000)"),
        (1 / 2400, "0.042% (1 in 2,400)"),
        (0.0, "0%"),
    ],
)
def test_probabilities_read_as_people_quote_them(p, text):
    assert format_probability(p) == text


def test_red_flags_are_listed_with_both_messages_level_and_source(tiny_model):
    record = diagnosis_record(diagnose(tiny_model, {"context": {"age": "old"}, "findings": {"lesion": True}}))
    assert record["triage"]["level"] == "soon"
    flags = {flag["id"]: flag for flag in record["red_flags"]}
    assert set(flags) == {"lesion_seen", "cancer_probability"}
    assert flags["lesion_seen"] == {
        "id": "lesion_seen",
        "level": "soon",
        "message": "A lesion was seen.",
        "clinician": "For the clinician, a lesion was seen.",
        "source": [
            "Test fixture (2026). Made-up numbers for unit tests only. tests/data/tiny. tests/data/tiny/README"
        ],
    }


def test_record_is_the_cli_json_contract(tiny_model):
    record = diagnosis_record(diagnose(tiny_model, {"findings": {"test_infection": True}}))
    assert set(record) == {
        "ranked_by", "ranking", "explains", "unexplained", "posteriors", "priors", "prior_explains",
        "no_cause_found", "triage", "red_flags", "case",
    }  # fmt: skip
    assert record["triage"]["level"] == "routine"
    assert set(record["triage"]) == {"level", "label", "action", "clinician_action", "reasons", "advice"}
    assert record["ranking"][0] == "infection"
    assert set(record["posteriors"]) == set(record["priors"]) == {"ectropion", "infection", "cancer"}
    json.dumps(record)


def test_text_lists_causes_by_label_and_says_when_to_seek_care(tiny_model, tiny_knowledge):
    text = diagnosis_text(diagnose(tiny_model, {"findings": {"lesion": False}}), tiny_knowledge)
    lines = text.splitlines()
    assert lines[0].startswith("TRIAGE: BOOK A CHECK-UP.")
    table = lines.index(next(line for line in lines if line.startswith("Cause")))
    assert lines[table + 1].startswith("Ectropion")
    assert "Lesion: no" in text
    assert "none given" in text
    assert text.endswith(SEEK_CARE)


def test_differential_and_contribution_tables(tiny_model, tiny_knowledge):
    from model.explain import contributions
    from model.present import contributions_frame, differential_frame

    result = diagnose(tiny_model, {"context": {"age": "old"}, "findings": {"lesion": True}})
    frame = differential_frame(result, tiny_knowledge)
    assert list(frame["cause"]) == result.ranking and frame.loc[0, "serious"]
    steps = contributions_frame(contributions(tiny_model, result.case, "cancer"), tiny_knowledge)
    assert list(steps["answer"]) == ["Lesion: yes"] and steps.loc[0, "likelihood_ratio"] == pytest.approx(70)


def test_network_dot_highlights_the_case(tiny_model, tiny_knowledge):
    from model.present import network_dot

    dot = network_dot(tiny_knowledge, diagnose(tiny_model, {"findings": {"lesion": True}}), leading=1)
    assert dot.startswith("digraph") and '"cancer" -> "lesion";' in dot and '"age" -> "pill";' in dot
    assert '"lesion" [label="Lesion", shape=note, style=filled' in dot
    assert '"discharge" [label="Discharge", shape=note, style=solid' in dot


@pytest.mark.parametrize(
    "findings",
    [{"non_consensual": True}, {"heavy": True, "test_chlamydia": True}, {}],
    ids=["disclosure", "flags", "none"],
)
def test_the_patients_summary_is_in_her_words_without_codes_or_tables(shipped_model, findings):
    """The patient's download: the action and each reason in the words written for her, the three
    likeliest causes in words, when to seek care; never a rule id, a level code or a 22-row table."""
    result = diagnose(shipped_model, {"context": {"age_band": "25_34"}, "findings": findings})
    text = patient_summary(result, shipped_model.knowledge)
    assert text.startswith(f"What to do now: {result.triage.action}") and text.endswith(SEEK_CARE)
    assert all(flag.message in text for flag in result.triage.reasons)
    assert not any(flag.id in text or f"[{flag.level}" in text for flag in result.triage.reasons)
    assert "%" not in text
    in_words = r"^- .+: (about \d+ in 10|about \d+ in 100|fewer than 1 in 100|more than 9 in 10)$"
    assert len([line for line in text.splitlines() if re.match(in_words, line)]) == 3
