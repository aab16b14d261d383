import json

import numpy as np
import pytest

from model import Case, CaseError, KnowledgeError, diagnose, parse_case
from model.case import MAX_LINK_PROBLEMS, case_from_file, case_from_query, case_in_file, saved_case
from model.present import diagnosis_record
from model.uncertainty import posterior_intervals


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


# Regression tests: the Python API once failed deep inside with untyped errors, or accepted these.


@pytest.mark.parametrize(
    ("arguments", "match"),
    [
        ({"context": ["age"]}, r"context: must be a mapping of ids, not list"),
        ({"context": {1: "old"}}, r"context.1: an id is text"),
        ({"context": {None: "old"}}, r"context.null: an id is text"),
        ({"context": {"age": 3}}, r"context.age: 3 must be a state id \(text\)"),
        ({"findings": {"lesion": "yes"}}, r'findings.lesion: "yes" must be true or false'),
        ({"findings": {"lesion": None}}, r"findings.lesion: null must be true or false"),
        ({"findings": {"lesion": 1}}, r"findings.lesion: 1 must be true or false"),
        (
            {"findings": {"x" * 1000: "no"}},
            r"^findings.x{60}… \(1,000 characters\): \"no\" must be true or false$",
        ),
    ],
)
def test_a_case_checks_its_shape_on_construction(arguments, match):
    with pytest.raises(CaseError, match=match):
        Case(**arguments)


def test_a_numpy_boolean_answer_is_the_boolean_it_is(tiny_knowledge):
    assert Case(findings={"lesion": np.bool_(True)}).findings == {"lesion": True}
    parsed = parse_case({"findings": {"lesion": np.bool_(False)}}, tiny_knowledge.vocabulary)
    assert parsed.findings == {"lesion": False} and type(parsed.findings["lesion"]) is bool


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ({"context": {1: "old"}}, r"context.1: unknown context variable"),
        ({"findings": {None: True}}, r"findings.null: unknown finding"),
        ({"findings": {"lesion": object()}}, r"findings.lesion: <object object at .*> must be true, false"),
        ({"context": {"age": "z" * 500}}, r"context.age: \"z{59}… \(502 characters\) is not a state"),
        ({("a",): {}}, r'\["a"\]: unknown key'),
    ],
)
def test_ids_that_are_not_text_and_long_values_give_short_typed_errors(tiny_knowledge, data, match):
    with pytest.raises(CaseError, match=match):
        parse_case(data, tiny_knowledge.vocabulary)


def test_a_constructed_case_is_checked_against_the_vocabulary_before_any_engine(tiny_model):
    """``Case({"age": "banana"})`` once failed later with "tuple.index(x): x not in tuple"."""
    for case, match in (
        (Case({"age": "banana"}), r'context.age: "banana" is not a state; use one of: young, old'),
        (Case(findings={"fevr": True}), r"findings.fevr: unknown finding"),
    ):
        for engine in ("fast", "pgmpy"):
            with pytest.raises(CaseError, match=match):
                diagnose(tiny_model, case, engine=engine)
        with pytest.raises(CaseError, match=match):
            posterior_intervals(tiny_model, case, draws=10)


# Links and uploads are untrusted: each bad pair is named (shortened) and only it is dropped.


def test_a_bad_pair_in_a_link_is_named_and_only_it_is_dropped(tiny_knowledge):
    case, problems = case_from_query(
        {"age": "old", "pill": "maybe", "lesion": ["yes", "no"], "discharge": ["yes", "yes"]},
        tiny_knowledge.vocabulary,
    )
    assert case.context == {"age": "old"} and case.findings == {"discharge": True}
    assert problems == [
        "'pill=maybe': use one of no, yes",
        "'lesion' is given 2 different values; give it once",
    ]


