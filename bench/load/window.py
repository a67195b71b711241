"""The one measured-window engine: a LoadSpec in, one WindowResult per step out.

It starts the load generator for the whole spec (bench/load/locust.py, or wrk for the
cross-check: bench/load/wrk.py), samples the server's and the load generator's process trees
throughout, waits (checking for a signal every second, and handing each finished step to
`on_window` as soon as its boundaries appear), stops everything it started, then cuts each
step's window out of the per-request log. The run, the soak, the SLO search and the cross-check
all measure through `run_load`; nothing else starts a load generator or kills one.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import psutil

from bench.cli.console import raise_if_interrupted, uninterrupted
from bench.load.locust import LocustRun, kill_locust, start_locust, stop_locust, wait_locust
from bench.load.peer_auth import read_refusals
from bench.load.scenarios import INCOMPLETE_LOG_EXIT_CODE
from bench.load.spec import WRK, LoadResult, LoadSpec, WindowResult
from bench.measure.metrics import Request, Window, read_request_logs
from bench.measure.sampler import Sample, TreeSampler

# Beyond the spec's own bound: Locust's start-up and shutdown.
EXIT_GRACE_S = 30.0


class Target(Protocol):
    """What the engine needs of the system under test: where it is, its processes (none for a
    target this harness did not start), whether it still runs, and its log's end."""

    base_url: str

    @property
    def process(self) -> Any: ...

    def tree(self) -> list[psutil.Process]: ...

    def log_tail(self, lines: int = 20) -> str: ...


OnWindow = Callable[[WindowResult], None]


def run_load(spec: LoadSpec, target: Target, on_window: OnWindow | None = None) -> LoadResult:
    """Measure `spec` against `target`; a failure (the server died, Locust overstayed, a peer
    was refused, the log is incomplete) ends the result with its reason and keeps the windows
    that finished before it. A signal (KeyboardInterrupt) stops everything and returns what
    finished with `interrupted` set: the caller keeps or drops it, then raises."""
    if spec.generator == WRK:
        from bench.load.wrk import run_wrk  # only the cross-check needs wrk

        return run_wrk(spec, target, on_window)
    started = time.monotonic()
    result = LoadResult(spec)
    boundaries = spec.out_prefix.with_suffix(".steps.jsonl")
    seen: list[dict[str, Any]] = []
    locust = start_locust(spec, boundaries)
    code = None
    try:
        with TreeSampler(target.tree) as server, TreeSampler(locust.tree) as loadgen:

            def hand_on() -> None:
                for record in new_boundaries(boundaries, seen):
                    if on_window is not None and record["ended"] in ("rule", "capped"):
                        on_window(window_from(record, server.samples, loadgen.samples))

            def between() -> None:
                raise_if_interrupted()
                hand_on()

            code = wait_locust(locust, spec.longest_s + EXIT_GRACE_S, between=between)
            hand_on()  # the last step's boundaries come just before Locust quits
    except subprocess.TimeoutExpired:
        result.failure = "Locust did not stop after its longest run"
    except KeyboardInterrupt:
        # The steps that finished are kept: Locust is asked to quit (it flushes its log).
        result.interrupted = True
        with uninterrupted():
            stop_locust(locust)
    finally:
        kill_locust(locust)
    samples = server.samples, loadgen.samples
    return finish(result, locust, target, boundaries, code, *samples, started)


def finish(
    result: LoadResult,
    locust: LocustRun,
    target: Target,
    boundaries: Path,
    code: int | None,
    server: list[Sample],
    loadgen: list[Sample],
    started: float,
) -> LoadResult:
    """Read what the run left: refusals, failure, each finished step's window."""
    spec = result.spec
    refused = read_refusals(locust.refusals_log)
    result.notes += [f"a worker left over from another run ({e['peer']}) was told to quit"
                     for e in refused if e["kind"] == "stale"]  # fmt: skip
    result.refused = [e for e in refused if e["kind"] != "stale"]
    if not result.interrupted:
        result.failure = result.failure or failure_of(code, locust, target, result.refused)
    records = all_boundaries(boundaries)
    result.failure = result.failure or setup_failure(records, spec)
    result.windows = cut_windows(records, locust, server, loadgen, result)
    if target.process.poll() is not None:  # only the windows that ended while it still ran
        died_at = death_time(server)
        result.windows = [w for w in result.windows if w.window.end < died_at]
    if not result.failure and not result.interrupted and len(result.windows) < len(spec.steps):
        result.failure = f"Locust ended after {len(result.windows)} of {len(spec.steps)} steps"
    result.wall_s = time.monotonic() - started
    return result


