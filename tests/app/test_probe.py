"""The speed probe of `benchmarks/one_element_page.py` does the app's work, so its timings mean something."""

from __future__ import annotations

import json
from pathlib import Path

from streamlit.testing.v1 import AppTest

PROBE = str(Path(__file__).resolve().parents[2] / "benchmarks" / "one_element_page.py")


def probe_data(at: AppTest) -> dict:
    """What the probe gave its element on the last run."""
    (element,) = [e for e in at.main if type(e).__name__ == "UnknownElement"]
    return json.loads(element.proto.json)


def test_the_probe_diagnoses_each_case_with_its_triage_and_ranking():
    at = AppTest.from_file(PROBE, default_timeout=120)
    at.query_params.update(age_band="under_25", menopause="pre", pregnancy="not_pregnant")
    at.run()
    assert not at.exception
    assert "Triage: Book a check-up." in probe_data(at)["results"]
    at.session_state["answers"] = {"test_chlamydia": "yes", "heavy": "yes"}
    at.run()
    results = probe_data(at)["results"]
    assert "Triage: Emergency." in results and "Red flag: Emergency: Uncontrolled vaginal bleeding" in results
    assert results.index("Chlamydia ") < results.index("Cervical ectropion")  # the differential, sorted
    assert "Ectropion seen on the cervix" in results  # a next question
