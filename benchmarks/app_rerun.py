"""Time the app's rerun after a finding is answered, as a user would trigger it. Prints figures only."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[1] / "app.py")
FINDINGS = ["test_chlamydia", "fever", "dryness", "exam_contact_bleeding", "recurrent",
            "test_hpv", "heavy", "pelvic_pain", "itching", "exam_ectropion"]  # fmt: skip


CONTEXT = {"age_band": "25_34", "menopause": "pre", "pregnancy": "not_pregnant", "contraception": "none"}


def answer_findings(context: dict[str, str]) -> list[float]:
    """Set the context, then answer ten findings one at a time; return the rerun times."""
    app = AppTest.from_file(APP, default_timeout=120)
    app.run()
    for variable, state in context.items():
        app.selectbox(key=f"context:{variable}").set_value(state)
    app.run()
    times = []
    for number, finding in enumerate(FINDINGS):
        app.button_group(key=f"finding:{finding}").set_value("yes" if number % 2 else "no")
        started = time.perf_counter()
        app.run()
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    """Report rerun times with the context left unknown (the page's default) and with it set."""
    started = time.perf_counter()
    AppTest.from_file(APP, default_timeout=120).run()
    print(f"first run (builds the model): {time.perf_counter() - started:.2f} s")
    for title, context in (
        ("context unknown", {}),
        ("age, menopause, pregnancy, contraception set", CONTEXT),
    ):
        times = answer_findings(context)
        print(f"{title}: rerun after one answer, median {statistics.median(times):.2f} s, "
              f"max {max(times):.2f} s ({len(times)} answers)")  # fmt: skip


if __name__ == "__main__":
    main()
