"""crosscheck.csv and crosscheck.json, written by `python -m bench crosscheck` into the run's
folder (bench/run/crosscheck.py write_results, whose docstring says what each row means).

crosscheck.json: the settings and every wrk measurement, repetition by repetition.
crosscheck.csv: tidy rows, CROSSCHECK_COLUMNS; a figure that could not be taken has no row.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.store.records import FILE, Record, StoredFile, StoreError
from bench.store.run_info import Pinning

# 1: today; the crosscheck.json of run-quick-all was stored before the file carried a version.
CROSSCHECK_VERSION = 1
CROSSCHECK_COLUMNS = ("deployment", "config", "users", "tool", "metric", "value", "unit")


class WrkMeasurement(Record):
    deployment: str
    config: str
    users: int
    repetition: int
    figures: dict[str, float]  # metric -> value, as crosscheck.csv's wrk rows name them
    # wrk's own report, kept by the crosscheck that stored run-quick-all; the one that runs wrk
    # through the load engine (bench/run/wrk_check.py) keeps only the figures.
    requests: int | None = None
    duration_s: float | None = None
    socket_errors: dict[str, int] | None = None  # connect, read, write, timeout
    latency_ms: dict[str, float] | None = None  # p50 ... max, mean


class CrosscheckInfo(Record):
    schema_version: int
    finished_at: str
    tool: str  # wrk's version line
    script: str
    pinning: Pinning
    threads: int
    window_s: float
    warmup_s: float
    repetitions: int
    measurements: list[WrkMeasurement]


CROSSCHECK = StoredFile(
    CrosscheckInfo, CROSSCHECK_VERSION, frozenset({1}), unversioned=CROSSCHECK_VERSION
)


def load_crosscheck_info(path: Path) -> CrosscheckInfo:
    """crosscheck.json at `path`, validated; StoreError names the file and the field at fault."""
    return CROSSCHECK.load(path)


def write_crosscheck_info(path: Path, info: Mapping[str, Any] | CrosscheckInfo) -> CrosscheckInfo:
    """Validate `info` as today's crosscheck.json (its version added) and write it atomically."""
    return CROSSCHECK.write(path, info)


@dataclass(frozen=True)
class CrosscheckRow:
    deployment: str
    config: str
    users: int
    tool: str  # "wrk", "locust" or "wrk/locust"
    metric: str
    value: float
    unit: str


def read_crosscheck_rows(path: Path) -> list[CrosscheckRow]:
    """crosscheck.csv at `path`; StoreError names the file and the column at fault."""
    try:
        with Path(path).open(newline="") as handle:
            reader = csv.DictReader(handle)
            if tuple(reader.fieldnames or ()) != CROSSCHECK_COLUMNS:
                raise StoreError(
                    path, FILE, f"columns {reader.fieldnames} are not {list(CROSSCHECK_COLUMNS)}"
                )
            return [_row(path, line, r) for line, r in enumerate(reader, start=2)]
    except OSError as exc:
        raise StoreError(path, FILE, f"cannot be read: {exc}") from None


def _row(path: Path, line: int, r: dict[str, str]) -> CrosscheckRow:
    for column, kind in (("users", int), ("value", float)):
        try:
            kind(r[column])
        except (TypeError, ValueError):
            raise StoreError(path, column, f"line {line}: {r[column]!r} is not a number") from None
    return CrosscheckRow(
        **{**r, "users": int(r["users"]), "value": float(r["value"])}  # type: ignore[arg-type]
    )
