"""Whether two load generators agree: wrk's figures beside Locust's, level by level, as medians over
clean repetitions and their ratios."""

from __future__ import annotations

import csv
import io
import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from bench.cli.console import table
from bench.load.wrk import (
    FIGURES,
    SCENARIO,
)
from bench.store.rules import WRK_DISAGREEMENT as DISAGREEMENT
from bench.store.table import Row

COMPARED = ("throughput", "latency_p50")
# Counted, not medianed: any of them flags its repetition.
WRK_ERRORS = ("non_2xx", "socket_errors")
LOCUST_ERRORS = ("failures",)
CSV_COLUMNS = ("deployment", "config", "users", "tool", "metric", "value", "unit")


class Level(NamedTuple):
    deployment: str
    config: str
    users: int


@dataclass(frozen=True)
class Comparison:
    level: Level
    wrk: dict[str, float]  # summarise() of wrk's repetitions
    locust: dict[str, float]  # summarise() of the stored run's repetitions
    ratios: dict[str, float] = field(default_factory=dict)  # wrk / Locust, metrics of COMPARED

    @property
    def disagrees(self) -> list[str]:
        return [m for m, r in self.ratios.items() if abs(r - 1) > DISAGREEMENT]

    @property
    def flagged(self) -> bool:
        return bool(self.wrk.get("flagged_repetitions") or self.locust.get("flagged_repetitions"))


def locust_repetitions(rows: Iterable[Row], model: str) -> dict[Level, list[dict[str, float]]]:
    """The stored api_single figures, by level, one dict per repetition."""
    wanted = {*FIGURES, *LOCUST_ERRORS}
    by_rep: dict[tuple[Level, int], dict[str, float]] = defaultdict(dict)
    for row in rows:
        # Runs stored before the model column existed served one model.
        if row.scenario != SCENARIO or getattr(row, "model", model) != model:
            continue
        if row.metric in wanted:
            level = Level(row.deployment, row.config, row.users)
            by_rep[level, row.repetition][row.metric] = row.value
    levels: dict[Level, list[dict[str, float]]] = defaultdict(list)
    for (level, _), figures in sorted(by_rep.items()):
        levels[level].append(figures)
    return dict(levels)


def summarise(
    repetitions: list[dict[str, float]], error_metrics: Sequence[str]
) -> dict[str, float]:
    """Medians over the clean repetitions; errors summed over all, and their repetitions counted."""
    clean = [r for r in repetitions if not any(r.get(m, 0) for m in error_metrics)]
    summary = {
        "repetitions": float(len(repetitions)),
        "flagged_repetitions": float(len(repetitions) - len(clean)),
        **{m: float(sum(r.get(m, 0) for r in repetitions)) for m in error_metrics},
    }
    for metric in FIGURES:
        values = [r[metric] for r in clean if metric in r and not math.isnan(r[metric])]
        if values:
            summary[metric] = statistics.median(values)
    return summary


def compare(
    wrk: dict[Level, list[dict[str, float]]], locust: dict[Level, list[dict[str, float]]]
) -> list[Comparison]:
    """One comparison per level wrk measured: medians of both tools and their ratios."""
    comparisons = []
    for level in sorted(wrk):
        wrk_summary = summarise(wrk[level], WRK_ERRORS)
        locust_summary = summarise(locust.get(level, []), LOCUST_ERRORS)
        ratios = {
            m: wrk_summary[m] / locust_summary[m]
            for m in COMPARED
            if m in wrk_summary and locust_summary.get(m)
        }
        comparisons.append(Comparison(level, wrk_summary, locust_summary, ratios))
    return comparisons


def csv_text(comparisons: Iterable[Comparison]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for c in comparisons:
        for tool, figures in (("wrk", c.wrk), ("locust", c.locust)):
            if not figures.get("repetitions"):
                continue  # Locust never measured this level: no rows rather than zeros
            for metric, value in figures.items():
                writer.writerow([*c.level, tool, metric, _number(value), _unit(metric)])
        for metric, ratio in c.ratios.items():
            writer.writerow([*c.level, "wrk/locust", metric, _number(ratio), "ratio"])
        if c.ratios:
            writer.writerow([*c.level, "wrk/locust", "disagrees", int(bool(c.disagrees)), "bool"])
    return buffer.getvalue()


def _unit(metric: str) -> str:
    return FIGURES.get(metric) or ("s" if metric == "window" else "count")


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(round(value, 4))


def render_table(comparisons: Sequence[Comparison]) -> str:
    rows = []
    for c in comparisons:
        w, lo, r = c.wrk, c.locust, c.ratios
        rows.append(
            (
                *c.level,
                _cell(w.get("throughput"), ".1f"),
                _cell(lo.get("throughput"), ".1f"),
                _cell(r.get("throughput"), ".2f"),
                _cell(w.get("latency_p50"), ".2f"),
                _cell(lo.get("latency_p50"), ".2f"),
                _cell(r.get("latency_p50"), ".2f"),
                note(c),
            )
        )
    headers = ["deployment", "config", "users", "wrk /s", "Locust /s", "ratio"]
    headers += ["wrk p50 ms", "Locust p50 ms", "ratio", "note"]
    return table(headers, rows)


def _cell(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def note(c: Comparison) -> str:
    notes = []
    if c.wrk.get("flagged_repetitions"):
        notes.append(
            f"WRK ERRORS in {c.wrk['flagged_repetitions']:.0f}/{c.wrk['repetitions']:.0f} reps "
            f"({c.wrk['non_2xx']:.0f} non-2xx, {c.wrk['socket_errors']:.0f} socket; left out)"
        )
    if c.locust.get("flagged_repetitions"):
        notes.append(
            f"Locust failures in {c.locust['flagged_repetitions']:.0f}"
            f"/{c.locust['repetitions']:.0f} reps (left out)"
        )
    if not c.locust.get("repetitions"):
        notes.append("no Locust figures at this level")
    if c.disagrees:
        notes.append(f"DIFFER > {DISAGREEMENT:.0%}: " + ", ".join(c.disagrees))
    return "; ".join(notes)
