import pytest

from model import KnowledgeError, load_knowledge
from model.knowledge import DEFAULT_PRIORS


def test_every_row_gets_a_stable_parameter_id(tiny_knowledge):
    ids = set(tiny_knowledge.parameters)
    assert {
        "context_prevalence:age=young",
        "context_prevalence:pill=yes|age=old",
        "cause_base_rates:ectropion",
        "risk_factors:ectropion:pill=yes",
        "finding_links:infection:test_infection",
        "finding_links:pill=yes:discharge",
        "finding_leaks:lesion",
    } <= ids
    assert len(ids) == 21


def _edit(folder, file, old, new):
    path = folder / file
    text = path.read_text()
    assert old in text, f"fixture text {old!r} not in {file}"
    path.write_text(text.replace(old, new, 1))


@pytest.mark.parametrize(
    ("file", "old", "new", "match"),
    [
        (
            "finding_leaks.csv",
            "lesion,0.01",
            "lesion,1.3",
            r"finding_leaks.csv, row 5 \(lesion\), field 'value'",
        ),
        (
            "finding_leaks.csv",
            "lesion,0.01",
            "lesion,abc",
            r"row 5 \(lesion\), field 'value': 'abc' is not a number",
        ),
        ("finding_leaks.csv", "lesion,0.01", "lesion,", r"row 5 \(lesion\), field 'value': is empty"),
        ("risk_factors.csv", "yes,no,2.0,1,4", "yes,no,-2,-3,4", r"field 'value': -2.0 is not an odds ratio"),
        (
            "risk_factors.csv",
            "yes,no,2.0,1,4",
            "yes,no,2.0,3,4",
            r"field 'ci_low': the value must lie within",
        ),
        ("cause_base_rates.csv", "infection,,0.1,", "infection,,1,", r"must be strictly between 0 and 1"),
        (
            "cause_base_rates.csv",
            "infection,,0.1,0,1",
            "infection,,0.1,,",
            r"field 'ci_low': give a 95% interval",
        ),
        (
            "cause_base_rates.csv",
            "fixture,fixture,",
            "fixture,nobody2020,",
            r"'nobody2020' is not a key of sources",
        ),
        ("cause_base_rates.csv", "fixture,,cohort", "fixture,,hearsay", r"field 'evidence': must be one of"),
        (
            "cause_base_rates.csv",
            "fixture,,cohort",
            "fixture,,derived",
            r"field 'rationale': required for derived",
        ),
        (
            "finding_leaks.csv",
            "finding,value",
            "finding,worth",
            r"finding_leaks.csv, header: missing columns: value",
        ),
        ("finding_leaks.csv", "lesion,0.01", "discharge,0.01", r"row 5 \(discharge\): duplicate of row 2"),
    ],
)
def test_row_errors_name_file_row_and_field(tiny_copy, file, old, new, match):
    _edit(tiny_copy, file, old, new)
    with pytest.raises(KnowledgeError, match=match):
        load_knowledge(tiny_copy)


