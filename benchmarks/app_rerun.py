"""Time the app's rerun after a finding is answered, as a user would trigger it. Prints figures only."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[1] / "app.py")
FINDINGS = ["test_chlamydia", "fever", "dryness", "exam_contact_bleeding", "recurrent",
            "test_hpv", "heavy", "pelvic_pain", "itching", "exam_ectropion"]  # fmt: skip


def main() -> None:
    """Answer ten findings one at a time and report the rerun times."""
    app = AppTest.from_file(APP, default_timeout=120)
    started = time.perf_counter()
    app.run()
    print(f"first run (builds the model): {time.perf_counter() - started:.2f} s")
    times = []
    for number, finding in enumerate(FINDINGS):
        app.radio(key=f"finding:{finding}").set_value("yes" if number % 2 else "no")
        started = time.perf_counter()
        app.run()
        times.append(time.perf_counter() - started)
    print(f"rerun after one answer: median {statistics.median(times):.2f} s, max {max(times):.2f} s "
          f"({len(times)} answers)")  # fmt: skip


if __name__ == "__main__":
    main()
