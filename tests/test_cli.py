import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from model.cli import main
from tests.conftest import TINY

ROOT = Path(__file__).resolve().parent.parent


def run(*argv, stdin=None):
    out, err = io.StringIO(), io.StringIO()
    if stdin is not None:
        data = stdin if isinstance(stdin, bytes) else stdin.encode()
        sys.stdin = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8")
    try:
        status = main(list(argv), out=out, err=err)
    finally:
        sys.stdin = sys.__stdin__
    return status, out.getvalue(), err.getvalue()


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_diagnose_prints_the_json_contract(tmp_path):
    case = write(tmp_path, "case.json", json.dumps({"findings": {"test_infection": True}}))
    status, out, err = run("diagnose", case, "--priors", str(TINY))
    assert status == 0 and err == ""
    result = json.loads(out)
    assert result["ranking"][0] == "infection"
    assert result["posteriors"]["infection"] == pytest.approx(0.09 / 0.108)
    assert result["priors"]["infection"] == pytest.approx(0.1)


def test_diagnose_text_format_and_stdin(tmp_path):
    status, out, _ = run("diagnose", "-", "--priors", str(TINY), "--format", "text", stdin='{"findings": {}}')
    assert status == 0
    assert out.startswith("TRIAGE: ")
    assert "\nCause " in out


def test_set_overrides_a_parameter_from_the_command_line(tmp_path):
    case = write(tmp_path, "case.json", json.dumps({"findings": {"test_infection": True}}))
    _, out, _ = run("diagnose", case, "--priors", str(TINY), "--set", "finding_leaks:test_infection=0.2")
    assert json.loads(out)["posteriors"]["infection"] == pytest.approx(0.09 / (0.09 + 0.9 * 0.2))


def test_batch_writes_one_result_per_line_and_keeps_going_after_a_bad_line(tmp_path):
    lines = ['{"findings": {"test_infection": true}}', "", '{"findings": {"rash": true}}', "{}"]
    cases = write(tmp_path, "cases.jsonl", "\n".join(lines))
    status, out, err = run("diagnose", "--batch", cases, "--priors", str(TINY))
    results = [json.loads(line) for line in out.splitlines()]
    assert [r["line"] for r in results] == [1, 3, 4]
    assert results[0]["ranking"][0] == "infection"
    assert "findings.rash: unknown finding" in results[1]["error"]
    assert "posteriors" in results[2]
    assert status == 2
    assert err.count("\n") == 1 and err.startswith(f"error: {cases}, line 3: findings.rash")


def test_parameters_lists_every_number_as_csv_and_json():
    status, out, _ = run("parameters", "--priors", str(TINY))
    assert status == 0
    header, *rows = out.strip().splitlines()
    assert header.startswith("id,table,value,ci_low,ci_high")
    assert len(rows) == 21
    status, out, _ = run("parameters", "--priors", str(TINY), "--format", "json")
    records = json.loads(out)
    assert {r["id"] for r in records} >= {"finding_leaks:lesion", "risk_factors:ectropion:pill=yes"}


@pytest.mark.parametrize("fmt", ["bif", "xmlbif"])
def test_export_writes_the_network(tmp_path, fmt):
    status, _, err = run("export", "--format", fmt, str(tmp_path / f"net.{fmt}"), "--priors", str(TINY))
    assert status == 0 and "wrote" in err
    assert "test_infection" in (tmp_path / f"net.{fmt}").read_text()


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (
            "{not json",
            r"not valid JSON \(Expecting property name enclosed in double quotes at line 1, column 2\)",
        ),
        ('{"context": {"age": "ancient"}}', r'context.age: "ancient" is not a state'),
        ('{"context": {"weather": "old"}}', r"context.weather: unknown context variable"),
        ('{"findings": {"lesion": "yes"}}', r"findings.lesion: \"yes\" must be true, false"),
        ('{"context": {"pill": "yes"}, "findings": {"lesion": true}}', r"impossible combination"),
        ("[]", r"a case must be a JSON object"),
    ],
)
def test_bad_case_exits_2_with_one_line(tmp_path, content, match):
    case = write(tmp_path, "case.json", content)
    status, out, err = run("diagnose", case, "--priors", str(TINY))
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("error: ")
    assert __import__("re").search(match, err), err