def test_link_text_is_quoted_short_and_the_problems_are_counted_past_a_few(tiny_knowledge):
    params = {"[verify](http://evil.example)": "yes", "age": "x" * 100_000}
    params.update({f"junk{i}": "yes" for i in range(20)})
    _, problems = case_from_query(params, tiny_knowledge.vocabulary)
    assert problems[0] == "'[verify](http://evil.example)' is not a context variable or finding"
    assert problems[1] == "'age=" + "x" * 60 + "… (100,000 characters)': use one of young, old"
    assert (
        len(problems) == MAX_LINK_PROBLEMS + 1
        and problems[-1] == "and 17 more pairs that were not understood"
    )


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"[" * 100_000 + b"]" * 100_000, r"the file: is 200,000 characters; a case is at most 100,000"),
        (b'{"findings": ' * 30_000 + b"{}" + b"}" * 30_000, r"the file: is [\d,]+ characters"),
        (b'{"context": ' * 20 + b"{}" + b"}" * 20, r"the file: nests more than 10 deep"),
        (
            b'{"findings": {"lesion": true}}'.decode().encode("utf-16"),
            r"the file: line 1: byte 0xff is not UTF-8",
        ),
        (b'{"findings": {"l\xe9sion": true}}', r"the file: line 1: byte 0xe9 is not UTF-8"),
        (b"{not json", r"the file: not valid JSON"),
        (b'{"findings": {"lesion": true, "lesion": false}}', r'the key "lesion" is given twice'),
        (
            b'{"findings": {"[x](http://evil.example)": true}}',
            r"findings.\[x\]\(http://evil.example\): unknown finding",
        ),
    ],
)
def test_a_case_file_that_cannot_be_used_is_a_case_error(tiny_knowledge, data, match):
    with pytest.raises(CaseError, match=match):
        case_from_file(data, tiny_knowledge.vocabulary)


def test_a_case_file_with_a_byte_order_mark_and_contradictions_is_read_as_entered(tiny_knowledge):
    case = case_from_file(
        b'\xef\xbb\xbf{"context": {"pill": "yes"}, "findings": {"lesion": true}}', tiny_knowledge.vocabulary
    )
    assert case.context == {"pill": "yes"} and case.findings == {"lesion": True}


# Pinned exactly: each test kills mutants of model/case.py that survived the tests above.


def test_a_case_keeps_its_own_copy_of_what_it_was_given():
    context, findings = {"age": "old"}, {"lesion": np.bool_(True)}
    case = Case(context, findings)
    context["age"], findings["lesion"] = "young", False
    assert case.context == {"age": "old"} and case.findings == {"lesion": True}
    assert type(case.findings["lesion"]) is bool


def test_findings_of_the_wrong_shape_are_named_as_findings():
    with pytest.raises(CaseError, match=r"^findings: must be a mapping of ids, not list$"):
        Case(findings=["lesion"])


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "a case must be a JSON object with 'context' and 'findings'"),
        ({"context": {None: "old"}}, "context.null: unknown context variable; use one of: age, pill"),
        (
            {"context": {"age": "yung"}},
            "context.age: \"yung\" is not a state (did you mean 'young'?); use one of: young, old",
        ),
        ({"findings": {1: True}}, "findings.1: unknown finding"),
    ],
)
def test_the_exact_words_of_a_bad_case(tiny_knowledge, data, message):
    with pytest.raises(CaseError) as caught:
        parse_case(data, tiny_knowledge.vocabulary)
    assert str(caught.value) == message


def test_a_link_suggests_the_id_it_probably_meant_and_counts_only_past_the_limit(tiny_knowledge):
    _, problems = case_from_query({"lesoin": "yes"}, tiny_knowledge.vocabulary)
    assert problems == ["'lesoin' is not a context variable or finding (did you mean 'lesion'?)"]
    bad = {f"junk{i}": "yes" for i in range(MAX_LINK_PROBLEMS)}
    _, problems = case_from_query(bad, tiny_knowledge.vocabulary)
    assert len(problems) == MAX_LINK_PROBLEMS and not any("more pairs" in p for p in problems)


def test_a_case_that_is_not_an_object_is_a_problem_of_the_whole_case(tiny_knowledge):
    with pytest.raises(CaseError) as caught:
        parse_case("fever", tiny_knowledge.vocabulary)
    assert caught.value.field == ""


def test_every_file_the_app_or_cli_writes_opens_as_its_case(shipped_model):
    """The app's download and ``diagnose`` output are full results; the case inside is what opens."""
    vocab = shipped_model.knowledge.vocabulary
    result = diagnose(shipped_model, {"context": {"age_band": "25_34"}, "findings": {"test_chlamydia": True}})
    record = json.loads(json.dumps(diagnosis_record(result)))
    assert parse_case(saved_case(record), vocab) == result.case
    assert parse_case(saved_case(result.case.to_dict()), vocab) == result.case
    assert case_from_file(json.dumps(record).encode(), vocab) == result.case


def test_a_bad_case_in_a_data_file_names_the_file_the_entry_and_the_field(shipped_knowledge):
    with pytest.raises(KnowledgeError) as raised:
        case_in_file(
            {"context": {"age_band": "banana"}},
            shipped_knowledge.vocabulary,
            "cases.yaml",
            "vignette x",
            "case.",
        )
    assert str(raised.value) == (
        "cases.yaml, vignette x, field 'case.context.age_band': \"banana\" is not a state; use one of: "
        "under_25, 25_34, 35_44, 45_54, 55_plus"
    )