@pytest.mark.parametrize(
    ("file", "old", "new", "match"),
    [
        (
            "context_prevalence.csv",
            "age,old,,0.4",
            "age,old,,0.5",
            r"age, field 'value': the states sum to 1.1000",
        ),
        (
            "context_prevalence.csv",
            "pill,yes,old,0.1",
            "pill,yes,middle,0.1",
            r"field 'given_state': must be a state",
        ),
        (
            "context_prevalence.csv",
            "age,old,,0.4",
            "age,elderly,,0.4",
            r"field 'state': must be one of: young, old",
        ),
        ("context_prevalence.csv", "age,old,,0.4", "weather,old,,0.4", r"field 'variable': is not a context"),
        ("context_prevalence.csv", "age,old,,0.4", "age,old,young,0.4", r"'age' has no parent variable"),
        ("cause_base_rates.csv", "cancer,,", "tumour,,", r"field 'cause': is not a cause of vocabulary"),
        ("cause_base_rates.csv", "cancer,,", "cancer,age=young,", r"field 'stratum': no row for age=old"),
        (
            "cause_base_rates.csv",
            "infection,,",
            "infection,age=middle,",
            r"field 'stratum': must be empty or",
        ),
        ("risk_factors.csv", "pill,yes,no", "pill,yes,yes", r"field 'state': is its own reference state"),
        ("risk_factors.csv", "pill,yes,no", "pill,maybe,no", r"field 'state': must be one of: no, yes"),
        ("finding_links.csv", "cancer,lesion,0.7", "cancer,lesion,0.001", r"below the leak 0.01 of lesion"),
        (
            "finding_links.csv",
            "cancer,lesion,0.7",
            "tumour,lesion,0.7",
            r"field 'link_source': must be a cause id",
        ),
        ("finding_links.csv", "cancer,lesion,0.7", "cancer,rash,0.7", r"field 'finding': is not a finding"),
        (
            "finding_links.csv",
            "cancer,lesion,0.7",
            "cancer,discharge,0.7",
            r"field 'finding': no link for: lesion",
        ),
        ("finding_leaks.csv", "lesion,0.01", "rash,0.01", r"field 'finding': is not a finding"),
    ],
)
def test_cross_row_errors_name_where(tiny_copy, file, old, new, match):
    _edit(tiny_copy, file, old, new)
    with pytest.raises(KnowledgeError, match=match):
        load_knowledge(tiny_copy)


def test_stratum_variable_cannot_also_be_a_risk_factor(tiny_copy):
    _edit(tiny_copy, "cause_base_rates.csv", "ectropion,,0.3", "ectropion,pill=no,0.3")
    (tiny_copy / "cause_base_rates.csv").write_text(
        (tiny_copy / "cause_base_rates.csv").read_text()
        + "ectropion,pill=yes,0.4,0,1,,,fixture,fixture,,cohort,\n"
    )
    with pytest.raises(KnowledgeError, match="is already the stratum of ectropion"):
        load_knowledge(tiny_copy)


def test_overrides_return_a_new_validated_copy(tiny_knowledge):
    tuned = tiny_knowledge.with_overrides({"finding_leaks:lesion": 0.02})
    assert tuned.parameters["finding_leaks:lesion"].value == 0.02
    assert tiny_knowledge.parameters["finding_leaks:lesion"].value == 0.01


def test_overriding_a_context_state_rescales_its_siblings(tiny_knowledge):
    tuned = tiny_knowledge.with_overrides({"context_prevalence:pill=yes|age=old": 0.5})
    assert tuned.parameters["context_prevalence:pill=no|age=old"].value == pytest.approx(0.5)
    assert tuned.parameters["context_prevalence:pill=no|age=young"].value == pytest.approx(0.5)


def test_unknown_override_names_the_closest_ids(tiny_knowledge):
    with pytest.raises(
        KnowledgeError, match=r"overrides, finding_leaks:lesions: no such parameter; did you mean"
    ):
        tiny_knowledge.with_overrides({"finding_leaks:lesions": 0.02})


@pytest.mark.parametrize(
    ("override", "match"),
    [
        ({"finding_leaks:lesion": 2}, "is not a probability"),
        ({"finding_leaks:lesion": "x"}, "'x' is not a number"),
        ({"finding_leaks:lesion": 0.9}, "below the leak 0.9 of lesion"),
        ({"risk_factors:ectropion:pill=yes": 0}, "is not an odds ratio"),
    ],
)
def test_invalid_override_is_rejected_like_a_bad_file(tiny_knowledge, override, match):
    with pytest.raises(KnowledgeError, match=match):
        tiny_knowledge.with_overrides(override)


def test_parameter_frame_lists_every_number_with_its_citation(tiny_knowledge):
    frame = tiny_knowledge.parameter_frame()
    assert len(frame) == len(tiny_knowledge.parameters)
    assert {"id", "value", "ci_low", "ci_high", "source", "evidence", "expert_estimate", "population"} <= set(
        frame
    )
    assert frame["source"].str.contains("Test fixture").all()