def test_zero_probability_evidence_exits_2(tmp_path):
    case = write(tmp_path, "case.json", '{"context": {"age": "old", "pill": "yes"}}')
    status, _, err = run(
        "diagnose", case, "--priors", str(TINY), "--set", "context_prevalence:pill=yes|age=old=0"
    )
    assert status == 2
    assert "context.pill: this answer cannot occur together" in err


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (
            ["diagnose"],
            r"the following arguments are required: CASE \(see: python -m model diagnose --help\)",
        ),
        (["diagnose", "x.json", "--format", "xml"], r"argument --format: invalid choice"),
        (["frobnicate"], r"invalid choice: 'frobnicate'"),
        (["parameters", "--set", "nonsense"], r"--set 'nonsense': use PARAMETER_ID=VALUE"),
        (["parameters", "--set", "finding_leaks:lesions=0.1"], r"finding_leaks:lesions: no such parameter"),
        (["parameters", "--priors", "/nonexistent"], r"/nonexistent: is not a folder"),
        (["export", "--format", "bif", "/nonexistent/dir/x.bif"], r"/nonexistent/dir/x.bif: cannot write"),
        (["diagnose", "missing.json"], r"missing.json: cannot read \(No such file or directory\)"),
    ],
)
def test_bad_usage_exits_2_with_one_line(argv, match):
    extra = [] if argv[0] == "frobnicate" or "--priors" in argv else ["--priors", str(TINY)]
    status, _, err = run(*argv, *extra)
    assert status == 2
    assert err.count("\n") == 1, err
    assert __import__("re").search(match, err), err


def test_broken_knowledge_base_exits_2_naming_file_row_and_field(tmp_path, tiny_copy):
    leaks = tiny_copy / "finding_leaks.csv"
    leaks.write_text(leaks.read_text().replace("lesion,0.01", "lesion,7"))
    status, _, err = run("parameters", "--priors", str(tiny_copy))
    assert status == 2
    assert (
        err
        == f"error: {tiny_copy}/finding_leaks.csv, row 5 (lesion), field 'value': 7.0 is not a probability\n"
    )


def test_python_dash_m_model_runs_as_a_program(tmp_path):
    case = write(tmp_path, "case.json", '{"context": {"age_band": "25_34"}}')
    done = subprocess.run(
        [sys.executable, "-m", "model", "diagnose", case],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["ranking"]
    bad = subprocess.run(
        [sys.executable, "-m", "model", "diagnose", "-"],
        input="{oops",
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert bad.returncode == 2
    assert "Traceback" not in bad.stderr and bad.stderr.startswith("error: -: not valid JSON")


def test_diagnose_answers_without_importing_pgmpy_pandas_or_scipy(tmp_path):
    """Tools call the CLI once per case: its start-up must not pay for what the fast engine never uses."""
    case = write(tmp_path, "case.json", '{"findings": {"exam_contact_bleeding": true}}')
    script = (
        "import sys; from model.cli import main; status = main(['diagnose', sys.argv[1]]);"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'pgmpy', 'pandas', 'scipy'}), status)"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, case], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "[] 0"


def test_diagnose_with_intervals_adds_them_to_json_and_text(tmp_path):
    case = write(tmp_path, "case.json", json.dumps({"findings": {"test_chlamydia": True}}))
    status, out, _ = run("diagnose", case, "--intervals", "--draws", "200", "--seed", "3")
    interval = json.loads(out)["intervals"]["chlamydia"]
    assert status == 0 and interval["level"] == 0.9 and interval["low"] < interval["high"]
    status, text, _ = run("diagnose", case, "--intervals", "--draws", "200", "--format", "text")
    assert status == 0 and "90% credible interval" in text


def test_next_questions_ranks_findings(tmp_path):
    case = write(tmp_path, "case.json", json.dumps({"context": {"age_band": "under_25"}, "findings": {}}))
    status, out, _ = run("next-questions", case, "--format", "json", "--top", "5")
    result = json.loads(out)
    assert status == 0 and result["target"] == "differential" and len(result["questions"]) == 5
    gains = [q["expected_gain"] for q in result["questions"]]
    assert gains == sorted(gains, reverse=True)
    status, text, _ = run("next-questions", case, "--target", "serious")
    assert status == 0 and "Red flags are always asked about" in text


