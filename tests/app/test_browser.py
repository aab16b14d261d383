"""End to end in a real browser: Debian's Chromium driven by Playwright against `streamlit run app.py`."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--no-first-run", "--disable-sync", "--disable-quic"]  # fmt: skip

if not CHROMIUM.exists():
    if os.environ.get("CI"):
        pytest.fail("CI must run the browser test: /usr/bin/chromium is missing", pytrace=False)
    pytest.skip("Debian's chromium is not installed here (apt-get install chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(autouse=True)
def no_network():
    """Override the suite's socket guard: this test talks to its own server on localhost."""


@pytest.fixture(scope="module")
def server():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # The README's launcher (pcb-app): the project's options, whatever the working directory.
    command = [sys.executable, "-m", "model.launch", f"--server.port={port}", "--server.address=127.0.0.1"]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("streamlit did not start within 60 s")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_a_worked_case_in_a_real_browser(server, tmp_path):
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1800})
        page.goto(server, timeout=120_000)
        page.get_by_text("Triage: Book a check-up").wait_for(timeout=120_000)

        page.get_by_role("combobox", name="Menopause", exact=True).click()  # set a context
        page.get_by_role("option", name="No period for 12 months or more (after the menopause)").click()
        page.get_by_text("Triage: Within two weeks").wait_for(timeout=60_000)

        dryness = page.get_by_role(
            "radiogroup", name="Is the vagina dry, or is sex uncomfortable because of dryness?"
        )
        dryness.get_by_text("Yes", exact=True).click()  # answer a finding
        page.get_by_text("Triage: Within two weeks").wait_for(timeout=60_000)
        assert "dryness" not in page.url  # privacy: the case is in the address only when asked
        page.get_by_text("Put this case in the page link, to share it").click()
        page.wait_for_function("() => location.search.includes('dryness=yes')", timeout=60_000)
        assert "menopause=post" in page.url
        page.get_by_text("Anyone who sees the link can read them").wait_for(timeout=60_000)

        page.get_by_role(
            "radiogroup", name="Is the bleeding heavy (soaking a pad, or with clots), or hard to stop?"
        ).get_by_text("Yes", exact=True).click()  # a red flag
        page.get_by_text("Triage: Emergency").wait_for(timeout=60_000)
        time.sleep(1)  # let the charts finish drawing before the picture
        shot = Path(os.environ.get("SCREENSHOT", tmp_path / "worked_case.png"))
        page.screenshot(path=str(shot), full_page=False)
        assert shot.stat().st_size > 10_000

        upload = page.locator("section[data-testid='stSidebar'] input[type='file']")
        bad = tmp_path / "bad.json"
        bad.write_text("{not json")
        upload.set_input_files(str(bad))  # a broken file: a message, and the page keeps working
        page.get_by_text("The case file could not be used").wait_for(timeout=60_000)
        good = tmp_path / "case.json"
        good.write_text('{"context": {"pregnancy": "first_trimester"}, "findings": {"heavy": false}}')
        upload.set_input_files(str(good))
        page.get_by_text("Triage: Same day").wait_for(timeout=60_000)

        page.set_viewport_size({"width": 820, "height": 1180})  # a tablet held upright
        assert page.get_by_text("Triage: Same day").is_visible()
        page.screenshot(path=str(tmp_path / "tablet.png"))
        browser.close()
