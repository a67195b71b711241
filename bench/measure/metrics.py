"""Turn one Locust run's per-request log and resource samples into the tidy table's metrics."""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.load.scenarios import INTERACTIONS, LATE_SEND
from bench.measure.sampler import Sample, cpu_percent

# Locust warns at 90 % CPU: past that its own latency figures are not to be trusted. One Locust
# process is one Python thread, so 100 % (one core) is its ceiling however many cores it has.
LOADGEN_BOUND_PERCENT = 90.0


@dataclass(frozen=True)
class Request:
    start: float
    name: str
    ms: float
    ok: bool
    error: str

    @property
    def end(self) -> float:
        return self.start + self.ms / 1000


@dataclass(frozen=True)
class Window:
    start: float
    end: float

    @property
    def seconds(self) -> float:
        return self.end - self.start

    def holds(self, at: float) -> bool:
        return self.start <= at < self.end


def read_request_log(path: Path, partial_ok: bool = False) -> list[Request]:
    """The log's requests; ValueError naming the line when one is malformed (a level is then
    failed with that reason, not the run ended by a traceback). With `partial_ok` (a writer
    killed mid-line) a malformed last line is dropped."""
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    requests = []
    for number, r in enumerate(rows, start=2):
        try:
            requests.append(
                Request(float(r["start"]), r["name"], float(r["ms"]), r["ok"] == "1",
                        r["error"] or "")
            )  # fmt: skip
        except (TypeError, ValueError, KeyError) as exc:
            if partial_ok and number == len(rows) + 1:
                break
            raise ValueError(f"{path.name} line {number} is malformed: {exc}") from None
    return requests


def read_request_logs(paths: Sequence[Path], partial_ok: bool = False) -> list[Request]:
    """The per-request logs of a distributed run's workers as one log, in order of start."""
    if not paths:
        raise ValueError("no request log to read")
    missing = [str(path) for path in paths if not path.is_file()]
    if missing:
        raise FileNotFoundError(f"request log(s) missing: {', '.join(missing)}")
    merged = [request for path in paths for request in read_request_log(path, partial_ok)]
    return sorted(merged, key=lambda request: request.start)


def level_metrics(
    requests: list[Request],
    window: Window,
    server: list[Sample],
    loadgen: list[Sample],
    loadgen_processes: int = 1,
) -> dict[str, float]:
    """Every LEVEL_METRICS value for one recorded window (see bench/store/table.py).

    `loadgen` samples the whole load generator (a distributed run's master and workers);
    `loadgen_processes` is how many cores its load-sending processes can keep busy: 1 for one
    Locust process, else min(Locust workers, load-generator cores), since each is one thread.
    """
    done = [r for r in requests if window.holds(r.end)]
    interactions = [r for r in done if r.name in INTERACTIONS]
    ok_ms = np.array([r.ms for r in interactions if r.ok])
    loadgen_cpu = cpu_percent(loadgen)
    metrics = {
        "interactions": float(len(interactions)),
        "failures": float(sum(not r.ok for r in done)),
        "throughput": sum(r.ok for r in interactions) / window.seconds,
        **latency_percentiles(ok_ms),
        "server_cpu": cpu_percent(server),
        "server_rss_mean": _mib(np.mean([s.rss_bytes for s in server])) if server else math.nan,
        "server_rss_max": _mib(max(s.rss_bytes for s in server)) if server else math.nan,
        "server_threads": float(max((s.threads for s in server), default=math.nan)),
        "server_processes": float(max((s.processes for s in server), default=math.nan)),
        "loadgen_cpu": loadgen_cpu,
        "loadgen_bound": float(loadgen_cpu >= LOADGEN_BOUND_PERCENT * loadgen_processes),
        "window": window.seconds,
    }
    return metrics


def latency_percentiles(ms: np.ndarray) -> dict[str, float]:
    if ms.size == 0:
        return dict.fromkeys(
            (
                "latency_p50",
                "latency_p90",
                "latency_p99",
                "latency_p999",
                "latency_max",
                "latency_mean",
            ),
            math.nan,
        )
    p50, p90, p99, p999 = np.percentile(ms, [50, 90, 99, 99.9])
    return {
        "latency_p50": float(p50),
        "latency_p90": float(p90),
        "latency_p99": float(p99),
        "latency_p999": float(p999),
        "latency_max": float(ms.max()),
        "latency_mean": float(ms.mean()),
    }


def failure_kinds(requests: list[Request], window: Window) -> dict[str, int]:
    kinds: dict[str, int] = {}
    for r in requests:
        if not r.ok and window.holds(r.end):
            kind = r.error.split(":", 1)[0] or "unknown"
            kinds[kind] = kinds.get(kind, 0) + 1
    return kinds


def late_sends(requests: list[Request], window: Window) -> int:
    """How many requests due inside the window an open-loop load generator sent late (it was
    behind its schedule: bench/load/scenarios/open_loop.py). Closed-loop logs have none."""
    return sum(r.name == LATE_SEND and window.holds(r.start) for r in requests)


def _mib(value: float) -> float:
    return float(value) / 2**20
