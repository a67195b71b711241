"""The deployments' pages in a real browser (Debian's chromium, driven by Playwright), and the
same Streamlit interaction by the protocol client, observed the same way, to compare them.

- streamlit_in_browser: open the Streamlit app, set a row, press Predict, read the prediction,
  with every websocket frame of the page decoded (bench/checks/browser_messages.py).
- client_interaction: the same, by bench/clients/streamlit.py, through its observer hook.
- form_in_browser: fill and submit a Flask/Django HTML form, read the prediction shown.
- compare_messages (from browser_messages): what differs, less what is expected.
Playwright is a dev dependency: it is imported only when a browser is launched.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench.checks.browser_messages import (
    EXPECTED_DIFFERENCES,
    BrowserInteraction,
    Frame,
    compare_messages,
    finishes_run,
    message_differences,
    observe,
)
from bench.clients.form import FORM_PATH
from bench.clients.streamlit import (
    PREDICT_BUTTON,
    SESSION_TIMEOUT_S,
    STCORE,
    StreamlitProtocolError,
    StreamlitSession,
)

__all__ = [
    "EXPECTED_DIFFERENCES",
    "FORM_PATH",
    "BrowserInteraction",
    "client_interaction",
    "compare_messages",
    "form_in_browser",
    "message_differences",
    "streamlit_in_browser",
]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = (
    "--no-sandbox", "--headless", "--disable-gpu", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
)  # fmt: skip
# Streamlit's page marks its state on the app's root: "notRunning" once a run has finished.
IDLE_APP = '[data-testid="stApp"][data-test-script-state="notRunning"]'
# A heading of the last run (Streamlit marks the previous run's elements stale until replaced).
FRESH = '[data-testid="stElementContainer"][data-stale="false"]'
FRESH_HEADING = f'{FRESH} [data-testid="stHeading"]'
FRESH_JSON = f'{FRESH} [data-testid="stJson"]'
PREDICTION_PREFIX = "Prediction: "
JSON_ENTRY = re.compile(r'"((?:[^"\\]|\\.)*)"\s*:\s*(-?[0-9][0-9.eE+-]*)')  # "label":0.123


class BrowserError(RuntimeError):
    """No browser, or the page did not show what a user would need."""


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless chromium (a playwright Browser), closed on leaving."""
    if not CHROMIUM.exists():
        raise BrowserError(f"{CHROMIUM} is absent: install Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=list(CHROMIUM_ARGS)
        )
        try:
            yield browser
        finally:
            browser.close()


