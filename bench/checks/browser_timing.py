"""Predict interactions with the Streamlit app timed in real browsers and by the protocol client,
at the same number of concurrent users, so that the two can be put side by side.

Each user is a thread: a chromium of its own (Playwright's sync API wants one instance per
thread) on one page, or one StreamlitSession. Every user first loads the page or connects, then
all start together; each presses Predict `interactions` times, one after another. A browser's
latency runs from the press to the prediction shown (bench/checks/browser.py), the client's
from sending the rerun to reading script_finished. Not a benchmark: no load shape, no warm-up
rule, no repetitions; a side-by-side look at what the protocol client leaves out.

    python -m bench.checks.browser_timing http://127.0.0.1:8103 --sessions 1 4 --interactions 20
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from bench.checks.browser import BrowserError, StreamlitTab, chromium
from bench.clients.streamlit import (
    PREDICT_BUTTON,
    SESSION_TIMEOUT_S,
    StreamlitProtocolError,
    StreamlitSession,
)
from shared_model.model import read_metadata

User = Callable[[threading.Barrier], list[float]]  # prepare, wait for all, time; latencies


def default_row() -> dict[str, float]:
    """The form's defaults: what a user who presses Predict at once sends."""
    return {f["name"]: f["default"] for f in read_metadata()["features"]}


def time_browser_sessions(
    base_url: str, sessions: int, interactions: int, row: Mapping[str, float] | None = None,
    timeout_s: float = SESSION_TIMEOUT_S,
) -> dict[str, Any]:  # fmt: skip
    """`sessions` concurrent chromium pages, each doing `interactions` Predict interactions,
    then as many protocol-client sessions doing the same: each side's latencies and rate."""
    if sessions < 1 or interactions < 1:
        raise ValueError(f"sessions and interactions must be ≥ 1, got {sessions}, {interactions}")
    row = dict(row or default_row())
    browser_user = lambda ready: _browser_user(base_url, row, interactions, ready, timeout_s)  # noqa: E731
    client_user = lambda ready: _client_user(base_url, row, interactions, ready, timeout_s)  # noqa: E731
    return {
        "base_url": base_url,
        "sessions": sessions,
        "interactions": interactions,
        "browser": _timed(sessions, browser_user, timeout_s),
        "client": _timed(sessions, client_user, timeout_s),
    }


def _timed(sessions: int, user: User, timeout_s: float) -> dict[str, Any]:
    """Run the users side by side from the moment all are ready; summarise their latencies."""
    ready = threading.Barrier(sessions + 1, timeout=timeout_s * 2)
    with ThreadPoolExecutor(max_workers=sessions) as pool:
        futures = [pool.submit(user, ready) for _ in range(sessions)]
        try:
            ready.wait()
        except threading.BrokenBarrierError as broken:
            raise _first_cause(futures) or broken from None
        started = time.perf_counter()
        latencies = [s for future in futures for s in future.result()]
        wall_s = time.perf_counter() - started
    return {
        "count": len(latencies),
        "wall_s": wall_s,
        "interactions_per_s": len(latencies) / wall_s,
        "median_s": statistics.median(latencies),
        "mean_s": statistics.fmean(latencies),
        "max_s": max(latencies),
        "latencies_s": latencies,
    }


def _first_cause(futures: Sequence[Future]) -> BaseException | None:
    """The error of the user that broke the barrier, not of those it left waiting."""
    errors = [f.exception() for f in futures]
    causes = [e for e in errors if e and not isinstance(e, threading.BrokenBarrierError)]
    return causes[0] if causes else None


def _browser_user(
    base_url: str, row: Mapping[str, float], interactions: int, ready: threading.Barrier,
    timeout_s: float,
) -> list[float]:  # fmt: skip
    try:
        with chromium() as browser:
            tab = StreamlitTab(browser, base_url, timeout_s)
            tab.set_row(row)
            ready.wait()
            return [_browser_press(tab, row) for _ in range(interactions)]
    except BaseException:
        ready.abort()  # the others must not wait for a user that will never come
        raise


def _browser_press(tab: StreamlitTab, row: Mapping[str, float]) -> float:
    tab.set_row(row)  # what the client sends with every press; not timed
    seconds = tab.press_predict()
    if tab.shown()[0] is None:
        raise BrowserError("the page showed no prediction after Predict")
    return seconds


def _client_user(
    base_url: str, row: Mapping[str, float], interactions: int, ready: threading.Barrier,
    timeout_s: float,
) -> list[float]:  # fmt: skip
    try:
        with StreamlitSession(base_url, timeout_s=timeout_s) as session:
            session.connect()
            ready.wait()
            return [_client_press(session, row) for _ in range(interactions)]
    except BaseException:
        ready.abort()
        raise


def _client_press(session: StreamlitSession, row: Mapping[str, float]) -> float:
    run = session.submit(row, PREDICT_BUTTON)
    if run.prediction_label is None:
        raise StreamlitProtocolError(f"the run showed no prediction: {run.exceptions}")
    return run.seconds


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("base_url")
    parser.add_argument("--sessions", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--interactions", type=int, default=10)
    args = parser.parse_args(argv)
    for sessions in args.sessions:
        timed = time_browser_sessions(args.base_url, sessions, args.interactions)
        for side in ("browser", "client"):
            timed[side].pop("latencies_s")
        print(json.dumps(timed))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