def test_sensitivity_lists_parameters_widest_swing_first(tmp_path):
    case = write(tmp_path, "case.json", json.dumps({"findings": {"test_chlamydia": True}}))
    status, out, _ = run("sensitivity", case, "--cause", "chlamydia", "--format", "json", "--top", "4")
    result = json.loads(out)
    swings = [row["swing"] for row in result["parameters"]]
    assert status == 0 and len(swings) == 4 and swings == sorted(swings, reverse=True)
    status, _, err = run("sensitivity", case, "--cause", "flu")
    assert status == 2 and "--cause flu: not a cause id" in err


def test_batch_scores_a_csv_cohort_into_csv_and_parquet(tmp_path):
    cohort = write(tmp_path, "cohort.csv", "id,age_band,test_chlamydia\na,25_34,yes\nb,,\n")
    status, out, _ = run("diagnose", "--batch", cohort, "--id", "id")
    lines = out.splitlines()
    assert status == 0 and lines[0].startswith("id,ectropion,") and lines[1].startswith("a,")
    target = tmp_path / "scored.parquet"
    status, _, err = run("diagnose", "--batch", cohort, "--id", "id", "--output", str(target))
    import pandas as pd

    scored = pd.read_parquet(target)
    assert status == 0 and "scored 2 cases" in err
    assert scored.loc["a", "chlamydia"] > scored.loc["b", "chlamydia"]


def test_batch_with_a_bad_column_exits_2_naming_it(tmp_path):
    cohort = write(tmp_path, "cohort.csv", "age,test_chlamydia\n25_34,yes\n")
    status, out, err = run("diagnose", "--batch", cohort)
    assert status == 2 and out == "" and err.count("\n") == 1 and "column age:" in err


@pytest.mark.parametrize(
    ("extra", "match"),
    [
        (["--output", "x.csv"], "--output and --id apply to a CSV or Parquet cohort"),
        (["--intervals", "--batch"], "--intervals applies to one case"),
        (["--intervals", "--seed", "-1"], "'-1' is not a whole number of 0 or more"),
    ],
)
def test_options_that_would_be_ignored_or_are_invalid_exit_2(tmp_path, extra, match):
    case = write(tmp_path, "case.json", json.dumps({"findings": {"test_chlamydia": True}}))
    status, out, err = run("diagnose", case, *extra)
    assert status == 2 and out == "" and err.count("\n") == 1 and match in err


def test_cohort_output_problems_exit_2(tmp_path):
    cohort = write(tmp_path, "cohort.csv", "age_band\n25_34\n")
    status, _, err = run("diagnose", "--batch", cohort, "--output", str(tmp_path / "scored.xlsx"))
    assert status == 2 and "name a .csv or .parquet file" in err
    status, _, err = run("diagnose", "--batch", cohort, "--output", str(tmp_path / "missing" / "scored.csv"))
    assert status == 2 and err.startswith("error: ") and "cannot write" in err
    status, _, err = run("diagnose", "--batch", cohort, "--format", "text")
    assert status == 2 and "--format text applies to one case" in err


@pytest.mark.parametrize(
    ("case", "names"),
    [
        (
            {"context": {"pregnancy": "not_pregnant"}, "findings": {"test_pregnancy": True}},
            "pregnancy, test_pregnancy",
        ),
        (
            {"context": {"menopause": "pre"}, "findings": {"postmenopausal_bleeding": True}},
            "menopause, postmenopausal_bleeding",
        ),
        ({"context": {"menopause": "post", "pregnancy": "first_trimester"}}, "pregnancy, menopause"),
        ({"context": {"menopause": "post"}, "findings": {"heavy_periods": True}}, "menopause, heavy_periods"),
    ],
)
def test_answers_that_cannot_be_true_together_exit_2_naming_both(tmp_path, case, names):
    """A contradiction is an input error on the command line, never silently dropped or accepted."""
    status, out, err = run("diagnose", write(tmp_path, "case.json", json.dumps(case)))
    assert status == 2 and out == "" and err.count("\n") == 1
    assert err.startswith(f"error: {names}: impossible combination: ")