def death_time(server: list[Sample]) -> float:
    """When the server's tree was first seen gone (a window that ended before is kept: had it
    died inside that window, its failures say so); never seen gone: after every window."""
    seen_alive = False
    for sample in server:
        seen_alive = seen_alive or bool(sample.processes)
        if seen_alive and not sample.processes:
            return sample.at
    return float("inf")


def failure_of(
    code: int | None, locust: LocustRun, target: Target, refused: list[dict[str, str]]
) -> str | None:
    bad = [e for e in refused if e["kind"] != "stale"]
    if bad:
        return f"the Locust master refused {len(bad)} peer message(s): {bad[0]['reason']}"
    if code == INCOMPLETE_LOG_EXIT_CODE:
        where = locust.output_log.with_suffix("").with_suffix("")
        return f"a Locust worker's last request-log lines never reached the master; see {where}*"
    if target.process.poll() is not None:
        tail = target.log_tail(3) or "(its log is empty)"
        return f"the server exited (code {target.process.returncode}) during the load: {tail}"
    return None


def setup_failure(records: list[dict[str, Any]], spec: LoadSpec) -> str | None:
    for record in records:
        if record["ended"] == "no_setup":
            return (
                f"the {record['users']} user(s) of step {record['step'] + 1} did not set up "
                f"within {spec.setup_s:.0f} s"
            )
    return None


def new_boundaries(path: Path, seen: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The step records written since the last call (the file grows a line per step)."""
    records = all_boundaries(path)
    fresh = records[len(seen) :]
    seen.extend(fresh)
    return fresh


def all_boundaries(path: Path) -> list[dict[str, Any]]:
    with contextlib.suppress(FileNotFoundError):
        lines = path.read_text().splitlines()
        # The last line may be half-written while Locust runs.
        return [json.loads(line) for line in lines if line.endswith("}")]
    return []


def window_from(
    record: dict[str, Any], server: list[Sample], loadgen: list[Sample]
) -> WindowResult:
    """A finished step's window from its boundary record: at once for progress (no requests
    yet: a distributed run's last lines arrive late), and again with its requests once Locust
    has ended."""
    window = Window(record["window_start"], record["window_end"])
    return WindowResult(
        step=record["step"],
        users=record["users"],
        window=window,
        ended=record["ended"],
        steady=record["steady"],
        server=inside(server, window),
        loadgen=inside(loadgen, window),
        summary={k: float(record[k]) for k in ("interactions", "failures") if k in record},
    )


def cut_windows(
    records: list[dict[str, Any]],
    locust: LocustRun,
    server: list[Sample],
    loadgen: list[Sample],
    result: LoadResult,
) -> list[WindowResult]:
    done = [r for r in records if r["ended"] in ("rule", "capped")]
    if not done:
        return []
    try:
        # An interrupted Locust may have been killed mid-line: its last line is then dropped.
        requests = read_request_logs(locust.request_logs, partial_ok=result.interrupted)
    except (OSError, ValueError) as exc:
        logs = ", ".join(log.name for log in locust.output_logs)
        result.failure = result.failure or f"no request log: {exc}; see {logs}"
        return []
    windows = []
    for record in done:
        window = window_from(record, server, loadgen)
        window.requests = requests_of(requests, window.window)
        windows.append(window)
    return windows


def requests_of(requests: list[Request], window: Window) -> list[Request]:
    """The requests that ended inside the window, or started there (open-loop late sends)."""
    return [r for r in requests if window.holds(r.end) or window.holds(r.start)]


def inside(samples: list[Sample], window: Window) -> list[Sample]:
    return [s for s in samples if window.start <= s.at <= window.end]
