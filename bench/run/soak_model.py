"""A soak's settings, its windows and their figures, shared by the soak's modules."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bench.measure.metrics import (
    Window,
)
from bench.measure.sampler import Sample
from bench.targets.manifest import Deployment

SCHEMA_VERSION = 1
DEFAULT_MINUTES = 10.0
DEFAULT_USERS = 32
DEFAULT_WARMUP_S = 10.0
DEFAULT_WINDOW_S = 60.0
SAMPLE_INTERVAL_S = 1.0
EXIT_FAILED = 1
RSS_COLUMNS = ("at", "elapsed_s", "rss_mib", "cpu_s", "threads", "processes")
SOAK_KEYS = (
    "schema_version", "kind", "soak_id", "status", "reason", "started_at", "finished_at",
    "wall_s", "deployment", "scenario", "users", "planned", "measured_s", "rss", "totals",
    "minutes", "files", "model", "machine", "python", "git", "pinning", "load",
)  # fmt: skip


class SoakFailed(RuntimeError):
    """The soak cannot go on: the server died or a minute's load could not be recorded."""


def window_lengths(total_s: float, window_s: float = DEFAULT_WINDOW_S) -> list[float]:
    """Equal consecutive windows covering `total_s`, each as near `window_s` as a whole number
    of them allows (one window rule holds for every step of the engine's load run)."""
    if total_s <= 0 or window_s <= 0:
        raise ValueError(f"a soak and its windows last more than 0 s, not {total_s}, {window_s}")
    count = max(1, round(total_s / window_s))
    return [total_s / count] * count


@dataclass
class Minute:
    """One recorded window: its metrics and the latencies of its successful interactions."""

    index: int
    window: Window
    request_log: Path
    metrics: dict[str, Any]
    ok_ms: np.ndarray
    requests: int
    kinds: dict[str, int]


@dataclass
class Soak:
    deployment: Deployment
    config: str
    scenario: str
    users: int
    port: int
    warmup_s: float
    windows_s: list[float]
    folder: Path
    server_cores: tuple[int, ...]
    loadgen_cores: tuple[int, ...]
    info: dict[str, Any] = field(default_factory=dict)
    minutes: list[Minute] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)
    # When the recorded load began: the first window's start, or before it is known, the first
    # Locust's spawn plus the warm-up.
    measured_from: float | None = None
    started: float = field(default_factory=time.monotonic)

    @property
    def payload_file(self) -> Path:
        return self.folder / "raw" / "payloads.json"

    @property
    def window_s(self) -> float:
        return self.windows_s[0]