# Regression tests for the error contract: every input below once gave a traceback (exit 1), a hang
# or a silent default. Each now exits 2 with one line naming what is wrong.

DEEP = "[" * 40_000 + "]" * 40_000  # RecursionError in json before the limits


def one_error_line(status, out, err, match):
    assert status == 2, (status, err)
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("error: "), err
    assert __import__("re").search(match, err), err


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (DEEP, r"case.json: nests more than 10 deep"),
        ('{"context": ' * 50 + "{}" + "}" * 50, r"nests more than 10 deep"),
        ('{"findings": {"lesion": true, "lesion": false}}', r'the key "lesion" is given twice'),
        ('{"findings": {}, "findings": {"lesion": true}}', r'the key "findings" is given twice'),
        ('{"findings": {"x": "' + "y" * 200_000 + '"}}', r"is 200,\d+ characters; a case is at most 100,000"),
    ],
)
@pytest.mark.parametrize(
    "command", [["diagnose"], ["next-questions"], ["sensitivity", "--cause", "infection"]]
)
def test_a_case_too_deep_too_big_or_with_a_key_twice_exits_2(tmp_path, content, match, command):
    case = write(tmp_path, "case.json", content)
    one_error_line(*run(command[0], case, *command[1:], "--priors", str(TINY)), match)


@pytest.mark.parametrize(
    ("value", "match"),
    [
        ("inf", r"'inf' is not a number"),
        ("nan", r"'nan' is not a number"),
        ("3_7", r"'3_7' is not a number"),
        ("0_5", r"'0_5' is not a number"),
        ("0x1", r"'0x1' is not a number"),
        ("1e999", r"'1e999' is not a finite number"),
    ],
)
def test_set_takes_plain_decimals_only(value, match):
    one_error_line(*run("parameters", "--priors", str(TINY), "--set", f"finding_leaks:lesion={value}"), match)


def test_an_odds_ratio_of_infinity_is_refused_before_it_reaches_pgmpy():
    argv = ["parameters", "--priors", str(TINY), "--set", "risk_factors:cancer:age=old=inf"]
    one_error_line(*run(*argv), r"--set risk_factors:cancer:age=old: 'inf' is not a number")


def test_a_parameter_set_twice_is_refused_not_last_wins():
    argv = ["--set", "finding_leaks:lesion=0.1", "--set", "finding_leaks:lesion=0.2"]
    one_error_line(*run("parameters", "--priors", str(TINY), *argv), r"finding_leaks:lesion: given twice")


@pytest.mark.parametrize("option", [["--draws", "10"], ["--level", "0.8"], ["--seed", "3"]])
def test_interval_options_without_intervals_are_refused_not_ignored(tmp_path, option):
    case = write(tmp_path, "case.json", "{}")
    one_error_line(
        *run("diagnose", case, "--priors", str(TINY), *option), f"{option[0]} applies only with --intervals"
    )


def test_draws_have_a_stated_upper_limit(tmp_path):
    case = write(tmp_path, "case.json", "{}")
    argv = ["diagnose", case, "--priors", str(TINY), "--intervals", "--draws", "100000000"]
    one_error_line(*run(*argv), r"--draws: 100000000 is not a whole number from 1 to 20,000")


def test_a_jsonl_batch_refuses_the_text_format_it_would_ignore(tmp_path):
    cases = write(tmp_path, "cases.jsonl", "{}\n")
    one_error_line(
        *run("diagnose", "--batch", cases, "--format", "text", "--priors", str(TINY)), "--format text"
    )


def test_an_id_column_named_like_an_output_column_is_refused(tmp_path):
    cohort = write(tmp_path, "cohort.csv", "infection,age\n1,old\n")
    argv = ["diagnose", "--batch", cohort, "--id", "infection", "--priors", str(TINY)]
    one_error_line(*run(*argv), r"--id infection: is also the name of an output column")


