"""soak.json: one soak (python -m bench soak), written once at its end by bench/run/soak.py
finish(): what ran, its RSS trend, its totals and every recorded window ("minute")."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from bench.store.records import Record, StoredFile
from bench.store.run_info import GitState, Machine, Pinning

SOAK_VERSION = 1


class SoakDeployment(Record):
    name: str
    display_name: str
    framework: str
    framework_version: str
    server: str
    server_version: str
    config: str
    config_description: str
    port: int


class SoakPlan(Record):
    minutes: float
    warmup_s: float
    windows_s: list[float]
    sample_interval_s: float


class SoakModel(Record):
    name: str | None
    version: str | None
    sha256: str | None


class SoakLoad(Record):
    generator: str
    users: str
    spawn: str
    windows: str


class RssTrend(Record):
    """bench/run/soak.py RssTrend (all null without samples), the first and last sample's time."""

    start_mib: float | None
    end_mib: float | None
    growth_mib: float | None
    growth_percent: float | None
    slope_mib_per_hour: float | None
    slope_stderr_mib_per_hour: float | None
    samples: int | None
    span_s: float | None
    from_: float | None = Field(alias="from")
    to: float | None


class Latencies(Record):
    """bench/measure/metrics.py latency_percentiles(), in ms; null where nothing was answered."""

    latency_p50: float | None = None
    latency_p90: float | None = None
    latency_p99: float | None = None
    latency_p999: float | None = None
    latency_max: float | None = None
    latency_mean: float | None = None


class SoakTotals(Latencies):
    """Over every window."""

    requests: int
    interactions: int
    failures: int
    error_rate: float | None
    failure_kinds: dict[str, int]
    throughput: float | None


class SoakMinute(Latencies):
    """One recorded window, with its level metrics (bench/store/table.py LEVEL_METRICS, from
    bench/measure/metrics.py level_metrics()); null where not measured."""

    index: int
    start: float
    end: float
    gap_s: float | None  # None for the first
    request_log: str
    requests: int
    failure_kinds: dict[str, int]
    interactions: float | None = None
    failures: float | None = None
    throughput: float | None = None
    server_cpu: float | None = None
    server_rss_mean: float | None = None
    server_rss_max: float | None = None
    server_threads: float | None = None
    server_processes: float | None = None
    loadgen_cpu: float | None = None
    loadgen_bound: float | None = None
    window: float | None = None
    # The window rule's flags (absent in soaks stored before the measurement engine).
    window_steady: float | None = None
    window_capped: float | None = None


class SoakInfo(Record):
    schema_version: int
    kind: Literal["soak"]
    soak_id: str
    status: Literal["running", "complete", "interrupted", "failed"]
    reason: str
    started_at: str
    deployment: SoakDeployment
    scenario: str
    users: int
    planned: SoakPlan
    model: SoakModel
    machine: Machine
    python: str
    git: GitState
    pinning: Pinning
    load: SoakLoad
    # Set by finish(); null (or absent) in a soak stored before it finished.
    finished_at: str | None = None
    wall_s: float | None = None
    measured_s: float | None = None
    rss: RssTrend | None = None
    totals: SoakTotals | None = None
    minutes: list[SoakMinute] | None = None
    files: dict[str, str] | None = None  # what -> its path in the soak's folder


SOAK = StoredFile(SoakInfo, SOAK_VERSION, frozenset({1}))


def load_soak(path: Path) -> SoakInfo:
    """soak.json at `path`, validated; StoreError names the file and the field at fault."""
    return SOAK.load(path)


def write_soak(path: Path, info: Mapping[str, Any] | SoakInfo) -> SoakInfo:
    """Validate `info` as today's soak.json and write it atomically at `path`. NaN is not JSON:
    pass values through bench/run/soak.py json_safe() first, as finish() does."""
    return SOAK.write(path, info)
