"""Soak runs (python -m bench soak), shown when present: memory growth and errors under steady
load. They are stored apart from the benchmark runs, in <results>/soak/<stamp>-<name>-<config>/."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from reports import text
from reports.tables import Cell, Table

SOAK_FOLDER = "soak"


def latest_soaks(results_dir: Path) -> list[dict[str, Any]]:
    """The newest soak of each deployment and configuration, read defensively."""
    newest: dict[tuple[str, str], dict[str, Any]] = {}
    for path in sorted((results_dir / SOAK_FOLDER).glob("*/soak.json")):
        try:
            soak = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        deployment = soak.get("deployment") or {}
        newest[(str(deployment.get("name")), str(deployment.get("config")))] = soak
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


def _row(soak: dict[str, Any]) -> list[Cell]:
    deployment = soak.get("deployment") or {}
    rss = soak.get("rss") or {}
    totals = soak.get("totals") or {}
    growth, percent = _float(rss.get("growth_mib")), _float(rss.get("growth_percent"))
    start, end = _float(rss.get("start_mib")), _float(rss.get("end_mib"))
    failures = int(totals.get("failures") or 0)
    status = str(soak.get("status", "?"))
    return [
        Cell(str(deployment.get("display_name") or deployment.get("name"))),
        Cell(str(deployment.get("config", "?"))),
        Cell(str(soak.get("scenario", "?"))),
        Cell(str(soak.get("users", "?")), css="num"),
        Cell(text.number(_float(soak.get("measured_s")) / 60, 1), css="num"),
        Cell(status, css="" if status == "complete" else "bad"),
        Cell(f"{text.number(start)} → {text.number(end)}", css="num"),
        Cell(f"{text.number(growth)} MiB ({text.number(percent, 1)} %)", css="num"),
        Cell(text.number(_float(rss.get("slope_mib_per_hour"))), css="num"),
        Cell(str(failures), css="num bad" if failures else "num"),
        Cell(text.number(_float(totals.get("throughput"))), css="num"),
        Cell(str(soak.get("soak_id", "")), css="muted"),
    ]


def _float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan
