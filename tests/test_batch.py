"""Cohort scoring: the same numbers as one case at a time, clear errors, and Dask partitions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from model import CaseError, diagnose
from model.batch import PROBLEM, score, score_partitions, simulate_cohort
from model.errors import ArgumentError

ROWS = [
    ({"age_band": "25_34", "menopause": "pre"}, {"test_chlamydia": True, "exam_contact_bleeding": True}),
    ({"age_band": "55_plus", "menopause": "post"}, {"postmenopausal_bleeding": True, "dryness": False}),
    ({}, {}),
    ({"pregnancy": "first_trimester"}, {"pelvic_pain": True, "heavy": True, "faintness": False}),
    ({"menopause": "post"}, {"postcoital_bleeding": False, "postmenopausal_bleeding": True}),
]


def _frame(rows):
    records = []
    for context, findings in rows:
        records.append({**context, **{f: "yes" if v else "no" for f, v in findings.items()}})
    return pd.DataFrame(records).fillna("")


def test_scores_equal_diagnose_case_by_case(shipped_model):
    scored = score(shipped_model, _frame(ROWS))
    for i, (context, findings) in enumerate(ROWS):
        result = diagnose(shipped_model, {"context": context, "findings": findings})
        for cause, value in result.posteriors.items():
            assert scored.loc[i, cause] == pytest.approx(value, abs=1e-9)
            explains = np.nan if result.explains is None else result.explains[cause]
            assert scored.loc[i, f"explains_{cause}"] == pytest.approx(explains, abs=1e-9, nan_ok=True)
        unexplained = np.nan if result.unexplained is None else result.unexplained
        assert scored.loc[i, "unexplained"] == pytest.approx(unexplained, abs=1e-9, nan_ok=True)
        assert scored.loc[i, "no_cause_found"] == pytest.approx(result.no_cause_found, abs=1e-9)
        assert scored.loc[i, PROBLEM] == ""


def test_empty_cells_are_unknown_not_no(shipped_model):
    with_blank = score(shipped_model, pd.DataFrame({"age_band": ["25_34"], "test_chlamydia": [""]}))
    without = score(shipped_model, pd.DataFrame({"age_band": ["25_34"]}))
    answered_no = score(shipped_model, pd.DataFrame({"age_band": ["25_34"], "test_chlamydia": ["no"]}))
    assert with_blank.loc[0, "chlamydia"] == without.loc[0, "chlamydia"]
    assert answered_no.loc[0, "chlamydia"] < without.loc[0, "chlamydia"]


def test_index_is_kept_and_answer_spellings_are_accepted(shipped_model):
    frame = pd.DataFrame({"test_chlamydia": ["yes", "True", 1, "NO"]}, index=["a", "b", "c", "d"])
    scored = score(shipped_model, frame)
    assert list(scored.index) == ["a", "b", "c", "d"]
    assert scored.loc["a", "chlamydia"] == scored.loc["b", "chlamydia"] == scored.loc["c", "chlamydia"]
    assert scored.loc["d", "chlamydia"] < scored.loc["a", "chlamydia"]


def test_an_impossible_row_is_flagged_and_the_others_scored(shipped_model):
    frame = pd.DataFrame({"menopause": ["post", "pre"], "pregnancy": ["first_trimester", "first_trimester"]})
    scored = score(shipped_model, frame)
    assert "pregnancy cannot be combined" in scored.loc[0, PROBLEM]
    assert scored.loc[0, "ectropion":"any_serious_cause"].isna().all()
    assert scored.loc[1, PROBLEM] == "" and scored.loc[1, "pregnancy_complication"] > 0


def test_an_unknown_column_is_named_with_a_suggestion(shipped_model):
    with pytest.raises(CaseError, match=r"column test_chlamidia: .*did you mean test_chlamydia"):
        score(shipped_model, pd.DataFrame({"test_chlamidia": ["yes"]}))


def test_a_bad_value_names_its_column_and_row(shipped_model):
    with pytest.raises(CaseError, match=r"column age_band, row 1: '30' is not one of"):
        score(shipped_model, pd.DataFrame({"age_band": ["25_34", "30"]}))
    with pytest.raises(CaseError, match=r"column fever, row 0: 'maybe' is not yes, no or empty"):
        score(shipped_model, pd.DataFrame({"fever": ["maybe"]}))


def test_progress_is_reported(shipped_model):
    calls = []
    score(shipped_model, _frame(ROWS), progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (len(ROWS), len(ROWS))


def test_simulated_cohort_is_seeded_and_scoreable(shipped_model):
    first, again = simulate_cohort(shipped_model, 200, seed=4), simulate_cohort(shipped_model, 200, seed=4)
    assert first.equals(again)
    scored = score(shipped_model, first)
    assert (scored[PROBLEM] == "").all()
    assert np.isfinite(scored.drop(columns=PROBLEM).to_numpy()).all()


def test_dask_partitions_on_a_local_cluster_match_one_process(shipped_model, monkeypatch):
    dd = pytest.importorskip("dask.dataframe")
    distributed = pytest.importorskip("distributed")
    # An in-process cluster names itself by the machine's address, which Dask finds by opening a
    # socket towards a public host; the offline guard forbids that, and the address is not needed.
    monkeypatch.setattr("distributed.comm.inproc.get_ip", lambda: "127.0.0.1")
    cohort = simulate_cohort(shipped_model, 300, seed=2)
    expected = score(shipped_model, cohort)
    with (
        distributed.LocalCluster(n_workers=2, processes=False, dashboard_address=None) as cluster,
        distributed.Client(cluster),
    ):
        scored = score_partitions(shipped_model, dd.from_pandas(cohort, npartitions=3)).compute()
    pd.testing.assert_frame_equal(scored.sort_index(), expected, check_exact=True)


# Regression tests: these once failed deep inside pandas or NumPy, or were silently accepted.


@pytest.mark.parametrize("frame", [[{"age_band": "25_34"}], {"age_band": ["25_34"]}, None])
def test_score_refuses_what_is_not_a_data_frame(shipped_model, frame):
    with pytest.raises(ArgumentError, match=r"frame: must be a pandas DataFrame, not"):
        score(shipped_model, frame)


def test_a_column_given_twice_is_refused(shipped_model):
    frame = pd.DataFrame([["yes", "no"]], columns=["fever", "fever"])
    with pytest.raises(CaseError, match=r"column fever: appears twice; give each column once"):
        score(shipped_model, frame)


@pytest.mark.parametrize(
    ("arguments", "match"),
    [
        ({"size": -1}, r"size: -1 is not a whole number of 0 or more"),
        ({"size": 2.5}, r"size: 2.5 is not a whole number"),
        ({"size": 5, "context_known": 2}, r"context_known: 2 is not a number from 0 to 1"),
        ({"size": 5, "answered": -0.1}, r"answered: -0.1 is not a number from 0 to 1"),
        ({"size": 5, "seed": -3}, r"seed: -3 is not a whole number of 0 or more"),
    ],
)
def test_simulate_cohort_states_its_limits(shipped_model, arguments, match):
    with pytest.raises(ArgumentError, match=match):
        simulate_cohort(shipped_model, **arguments)
