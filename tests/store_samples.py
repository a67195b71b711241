"""Valid documents of every typed file of the store, for the store's tests: the committed
fixture runs' own files, and a soak.json shaped as bench/run/soak.py finish() writes it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures"


def fixture_json(relative: str) -> dict[str, Any]:
    return json.loads((FIXTURES / relative).read_text())


def soak_document() -> dict[str, Any]:
    """A finished soak of two windows; figures are placeholders, not measurements."""
    minute = {
        "request_log": "raw/w001.requests.csv",
        "requests": 10,
        "failure_kinds": {},
        "interactions": 10.0,
        "failures": 0.0,
        "throughput": 1.0,
        "latency_p50": 1.0,
    }
    return {
        "schema_version": 1,
        "kind": "soak",
        "soak_id": "20260101T000000Z-soak-flask-default",
        "status": "complete",
        "reason": "",
        "started_at": "2026-01-01T00:00:00+00:00",
        "finished_at": "2026-01-01T00:01:00+00:00",
        "wall_s": 60.0,
        "deployment": {
            "name": "flask",
            "display_name": "Flask",
            "framework": "flask",
            "framework_version": "1",
            "server": "gunicorn",
            "server_version": "1",
            "config": "default",
            "config_description": "one worker",
            "port": 8101,
        },
        "scenario": "api_single",
        "users": 2,
        "planned": {
            "minutes": 1.0,
            "warmup_s": 1.0,
            "windows_s": [30.0, 30.0],
            "sample_interval_s": 1.0,
        },
        "measured_s": 60.0,
        "rss": {
            "start_mib": 1.0,
            "end_mib": 1.0,
            "growth_mib": 0.0,
            "growth_percent": 0.0,
            "slope_mib_per_hour": None,
            "slope_stderr_mib_per_hour": None,
            "samples": 2,
            "span_s": 1.0,
            "from": 1.0,
            "to": 2.0,
        },
        "totals": {
            "requests": 20,
            "interactions": 20,
            "failures": 0,
            "error_rate": 0.0,
            "failure_kinds": {},
            "throughput": 1.0,
            "latency_p50": 1.0,
        },
        "minutes": [
            {**minute, "index": 1, "start": 0.0, "end": 30.0, "gap_s": None},
            {**minute, "index": 2, "start": 31.0, "end": 61.0, "gap_s": 1.0},
        ],
        "files": {"rss_samples": "rss.csv", "server_log": "server.log", "raw": "raw/"},
        "model": {"name": "iris-logreg", "version": "1", "sha256": "0" * 64},
        "machine": {
            "cpu_model": "test",
            "cores": 2,
            "memory_gib": 1.0,
            "os": "test",
            "kernel": "test",
        },
        "python": "3.12.0",
        "git": {"commit": "unknown", "dirty": False},
        "pinning": {"server_cores": [0], "loadgen_cores": [1], "method": "sched_setaffinity"},
        "load": {
            "generator": "locust",
            "users": "closed loop",
            "spawn": "at once",
            "windows": "one Locust run per window",
        },
    }
