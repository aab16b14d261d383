"""End to end in a real browser: Debian's Chromium driven by Playwright against `streamlit run app.py`.

The browser is launched, and the app served, the way `benchmarks/app_browser.py` does it.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")

if not CHROMIUM.exists():
    if os.environ.get("CI"):
        pytest.fail("CI must run the browser test: /usr/bin/chromium is missing", pytrace=False)
    pytest.skip("Debian's chromium is not installed here (apt-get install chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")
from benchmarks.app_browser import FLAGS, WATCH, streamlit_server, wait_settled  # noqa: E402  (needs playwright)


@pytest.fixture(autouse=True)
def no_network():
    """Override the suite's socket guard: this test talks to its own server on localhost."""


@pytest.fixture(scope="module")
def server():
    with streamlit_server(ROOT / "app.py") as url:  # through the README's launcher, pcb-app
        yield url


def press(page, finding, choice):
    """Press "Yes" or "No" for a finding (its control carries the finding's key)."""
    page.locator(f".st-key-finding-{finding}").get_by_text(choice, exact=True).click()


def test_a_worked_case_in_a_real_browser(server, tmp_path):
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1800})
        page.goto(server, timeout=120_000)
        page.get_by_text("Triage: Book a check-up").wait_for(timeout=120_000)

        page.get_by_role("combobox", name="Menopause", exact=True).click()  # set a context
        page.get_by_role("option", name="No period for 12 months or more (after the menopause)").click()
        page.get_by_text("Triage: Within two weeks").wait_for(timeout=60_000)

        press(page, "dryness", "Yes")  # answer a finding
        page.get_by_text("Triage: Within two weeks").wait_for(timeout=60_000)
        assert "dryness" not in page.url  # privacy: the case is in the address only when asked
        page.get_by_text("Put this case in the page link, to share it").click()
        page.wait_for_function("() => location.search.includes('dryness=yes')", timeout=60_000)
        assert "menopause=post" in page.url
        page.get_by_text("Anyone who sees the link can read them").wait_for(timeout=60_000)

        press(page, "heavy", "Yes")  # a red flag
        page.get_by_text("Triage: Emergency").wait_for(timeout=60_000)
        time.sleep(1)  # let the charts finish drawing before the picture
        shot = Path(os.environ.get("SCREENSHOT", tmp_path / "worked_case.png"))
        page.screenshot(path=str(shot), full_page=False)
        assert shot.stat().st_size > 10_000

        with page.expect_download() as download:  # the round trip of the app's own file
            page.get_by_role("button", name="Download case and result (JSON)").click()
        saved = tmp_path / "pcb-case.json"
        download.value.save_as(saved)
        assert json.loads(saved.read_text())["case"]["findings"]["heavy"] is True

        upload = page.locator("section[data-testid='stSidebar'] input[type='file']")
        bad = tmp_path / "bad.json"
        bad.write_text("{not json")
        upload.set_input_files(str(bad))  # a broken file: a message, and the page keeps working
        page.get_by_text("The case file could not be used").wait_for(timeout=60_000)
        page.get_by_role("button", name="Reset to a blank case").click()
        page.get_by_text("Triage: Book a check-up").wait_for(timeout=60_000)
        page.get_by_text("The case file could not be used").wait_for(state="detached", timeout=60_000)
        upload.set_input_files(str(saved))  # the app's own download opens as its case
        page.get_by_text("Triage: Emergency").wait_for(timeout=60_000)

        page.set_viewport_size({"width": 820, "height": 1180})  # a tablet held upright
        assert page.get_by_text("Triage: Emergency").is_visible()
        page.get_by_text("Triage: Emergency").scroll_into_view_if_needed()
        time.sleep(0.5)
        page.screenshot(path=str(shot.with_name(f"{shot.stem}-narrow.png")))
        browser.close()


def test_the_chart_re_sorts_and_why_follows_the_lead(server):
    """The issue's case: a positive chlamydia test puts chlamydia first at once, and "Why" explains it."""
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1800})
        page.goto(f"{server}/?age_band=under_25&menopause=pre&sti_risk=yes", timeout=120_000)
        chart = page.locator("[data-testid='stVegaLiteChart'][aria-label*='most likely first']").first
        chart.wait_for(timeout=120_000)
        assert "first: Chlamydia" not in chart.get_attribute("aria-label")
        page.get_by_role("tab", name="Tests").click()
        press(page, "test_chlamydia", "Yes")
        page.wait_for_function(
            "() => [...document.querySelectorAll('[aria-label*=\"most likely first\"]')]"
            ".some(e => e.getAttribute('aria-label').includes('first: Chlamydia '))",
            timeout=60_000,
        )
        explain = page.get_by_role(
            "combobox", name="Explain a cause (the leading one unless you pick another)"
        )
        explain.scroll_into_view_if_needed()  # the page draws what is below the fold when it is reached
        sync_api.expect(explain).to_have_value("Chlamydia", timeout=60_000)
        browser.close()


def test_an_answer_that_raises_a_red_flag_stays_under_the_pointer(server):
    """The red flag's lines push the findings down; the page scrolls so the answered control stays put
    and a second quick click cannot land on another question."""
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.add_init_script(WATCH)
        page.goto(f"{server}/?age_band=25_34&menopause=pre", timeout=120_000)
        wait_settled(page, 0)  # the whole page drawn: nothing above the control still to come
        control = page.locator(".st-key-finding-faintness")
        before = control.bounding_box()["y"]
        press(page, "faintness", "Yes")
        page.get_by_text("Triage: Emergency").wait_for(timeout=60_000)
        assert page.get_by_text("Red flag.").first.bounding_box()["height"] > 0  # the lines were added
        time.sleep(0.5)
        assert abs(control.bounding_box()["y"] - before) <= 2
        browser.close()
