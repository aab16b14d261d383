"""Time the app in a real browser against a trivial Streamlit page. Prints figures only.

Debian's Chromium (``/usr/bin/chromium``), driven headless by Playwright with the flags of the
browser test, opens the app and `trivial_page.py`, each served by its own ``streamlit run`` on a
free port, and measures what a person waits for:

- *first render*: from navigation to a settled page;
- *click to settled*: from pressing an answer to a settled page, over ``--answers`` answers, once
  with the context set (age, menopause, pregnancy, contraception in the link) and once with it unknown.

The trivial page is served twice: as ``streamlit run`` serves any page (Streamlit's defaults), and
with the app's own server options (`model.launch.OPTIONS`), so that the second ratio is the app's
own cost against the same server.

A page is *settled* when the script has finished its rerun, no grey placeholder is left in view,
and the page has stopped changing: no DOM mutation and no long main-thread task (charts drawn on a
canvas show up as long tasks) for ``QUIET_MS``. The time reported runs to the last such change,
so the quiet window itself is not counted. Each press starts from a page at rest: a notice of an
earlier answer (a toast, which leaves on its own timer four seconds later) is first let go, so
that its leaving is not counted against the next answer. Run with ``python benchmarks/app_browser.py``.

``--page PATH`` times another page in the app's place, served with the app's options and driven the
same way (its answer controls carry the ``st-key-finding-<id>`` class): for example
``one_element_page.py``, which measures what a front end that redraws only what an answer changes
could reach.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from model.launch import option_flags

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app.py"
CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--no-first-run", "--disable-sync", "--disable-quic"]  # fmt: skip
FINDINGS = ["recurrent", "dryness", "fever", "itching", "pelvic_pain", "dysuria",
            "abnormal_discharge", "heavy_periods", "vigorous_sex", "easy_bruising"]  # fmt: skip
CONTEXT = "?age_band=25_34&menopause=pre&pregnancy=not_pregnant&contraception=none"
QUIET_MS = 400
# Records the last DOM change or long main-thread task, the last press, and the server's messages:
# a fast rerun can start and finish within one frame, leaving no trace in the page's own state.
WATCH = """
window.__pcb = {changed: performance.now(), pressed: 0, messages: 0, heard: 0};
const touch = () => { window.__pcb.changed = performance.now(); };
new MutationObserver(touch).observe(
  document, {subtree: true, childList: true, attributes: true, characterData: true});
new PerformanceObserver((list) => {
  for (const task of list.getEntries()) {
    window.__pcb.changed = Math.max(window.__pcb.changed, task.startTime + task.duration);
  }
}).observe({type: 'longtask', buffered: true});
document.addEventListener('pointerdown', () => { window.__pcb.pressed = performance.now(); }, true);
const Socket = window.WebSocket;
window.WebSocket = function (...args) {
  const socket = new Socket(...args);
  socket.addEventListener('message', () => {
    window.__pcb.messages += 1;
    window.__pcb.heard = performance.now();
  });
  return socket;
};
window.WebSocket.prototype = Socket.prototype;
Object.assign(window.WebSocket, {CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3});
"""
# A grey placeholder stands in for an element until its code has loaded: visible ones are not settled.
SETTLED = """([messages, quiet]) => {
  const app = document.querySelector('[data-testid="stApp"]');
  const last = Math.max(window.__pcb.changed, window.__pcb.heard);
  const waiting = [...document.querySelectorAll('[data-testid="stSkeleton"]')].some((e) => {
    const box = e.getBoundingClientRect();
    return box.bottom > 0 && box.top < window.innerHeight;
  });
  return app !== null && app.dataset.testScriptState === 'notRunning' && window.__pcb.messages > messages
    && !waiting && performance.now() - last > quiet;
}"""

NO_NOTICE = "() => document.querySelector('[data-testid=\"stToast\"]') === null"


def free_port() -> int:
    """Return a TCP port on localhost that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def streamlit_server(script: Path, app_options: bool = False, timeout: float = 120) -> Iterator[str]:
    """Serve ``script`` on a free port until the block ends; yield its URL.

    The app is started the way the README starts it, through its launcher (`model.launch`, the
    ``pcb-app`` command) with the project's options; any other page with plain ``streamlit run``,
    and with ``app_options`` also the launcher's options.
    """
    port = free_port()
    where = [f"--server.port={port}", "--server.address=127.0.0.1"]
    if script.resolve() == APP:
        command = [sys.executable, "-m", "model.launch", *where]
    else:
        command = [sys.executable, "-m", "streamlit", "run", str(script), *where, "--server.headless=true",
                   "--browser.gatherUsageStats=false", *(option_flags() if app_options else [])]  # fmt: skip
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"streamlit did not serve {script.name} in {timeout:.0f} s") from None
                time.sleep(0.25)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)