def test_shipped_priors_load_from_any_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert "chlamydia" in load_knowledge().vocabulary.causes


def test_a_tuned_set_written_as_a_folder_loads_with_its_values_and_says_so(tiny_knowledge, tmp_path):
    changes = {"finding_leaks:lesion": 0.02, "risk_factors:ectropion:pill=yes": 2.5}
    tuned = tiny_knowledge.with_overrides(changes)
    folder = tuned.write(tmp_path / "tuned", note="a test")
    loaded = load_knowledge(folder)
    assert loaded.parameters.keys() == tiny_knowledge.parameters.keys()
    for pid, original in tiny_knowledge.parameters.items():
        written = loaded.parameters[pid]
        if pid in changes:
            assert written.value == changes[pid]
            assert written.rationale.startswith(f"Tuned from {original.value:g} to {changes[pid]:g} (a test)")
            assert written.evidence == "expert_estimate"
        else:
            assert written == original
    assert loaded.vocabulary == tiny_knowledge.vocabulary


def test_a_tuned_value_outside_its_interval_widens_the_interval_and_says_so(tiny_knowledge, tmp_path):
    original = tiny_knowledge.parameters["risk_factors:ectropion:pill=yes"]
    outside = original.ci_high * 2
    folder = tiny_knowledge.with_overrides({original.id: outside}).write(tmp_path / "tuned")
    written = load_knowledge(folder).parameters[original.id]
    assert (written.ci_low, written.ci_high) == (original.ci_low, outside)
    assert "widened to include it" in written.rationale


def test_writing_refuses_the_shipped_folder_and_a_folder_in_use(tiny_knowledge, tmp_path):
    with pytest.raises(KnowledgeError, match="write a tuned set to a new folder"):
        load_knowledge().write(DEFAULT_PRIORS / "tuned")
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "notes.txt").write_text("mine")
    with pytest.raises(KnowledgeError, match="already exists and is not empty"):
        tiny_knowledge.write(tmp_path / "used")
    assert sorted(p.name for p in (tmp_path / "used").iterdir()) == ["notes.txt"]


def test_the_package_has_no_import_cycle():
    """Each module imports only modules below it: the loader runs the checks, the checks never import it."""
    import ast
    from pathlib import Path

    package = Path(__file__).resolve().parents[1] / "model"
    graph = {}
    for path in package.glob("*.py"):
        imported = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("model."):
                imported.add(node.module.removeprefix("model."))
            elif isinstance(node, ast.Import):
                imported |= {a.name.removeprefix("model.") for a in node.names if a.name.startswith("model.")}
        graph[path.stem] = imported

    def reaches(start, target, seen=()):
        return any(
            n == target or (n not in seen and reaches(n, target, (*seen, n))) for n in graph.get(start, ())
        )

    assert not [m for m in graph if m != "__init__" and reaches(m, m)]


# Regression tests: the loader once accepted these silently, or named the wrong problem or line.


