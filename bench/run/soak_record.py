"""What a soak stores and prints: soak.json, rss.csv and the lines of its summary."""

from __future__ import annotations

import csv
import io
import math
import platform
import time
from collections.abc import Sequence
from dataclasses import asdict, fields
from datetime import UTC, datetime
from typing import Any

import numpy as np

from bench.cli.console import say, table
from bench.measure.metrics import (
    latency_percentiles,
)
from bench.measure.rss_trend import RssTrend, mib, rss_trend
from bench.measure.sampler import Sample
from bench.run import environment
from bench.run.soak_model import (
    RSS_COLUMNS,
    SAMPLE_INTERVAL_S,
    SCHEMA_VERSION,
    SOAK_KEYS,
    Minute,
    Soak,
)
from bench.store.files import atomic_write_text
from bench.store.soak import write_soak
from shared_model.model import LoadedModel


def soak_info(
    soak: Soak, machine: dict[str, Any], minutes: float, model: LoadedModel
) -> dict[str, Any]:
    d, packages = soak.deployment, environment.packages()
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": "soak",
        "soak_id": soak.folder.name,
        "status": "running",
        "reason": "",
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "deployment": {
            "name": d.name,
            "display_name": d.display_name,
            "framework": d.framework,
            "framework_version": packages.get(d.framework, "?"),
            "server": d.server,
            "server_version": packages.get(d.server, "?"),
            "config": soak.config,
            "config_description": d.configs[soak.config].description,
            "port": soak.port,
        },
        "scenario": soak.scenario,
        "users": soak.users,
        "planned": {
            "minutes": minutes,
            "warmup_s": soak.warmup_s,
            "windows_s": soak.windows_s,
            "sample_interval_s": SAMPLE_INTERVAL_S,
        },
        "model": {k: model.metadata.get(k) for k in ("name", "version", "sha256")},
        "machine": machine,
        "python": platform.python_version(),
        "git": environment.git_state(),
        "pinning": {
            "server_cores": list(soak.server_cores),
            "loadgen_cores": list(soak.loadgen_cores),
            "method": "sched_setaffinity",
        },
        "load": {
            "generator": f"locust {packages.get('locust', '?')}",
            "users": "closed loop, no think time",
            "spawn": "all users within 1 s",
            "windows": "one Locust run holding the users through consecutive windows",
        },
    }


def measured_samples(soak: Soak) -> list[Sample]:
    """The samples of the recorded load: after the warm-up, up to the last complete window's end
    (or, when the soak was cut short, up to the last sample)."""
    if soak.measured_from is None:
        return []
    complete = len(soak.minutes) == len(soak.windows_s)
    until = soak.minutes[-1].window.end if complete else math.inf
    return [s for s in soak.samples if soak.measured_from <= s.at <= until]


def totals(minutes: Sequence[Minute]) -> dict[str, Any]:
    seconds = sum(m.window.seconds for m in minutes)
    requests = sum(m.requests for m in minutes)
    failures = sum(m.metrics["failures"] for m in minutes)
    kinds: dict[str, int] = {}
    for m in minutes:
        for kind, count in m.kinds.items():
            kinds[kind] = kinds.get(kind, 0) + count
    ok_ms = np.concatenate([m.ok_ms for m in minutes]) if minutes else np.array([])
    return {
        "requests": requests,
        "interactions": int(sum(m.metrics["interactions"] for m in minutes)),
        "failures": int(failures),
        "error_rate": failures / requests if requests else None,
        "failure_kinds": kinds,
        "throughput": ok_ms.size / seconds if seconds else None,
        **latency_percentiles(ok_ms),
    }


def minute_entry(soak: Soak, minute: Minute, previous: Minute | None) -> dict[str, Any]:
    return {
        "index": minute.index,
        "start": minute.window.start,
        "end": minute.window.end,
        "gap_s": minute.window.start - previous.window.end if previous else None,
        "request_log": str(minute.request_log.relative_to(soak.folder)),
        "requests": minute.requests,
        "failure_kinds": minute.kinds,
        **minute.metrics,
    }


def finish(soak: Soak, status: str, reason: str) -> None:
    """Write rss.csv and soak.json (each atomically) and print the summary."""
    samples = measured_samples(soak)
    trend = rss_trend(samples)
    info = soak.info
    info.update(
        status=status,
        reason=reason,
        finished_at=datetime.now(UTC).isoformat(timespec="seconds"),
        wall_s=round(time.monotonic() - soak.started, 1),
        measured_s=sum(m.window.seconds for m in soak.minutes),
        rss={
            **(asdict(trend) if trend else {f.name: None for f in fields(RssTrend)}),
            "from": samples[0].at if samples else None,
            "to": samples[-1].at if samples else None,
        },
        totals=totals(soak.minutes),
        minutes=[
            minute_entry(soak, m, soak.minutes[i - 1] if i else None)
            for i, m in enumerate(soak.minutes)
        ],
        files={"rss_samples": "rss.csv", "server_log": "server.log", "raw": "raw/"},
    )
    atomic_write_text(soak.folder / "rss.csv", rss_csv(soak.samples, soak.measured_from))
    write_soak(soak.folder / "soak.json", json_safe({k: info.get(k) for k in SOAK_KEYS}))
    say(summary(soak, trend, info["totals"]))
    say(f"results: {soak.folder} ({status})")


def json_safe(value: Any) -> Any:
    """NaN and infinities are not JSON: they become null."""
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, np.generic):
        return json_safe(value.item())
    return value


def rss_csv(samples: Sequence[Sample], measured_from: float | None) -> str:
    """Every sample; elapsed_s counts from the end of the warm-up (negative during it)."""
    origin = measured_from if measured_from is not None else (samples[0].at if samples else 0)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(RSS_COLUMNS)
    for s in samples:
        writer.writerow(
            [f"{s.at:.3f}", f"{s.at - origin:.3f}", f"{mib(s.rss_bytes):.3f}", f"{s.cpu_s:.3f}",
             s.threads, s.processes]
        )  # fmt: skip
    return buffer.getvalue()


def summary(soak: Soak, trend: RssTrend | None, total: dict[str, Any]) -> str:
    d = soak.deployment
    head = f"\nsoak of {d.display_name} ({soak.config}), {soak.scenario}, {soak.users} users"
    rows = [
        (
            m.index,
            f"{m.metrics['throughput']:.1f}",
            f"{m.metrics['latency_p99']:.1f}",
            f"{int(m.metrics['failures'])}",
            f"{m.metrics['server_rss_max']:.1f}",
        )
        for m in soak.minutes
    ]
    lines = [head]
    if rows:
        lines.append(table(["window", "throughput/s", "p99 ms", "errors", "RSS max MiB"], rows))
    if total["requests"]:
        lines.append(
            f"requests {total['requests']}, errors {total['failures']} "
            f"({100 * total['error_rate']:.3f} %), throughput {total['throughput']:.1f}/s, "
            f"p99 {total['latency_p99']:.1f} ms"
        )
    if trend is not None:
        slope = (
            f"{trend.slope_mib_per_hour:+.1f} ± {trend.slope_stderr_mib_per_hour:.1f} MiB/hour"
            if trend.slope_mib_per_hour is not None
            else "too few samples for a slope"
        )
        lines.append(
            f"RSS {trend.start_mib:.1f} -> {trend.end_mib:.1f} MiB "
            f"({trend.growth_mib:+.1f} MiB, {trend.growth_percent:+.1f} %), slope {slope} "
            f"over {trend.samples} samples"
        )
    return "\n".join(lines)
