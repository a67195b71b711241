"""What the live tests of the load engine (bench/load/window.py) share.

- `load_spec` builds a short LoadSpec on the load generator's cores.
- `recorded_runs` hands out the LocustRun that run_load starts (its processes, its logs), with
  the processes that ran, so that a test can check that none is left.
- `in_background` runs a helper (a killer, an interrupter, a watcher) beside a blocking run_load.
"""

from __future__ import annotations

import contextlib
import csv
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import pytest

import bench.load.window
from bench.load.locust import LocustRun
from bench.load.scenarios import INTERACTIONS, PAYLOADS_ENV, REQUEST_LOG_ENV
from bench.load.spec import LoadSpec, WindowRule, Workers
from bench.measure.metrics import Window
from bench.targets.cores import split_cores

POLL_S = 0.05


def load_spec(
    base_url: str,
    steps: tuple[int, ...],
    out_prefix: Path,
    payload_file: Path,
    rule: WindowRule,
    *,
    warmup_s: float = 0.5,
    workers: Workers | None = None,
    setup_s: float = 30.0,
) -> LoadSpec:
    """api_single at `steps` users, on the load generator's half of the cores."""
    _, loadgen_cores = split_cores()
    out_prefix.parent.mkdir(parents=True, exist_ok=True)
    return LoadSpec(
        scenario="api_single",
        base_url=base_url,
        steps=steps,
        warmup_s=warmup_s,
        rule=rule,
        cores=loadgen_cores,
        payload_file=payload_file,
        out_prefix=out_prefix,
        setup_s=setup_s,
        workers=workers or Workers(),
    )


def boundaries_of(spec: LoadSpec) -> Path:
    """Where run_load has the shape write its steps' boundaries."""
    return spec.out_prefix.with_suffix(".steps.jsonl")


@dataclass
class Recorded:
    """A LocustRun that run_load started, and every process of it seen just after the start."""

    run: LocustRun
    seen: list[psutil.Process] = field(default_factory=list)


@contextlib.contextmanager
def recorded_runs() -> Iterator[list[Recorded]]:
    """Every LocustRun that run_load starts inside, in order."""
    runs: list[Recorded] = []
    original = bench.load.window.start_locust

    def start(spec: LoadSpec, boundaries: Path) -> LocustRun:
        run = original(spec, boundaries)
        runs.append(Recorded(run, run.tree()))
        return run

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bench.load.window, "start_locust", start)
        yield runs


class Background(threading.Thread):
    """`action` in a daemon thread; `outcome()` joins it and re-raises what it raised."""

    def __init__(self, action: Callable[[], Any]) -> None:
        super().__init__(daemon=True)
        self.action = action
        self.value: Any = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.value = self.action()
        except BaseException as exc:  # handed to the test's own thread by outcome()
            self.error = exc

    def outcome(self, timeout_s: float = 60.0) -> Any:
        self.join(timeout_s)
        if self.is_alive():
            pytest.fail("the helper thread did not finish")
        if self.error is not None:
            raise self.error
        return self.value


def in_background(action: Callable[[], Any]) -> Background:
    thread = Background(action)
    thread.start()
    return thread


def poll(condition: Callable[[], Any], timeout_s: float, what: str) -> Any:
    """`condition`'s first truthy value; AssertionError at the deadline (usable in a thread,
    where pytest.fail would end only the thread)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(psutil.Error, FileNotFoundError):
            if value := condition():
                return value
        time.sleep(POLL_S)
    raise AssertionError(f"{what}: not within {timeout_s:.0f} s")


def boundary_lines(path: Path) -> list[str]:
    """The complete lines of a boundaries file so far."""
    if not path.exists():
        return []
    return [line for line in path.read_text().splitlines() if line.endswith("}")]


def processes_of(out_dir: Path) -> list[psutil.Process]:
    """Live processes whose command line, request log or request bodies name this run's folder
    (a worker has no request log of its own, but the bodies' file)."""
    found = []
    for proc in psutil.process_iter():
        with contextlib.suppress(psutil.Error):
            environ = proc.environ()
            named = str(out_dir) in " ".join(proc.cmdline())
            named = named or any(
                str(out_dir) in environ.get(name, "") for name in (REQUEST_LOG_ENV, PAYLOADS_ENV)
            )
            if named and proc.status() != psutil.STATUS_ZOMBIE:
                found.append(proc)
    return found


def interactions_by_worker(request_log: Path, window: Window | None = None) -> dict[str, int]:
    """Interactions by the `worker` column of a distributed run's log (those that ended inside
    `window`, when given)."""
    with request_log.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    counts: dict[str, int] = {}
    for row in rows:
        end = float(row["start"]) + float(row["ms"]) / 1000
        if row["name"] in INTERACTIONS and (window is None or window.holds(end)):
            counts[row["worker"]] = counts.get(row["worker"], 0) + 1
    return counts


def locust_request_count(output_log: Path) -> int:
    """The request count of the summary Locust prints as it exits (its final stats; the CSV
    files are snapshots taken every second)."""
    totals = [line.split() for line in output_log.read_text().splitlines()]
    return int(next(words[1] for words in totals if words[:1] == ["Aggregated"]))
