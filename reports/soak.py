"""Soak runs (python -m bench soak), shown when present: memory growth and errors under steady
load. They are stored apart from the benchmark runs, in <results>/soak/<stamp>-<name>-<config>/."""

from __future__ import annotations

import math
from pathlib import Path

from bench.store.records import StoreError
from bench.store.soak import SoakInfo, load_soak
from reports import text
from reports.tables import Cell, Table

SOAK_FOLDER = "soak"


def latest_soaks(results_dir: Path) -> list[SoakInfo]:
    """The newest soak of each deployment and configuration; a soak.json the store refuses is
    left out (a soak still running has none yet)."""
    newest: dict[tuple[str, str], SoakInfo] = {}
    for path in sorted((results_dir / SOAK_FOLDER).glob("*/soak.json")):
        try:
            soak = load_soak(path)
        except StoreError:
            continue
        newest[(soak.deployment.name, soak.deployment.config)] = soak
    return list(newest.values())


def soak_table(results_dir: Path) -> Table:
    rows = [_row(soak) for soak in latest_soaks(results_dir)]
    notes = (
        "Steady closed-loop load for the planned minutes after a warm-up; the server's process "
        "tree's RSS sampled every second. Slope: least-squares fit over the samples after the "
        "warm-up (its standard error is a lower bound: successive samples are correlated). "
        "A soak is a separate command; each row is the newest soak of that deployment and "
        "configuration, whenever it ran.",
    )
    columns = ["Deployment", "Config", "Scenario", "Users", "Minutes", "Status",
               "RSS start → end (MiB)", "Growth", "Slope (MiB/h)", "Failures",
               "Throughput (/s)", "Soak"]  # fmt: skip
    return Table(columns, rows, notes=notes)


def _row(soak: SoakInfo) -> list[Cell]:
    d, rss, totals = soak.deployment, soak.rss, soak.totals
    growth = _float(rss.growth_mib if rss else None)
    percent = _float(rss.growth_percent if rss else None)
    start, end = _float(rss.start_mib if rss else None), _float(rss.end_mib if rss else None)
    failures = totals.failures if totals else 0
    return [
        Cell(d.display_name or d.name),
        Cell(d.config),
        Cell(soak.scenario),
        Cell(str(soak.users), css="num"),
        Cell(text.number(_float(soak.measured_s) / 60, 1), css="num"),
        Cell(soak.status, css="" if soak.status == "complete" else "bad"),
        Cell(f"{text.number(start)} → {text.number(end)}", css="num"),
        Cell(f"{text.number(growth)} MiB ({text.number(percent, 1)} %)", css="num"),
        Cell(text.number(_float(rss.slope_mib_per_hour if rss else None)), css="num"),
        Cell(str(failures), css="num bad" if failures else "num"),
        Cell(text.number(_float(totals.throughput if totals else None)), css="num"),
        Cell(soak.soak_id, css="muted"),
    ]


def _float(value: float | None) -> float:
    return math.nan if value is None else float(value)