class StreamlitTab:
    """One chromium page on the Streamlit app, with every frame of its websocket and every
    path it fetched over HTTP."""

    def __init__(self, browser: Any, base_url: str, timeout_s: float = SESSION_TIMEOUT_S) -> None:
        self.timeout_ms = timeout_s * 1000
        self.frames: list[Frame] = []
        self.http_paths: list[str] = []
        self.console_errors: list[str] = []
        self.ws: Any = None
        self.page = browser.new_page()
        self.page.on("websocket", self._watch)
        self.page.on("request", lambda r: self.http_paths.append(urlsplit(r.url).path))
        self.page.on("console", self._console)
        self.page.goto(base_url, timeout=self.timeout_ms)
        self.page.locator(IDLE_APP).wait_for(timeout=self.timeout_ms)
        if self.ws is None:
            raise BrowserError(f"{base_url} finished a run with no websocket on {STCORE.path}")
        # A widget's code is fetched when it first appears: it is drawn after the run ended.
        self._visible(self.page.get_by_role("button", name=PREDICT_BUTTON, exact=True), "Predict")

    def _watch(self, ws: Any) -> None:
        if urlsplit(ws.url).path == STCORE.path:
            self.ws = ws
            ws.on("framesent", lambda payload: self.frames.append(("sent", payload)))
            ws.on("framereceived", lambda payload: self.frames.append(("received", payload)))

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.console_errors.append(message.text)

    def set_row(self, row: Mapping[str, float]) -> None:
        """Type each value into the number input labelled with its feature's name."""
        for name, value in row.items():
            field = self.page.get_by_role("spinbutton", name=name, exact=True)
            self._visible(field, f"a number input named {name!r}")
            field.fill(repr(float(value)))

    def _visible(self, locator: Any, what: str) -> None:
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        try:
            locator.wait_for(state="visible", timeout=self.timeout_ms)
        except PlaywrightTimeout:
            raise BrowserError(
                f"the page shows no {what} within {self.timeout_ms / 1000:.0f} s"
            ) from None

    def press_predict(self) -> float:
        """Press Predict; return the seconds until the run has finished and its prediction
        (heading and probabilities) is on the page, Playwright's own round trips included."""
        button = self.page.get_by_role("button", name=PREDICT_BUTTON, exact=True)
        started = time.perf_counter()
        # Armed before the click, so that a fast answer is not missed.
        with self.ws.expect_event("framereceived", predicate=finishes_run, timeout=self.timeout_ms):
            button.click(timeout=self.timeout_ms)
        self.page.locator(IDLE_APP).wait_for(timeout=self.timeout_ms)
        heading = self.page.locator(FRESH_HEADING, has_text=PREDICTION_PREFIX)
        self._visible(heading, "prediction after Predict")
        self._visible(self.page.locator(FRESH_JSON), "probabilities after Predict")
        return time.perf_counter() - started

    def shown(self) -> tuple[str | None, dict[str, float]]:
        """The label after "Prediction: ", and the probabilities the JSON viewer shows."""
        headings = self.page.locator(FRESH_HEADING, has_text=PREDICTION_PREFIX)
        if headings.count() == 0:
            return None, {}
        label = headings.first.inner_text().strip().removeprefix(PREDICTION_PREFIX)
        shown = self.page.locator(FRESH_JSON)
        text = shown.first.inner_text() if shown.count() else ""
        return label, {k: float(v) for k, v in JSON_ENTRY.findall(text)}


def streamlit_in_browser(
    base_url: str, row: Mapping[str, float], timeout_s: float = SESSION_TIMEOUT_S
) -> BrowserInteraction:
    """Open the app in chromium, set `row`, press Predict, and read what it shows and what
    went over its websocket."""
    with chromium() as browser:
        tab = StreamlitTab(browser, base_url, timeout_s)
        tab.set_row(row)
        seconds = tab.press_predict()
        label, probabilities = tab.shown()
        frames = list(tab.frames)
        return observe(
            "chromium", frames, label, probabilities, http_paths=tab.http_paths,
            console_errors=tab.console_errors, seconds=seconds,
        )  # fmt: skip


def client_interaction(
    base_url: str, row: Mapping[str, float], timeout_s: float = SESSION_TIMEOUT_S
) -> BrowserInteraction:
    """The same interaction by the protocol client, from the frames its observer saw."""
    frames: list[Frame] = []
    observer = lambda direction, payload: frames.append((direction, payload))  # noqa: E731
    with StreamlitSession(base_url, timeout_s=timeout_s, observer=observer) as session:
        session.connect()
        run = session.submit(row, PREDICT_BUTTON)
    try:
        shown = run.prediction()
    except StreamlitProtocolError:
        shown = {"label": None, "probabilities": {}}
    return observe(
        "protocol client", frames, shown["label"], shown["probabilities"], seconds=run.seconds
    )


def form_in_browser(
    base_url: str, path: str, row: Mapping[str, float], timeout_s: float = 10.0
) -> str:
    """Open the HTML form at `path` (the clients' is FORM_PATH), type `row` into its fields,
    press Predict, and return the label the result page shows."""
    timeout_ms = timeout_s * 1000
    with chromium() as browser:
        page = browser.new_page()
        page.goto(base_url.rstrip("/") + path, timeout=timeout_ms)
        for name, value in row.items():
            field = page.locator(f'form [name="{name}"]')
            if field.count() != 1:
                raise BrowserError(f"the form at {path} has {field.count()} field(s) {name!r}")
            field.fill(repr(float(value)))
        with page.expect_navigation(timeout=timeout_ms):
            page.get_by_role("button", name=PREDICT_BUTTON, exact=True).click()
        shown = page.locator("#prediction")
        if shown.count() == 0:
            errors = [e.strip() for e in page.locator(".error").all_inner_texts()]
            raise BrowserError(f"the form at {path} showed no prediction; errors {errors}")
        return shown.inner_text().strip()