def wait_settled(page: Page, messages_before: int, timeout: float = 120) -> float:
    """Wait until the server has answered (after ``messages_before`` messages) and the page is quiet.

    Returns the page's clock (ms) at its last change.
    """
    page.wait_for_function(SETTLED, arg=[messages_before, QUIET_MS], polling=50, timeout=timeout * 1000)
    return page.evaluate("window.__pcb.changed")


def first_render(page: Page, url: str) -> float:
    """Open ``url`` in ``page`` and return the seconds from navigation to a settled page."""
    page.goto(url, timeout=120_000)
    return wait_settled(page, 0) / 1000


def answer(page: Page, finding: str, choice: str) -> tuple[float, float]:
    """Press ``choice`` ("Yes" or "No") for ``finding``.

    Returns the seconds from the press to a settled page, and to the server's last message (the
    rerun itself, with the round trip): the difference is the browser's drawing.
    """
    page.wait_for_function(NO_NOTICE, polling=100, timeout=30_000)
    messages = page.evaluate("window.__pcb.messages")
    page.locator(f".st-key-finding-{finding}").get_by_text(choice, exact=True).click()
    settled = wait_settled(page, messages)
    pressed, heard = page.evaluate("[window.__pcb.pressed, window.__pcb.heard]")
    return (settled - pressed) / 1000, (heard - pressed) / 1000


def p95(times: list[float]) -> float:
    """Return the 95th percentile by nearest rank (with 20 answers, the second slowest)."""
    return sorted(times)[math.ceil(0.95 * len(times)) - 1]


def measure(browser, url: str, answers: int, renders: int) -> dict[str, list[float]]:
    """First renders of a blank page, then answers with the context set and with it unknown."""
    figures: dict[str, list[float]] = {"first render": []}
    for _ in range(renders):
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.add_init_script(WATCH)
        figures["first render"].append(first_render(page, url))
        page.close()
    for mode, query in (("context set", CONTEXT), ("context unknown", "")):
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.add_init_script(WATCH)
        first_render(page, url + query)
        timed = [
            answer(page, FINDINGS[i % len(FINDINGS)], "Yes" if (i // len(FINDINGS) + i) % 2 else "No")
            for i in range(answers)
        ]
        figures[mode] = [settled for settled, _ in timed]
        figures[f"{mode}, server"] = [heard for _, heard in timed]
        page.close()
    return figures


def report(
    app: dict[str, list[float]],
    yardsticks: dict[str, dict[str, list[float]]],
    cold: list[float],
    name: str = "app",
) -> None:
    """Print medians and 95th percentiles for the page timed (``name``) and the trivial pages, and ratios."""
    names = list(yardsticks)
    loads = [f"{page} {seconds:.2f} s" for page, seconds in zip([name, *names], cold, strict=True)]
    print("first load after the server starts: " + ", ".join(loads))
    print("seconds" + " " * (31 - len(name)) + name + "".join(f"   {page:>24}  ratio" for page in names))
    for figure in (n for n in app if not n.endswith("server")):
        label = figure if figure == "first render" else f"click to settled, {figure}"
        rows = [("median", statistics.median)] + ([("p95", p95)] if figure != "first render" else [])
        for n, (kind, summary) in enumerate(rows):
            own = summary(app[figure])
            line = f"{label if n == 0 else '':<34} {kind:<6} {own:>5.2f}"
            for yardstick in yardsticks.values():
                theirs = summary(yardstick[figure])
                line += f"   {theirs:>24.2f} {own / theirs:>5.1f}x"
            print(line + (f"   (n={len(app[figure])})" if n == len(rows) - 1 else ""))
        if figure != "first render":
            server = statistics.median(app[f"{figure}, server"])
            print(f"{'':<34} of which the rerun and its messages: median {server:.2f} s")


def main() -> None:
    """Start the app and the trivial page twice, measure them in the same browser, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=20, help="answers per mode (at least 10)")
    parser.add_argument("--renders", type=int, default=5, help="first renders of each page")
    parser.add_argument("--page", type=Path, default=APP, help="the page to time instead of the app")
    args = parser.parse_args()
    trivial = ROOT / "benchmarks" / "trivial_page.py"
    with (
        streamlit_server(args.page, app_options=True) as app_url,
        streamlit_server(trivial) as defaults_url,
        streamlit_server(trivial, app_options=True) as options_url,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=FLAGS)
        urls = {"app": app_url, "trivial (defaults)": defaults_url, "trivial (app's options)": options_url}
        cold = []
        for url in urls.values():  # the first session builds the model: reported apart
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.add_init_script(WATCH)
            cold.append(first_render(page, url))
            page.close()
        figures = {name: measure(browser, url, args.answers, args.renders) for name, url in urls.items()}
        browser.close()
    app = figures.pop("app")
    report(app, figures, cold, "app" if args.page == APP else args.page.stem)


if __name__ == "__main__":
    main()