@pytest.mark.parametrize(
    ("file", "old", "new", "match"),
    [
        (
            "finding_leaks.csv",
            "lesion,0.01,0,1",
            "lesion,0.01,0,7",
            r"row 5 \(lesion\), field 'ci_high': 7 is not a probability",
        ),
        (
            "finding_leaks.csv",
            "lesion,0.01,0,1",
            "lesion,0.01,-0.5,1",
            r"field 'ci_low': -0.5 is not a probability",
        ),
        ("risk_factors.csv", "yes,no,2.0,1,4", "yes,no,2.0,0,4", r"field 'ci_low': 0 is not an odds ratio"),
        (
            "finding_leaks.csv",
            "lesion,0.01,0,1,",
            "lesion,0.01,0,1,,,,extra,",
            r"row 5: has 15 fields; the header has 11",
        ),
        (
            "finding_leaks.csv",
            "lesion,0.01,0,1,,,fixture,fixture,,cohort,",
            "lesion,0.01,0,1",
            r"row 5: has 4 fields; the header has 11",
        ),
        ("finding_leaks.csv", "finding,value", "finding,value,value", r"header: columns named twice: value"),
        (
            "finding_leaks.csv",
            "finding,value",
            "finding,colour,value",
            r"header: unknown columns: colour; the columns are finding, value",
        ),
        ("finding_leaks.csv", "lesion,0.01", "lesion,1_0", r"field 'value': '1_0' is not a number"),
        ("finding_leaks.csv", "lesion,0.01", "lesion,inf", r"field 'value': 'inf' is not a number"),
        ("finding_leaks.csv", "finding,value", "\n\nfinding,value", r"row 7 \(lesion\)"),
        ("finding_leaks.csv", "discharge,0.1", "\ndischarge,0.1", r"row 6 \(lesion\), field 'value'"),
    ],
)
def test_out_of_range_intervals_extra_fields_and_real_line_numbers(tiny_copy, file, old, new, match):
    _edit(tiny_copy, file, old, new)
    if "row 6" in match or "row 7" in match:  # a value error on the lesion row, after blank lines
        _edit(tiny_copy, "finding_leaks.csv", "lesion,0.01", "lesion,1.5")
    with pytest.raises(KnowledgeError, match=match):
        load_knowledge(tiny_copy)


def test_a_byte_order_mark_is_read_as_utf8_not_as_a_missing_column(tiny_copy):
    for name in ("finding_leaks.csv", "vocabulary.yaml"):
        path = tiny_copy / name
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert load_knowledge(tiny_copy).parameters["finding_leaks:lesion"].value == 0.01


def test_a_latin1_csv_names_the_line_of_the_first_bad_byte(tiny_copy):
    _edit(tiny_copy, "finding_leaks.csv", "lesion,0.01", "lesion,0.01")
    path = tiny_copy / "finding_leaks.csv"
    path.write_bytes(
        path.read_bytes().replace(
            b"lesion,0.01,0,1,,,fixture,fixture,", b"lesion,0.01,0,1,,,fixture,fixt\xfcre,"
        )
    )
    with pytest.raises(KnowledgeError, match=r"finding_leaks.csv, line 5: byte 0xfc is not UTF-8 text"):
        load_knowledge(tiny_copy)


def test_a_duplicate_yaml_key_is_named_with_its_line(tiny_copy):
    path = tiny_copy / "vocabulary.yaml"
    lines = path.read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("  lesion:"))
    lines.insert(at + 1, lines[at])
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(
        KnowledgeError, match=rf"vocabulary.yaml, line {at + 2}, column 3: .*'lesion' is given twice"
    ):
        load_knowledge(tiny_copy)


def test_a_quoted_value_over_two_lines_keeps_the_following_line_numbers(tiny_copy):
    _edit(
        tiny_copy,
        "finding_leaks.csv",
        "discharge,0.1,0,1,,,fixture,fixture,,cohort,",
        'discharge,0.1,0,1,,,"two\nlines",fixture,,cohort,',
    )
    _edit(tiny_copy, "finding_leaks.csv", "lesion,0.01", "lesion,1.5")
    with pytest.raises(KnowledgeError, match=r"row 6 \(lesion\)"):
        load_knowledge(tiny_copy)


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ([("finding_leaks:lesion", 0.1)], r"overrides: must be a mapping of parameter id to value"),
        ({1: 0.1}, r"overrides, 1: a parameter id is text"),
        ({None: 0.1}, r"overrides, None: a parameter id is text"),
        ({"finding_leaks:lesion": "3_7"}, r"'3_7' is not a number"),
        ({"finding_leaks:lesion": True}, r"True is not a number"),
        ({"finding_leaks:lesion": float("nan")}, r"nan is not a finite number"),
        ({"risk_factors:ectropion:pill=yes": float("inf")}, r"inf is not a finite number"),
    ],
)
def test_overrides_of_the_wrong_shape_or_type_are_knowledge_errors(tiny_knowledge, overrides, match):
    with pytest.raises(KnowledgeError, match=match):
        tiny_knowledge.with_overrides(overrides)
