import pytest

from model import CaseError, parse_case


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ([], r"a case must be a JSON object"),
        ({"symptoms": {}}, r"symptoms: unknown key; a case has only context and findings"),
        ({"context": []}, r"context: must be an object"),
        ({"findings": "fever"}, r"findings: must be an object"),
        ({"context": {"agee": "old"}}, r"context.agee: unknown context variable \(did you mean 'age'\?\)"),
        ({"context": {"age": "ancient"}}, r'context.age: "ancient" is not a state; use one of: young, old'),
        ({"context": {"pill": True}}, r"context.pill: true is not a state; use one of: no, yes"),
        ({"findings": {"lesions": True}}, r"findings.lesions: unknown finding \(did you mean 'lesion'\?\)"),
        (
            {"findings": {"lesion": "yes"}},
            r'findings.lesion: "yes" must be true, false, or left out when unknown',
        ),
        ({"findings": {"lesion": 1}}, r"findings.lesion: 1 must be true, false"),
        (
            {"context": {"pill": "yes"}, "findings": {"lesion": True}},
            r"pill, lesion: impossible combination: a fixture rule",
        ),
    ],
)
def test_bad_cases_are_rejected_with_where_and_what(tiny_knowledge, data, match):
    with pytest.raises(CaseError, match=match):
        parse_case(data, tiny_knowledge.vocabulary)


def test_unknown_answers_are_left_out_not_set_to_no(tiny_knowledge):
    case = parse_case(
        {"context": {"age": None, "pill": "no"}, "findings": {"lesion": None, "discharge": False}},
        tiny_knowledge.vocabulary,
    )
    assert case.context == {"pill": "no"}
    assert case.findings == {"discharge": False}
    assert case.evidence() == {"pill": "no", "discharge": "no"}


def test_empty_case_is_valid(tiny_knowledge):
    case = parse_case({}, tiny_knowledge.vocabulary)
    assert case.evidence() == {}
    assert case.to_dict() == {"context": {}, "findings": {}}


def test_shipped_vocabulary_rejects_pregnancy_after_menopause(shipped_knowledge):
    with pytest.raises(CaseError, match="impossible combination: pregnancy cannot be combined"):
        parse_case(
            {"context": {"menopause": "post", "pregnancy": "first_trimester"}}, shipped_knowledge.vocabulary
        )


def test_query_round_trip_keeps_every_answer(shipped_knowledge):
    from model.case import Case, case_from_query, case_to_query

    case = Case(
        {"age_band": "25_34", "smoker": "yes"},
        {"postcoital_bleeding": True, "fever": False, "test_hpv": True},
    )
    restored, problems = case_from_query(case_to_query(case), shipped_knowledge.vocabulary)
    assert restored == case and problems == []


def test_the_presenting_complaint_is_yes_unless_answered(shipped_knowledge):
    """Everyone the tool sees presents with bleeding after sex unless the case says otherwise."""
    from model.case import case_from_query, parse_case

    vocab = shipped_knowledge.vocabulary
    assert parse_case({}, vocab).findings == {"postcoital_bleeding": True}
    assert parse_case({"findings": {"postcoital_bleeding": None}}, vocab).findings == {
        "postcoital_bleeding": True
    }
    other = parse_case({"findings": {"postcoital_bleeding": False, "postmenopausal_bleeding": True}}, vocab)
    assert other.findings == {"postcoital_bleeding": False, "postmenopausal_bleeding": True}
    assert case_from_query({"postcoital_bleeding": "no"}, vocab)[0].findings == {"postcoital_bleeding": False}
    assert case_from_query({}, vocab)[0].findings == {"postcoital_bleeding": True}


def test_bad_query_pairs_are_reported_and_skipped(shipped_knowledge):
    from model.case import case_from_query

    case, problems = case_from_query(
        {"age_band": "old", "fever": "maybe", "smoker": "unknown", "rash": "yes", "dryness": "yes"},
        shipped_knowledge.vocabulary,
    )
    assert case.findings == {"postcoital_bleeding": True, "dryness": True} and case.context == {}
    assert len(problems) == 3
    assert "'age_band=old': use one of" in problems[0] and "'fever=maybe'" in problems[1]


def test_impossible_query_keeps_every_answer_and_says_why(shipped_knowledge):
    from model.case import case_from_query

    case, problems = case_from_query(
        {"menopause": "post", "pregnancy": "first_trimester", "age_band": "45_54"},
        shipped_knowledge.vocabulary,
    )
    assert case.context == {"menopause": "post", "pregnancy": "first_trimester", "age_band": "45_54"}
    assert problems == []  # the contradiction is weighed and named by diagnose_readings