def test_a_batch_keeps_every_good_line_and_names_each_bad_one(tmp_path):
    lines = [
        b'{"findings": {"lesion": true}}',
        DEEP.encode(),
        b"{}",
        b'{"findings": {"caf\xe9": true}}',
        b"{}",
    ]
    path = tmp_path / "cases.jsonl"
    path.write_bytes(b"\n".join(lines))
    status, out, err = run("diagnose", "--batch", str(path), "--priors", str(TINY))
    results = [json.loads(line) for line in out.splitlines()]
    assert status == 2
    assert [r["line"] for r in results] == [1, 2, 3, 4, 5]
    assert [("error" in r) for r in results] == [False, True, False, True, False]
    assert err.splitlines() == [
        f"error: {path}, line 2: nests more than 10 deep; a case is {{'context', 'findings'}}",
        f"error: {path}, line 4: byte 0xe9 is not UTF-8 text; save the file as UTF-8",
    ]


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b'{"findings": {"caf\xe9": true}}', r"-, line 1: byte 0xe9 is not UTF-8 text"),
        ('{"findings": {}}'.encode("utf-16"), r"-, line 1: byte 0xff is not UTF-8 text"),
    ],
)
def test_standard_input_that_is_not_utf8_exits_2(data, match):
    one_error_line(*run("diagnose", "-", "--priors", str(TINY), stdin=data), match)


def test_a_byte_order_mark_on_a_case_is_accepted():
    status, out, _ = run("diagnose", "-", "--priors", str(TINY), stdin=b'\xef\xbb\xbf{"findings": {}}')
    assert status == 0 and json.loads(out)["ranking"]


@pytest.mark.parametrize(
    ("encode", "match"),
    [
        (
            lambda text: text.replace("Fixture", "Fixtüre").encode("latin-1"),
            r"vocabulary.yaml, line \d+: byte 0xfc",
        ),
        (lambda text: text.encode("utf-16"), r"vocabulary.yaml, line 1: byte 0xff is not UTF-8"),
        (lambda text: b"\x00\x01\x02\xff" * 50, r"vocabulary.yaml, line 1: byte 0xff is not UTF-8"),
    ],
)
def test_a_priors_file_that_is_not_utf8_exits_2_naming_file_and_line(tiny_copy, encode, match):
    vocabulary = tiny_copy / "vocabulary.yaml"
    vocabulary.write_bytes(encode(vocabulary.read_text()))
    one_error_line(*run("parameters", "--priors", str(tiny_copy)), match)


def test_priors_dot_names_the_files_under_the_folder_given(tiny_copy, monkeypatch):
    (tiny_copy / "finding_leaks.csv").unlink()
    monkeypatch.chdir(tiny_copy)
    one_error_line(*run("parameters", "--priors", "."), r"^error: \./finding_leaks.csv: file not found")


def test_a_closed_pipe_stops_quietly_as_unix_tools_do():
    """``python -m model parameters | head -1`` gave a BrokenPipeError traceback."""
    command = f"{sys.executable} -m model parameters | head -1"
    done = subprocess.run(
        ["bash", "-c", f"set -o pipefail; {command}"], capture_output=True, text=True, cwd=ROOT
    )
    assert done.stdout.startswith("id,table,value")
    assert done.stderr == ""
    assert done.returncode == 141  # as a shell reports a tool stopped by SIGPIPE


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full to simulate a full disk")
def test_a_full_disk_exits_2_with_one_line():
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [sys.executable, "-m", "model", "parameters"],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
    assert done.returncode == 2
    assert done.stderr == "error: cannot write the output (No space left on device)\n"


def test_a_bad_cell_in_a_csv_cohort_is_named_by_its_line_in_the_file(tmp_path):
    """Regression: the row was counted from 0, not as the file's line."""
    cohort = write(tmp_path, "cohort.csv", "age_band,test_chlamydia\n25_34,yes\n25_34,maybe\n")
    one_error_line(
        *run("diagnose", "--batch", cohort), r"column test_chlamydia, line 3: 'maybe' is not yes, no"
    )
    status, out, _ = run("diagnose", "--batch", write(tmp_path, "good.csv", "age_band\n25_34\n"))
    assert status == 0 and out.startswith("line,ectropion,") and out.splitlines()[1].startswith("2,")
