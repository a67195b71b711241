"""Does a change to the measuring code measure what the code before it measured? Stored runs of
the same plan, made by the code before and the code after, taken in turns (before, after,
after, before, ...) so that the machine's drift falls on both sides, are lined up level by
level: each side's median throughput over all its runs' repetitions, with its [min, max], and
after ÷ before paired by turn. Nothing is re-run.

A level agrees when each side's median lies inside the other side's [min, max]; its ranges
overlap when they share values but a median lies outside; they are disjoint otherwise.
"""

from __future__ import annotations

import json
import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.store.table import Row, read_rows
from reports.inputs import RunError
from reports.intervals import Estimate, paired_ratio_ci

METRIC = "throughput"
RESULTS = "results.csv"
RUN_INFO = "run.json"
COMPLETE = "complete"

INSIDE = "medians inside"  # each median inside the other side's [min, max]
OVERLAP = "ranges overlap"
DISJOINT = "ranges disjoint"
CLASSES = (INSIDE, OVERLAP, DISJOINT)

Level = tuple[str, str, str, int, str]  # deployment, config, scenario, users, model


@dataclass(frozen=True)
class Side:
    """One side's throughputs at one level: every repetition of every run, and each run's own
    median (runs in the order they were made)."""

    values: tuple[float, ...]
    by_run: Mapping[int, float]

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def low(self) -> float:
        return min(self.values)

    @property
    def high(self) -> float:
        return max(self.values)


@dataclass(frozen=True)
class LevelAgreement:
    level: Level
    before: Side
    after: Side
    ratio: Estimate  # after ÷ before, paired by turn (run i of each side)

    @property
    def verdict(self) -> str:
        b, a = self.before, self.after
        if b.low <= a.median <= b.high and a.low <= b.median <= a.high:
            return INSIDE
        if a.low <= b.high and b.low <= a.high:
            return OVERLAP
        return DISJOINT


def run_folders(paths: Iterable[Path]) -> list[Path]:
    """The complete runs named: each path a run folder, or a folder of run folders (its `latest`
    link and unfinished runs left out). In the order they were made (run folders are named by
    their start time)."""
    runs: list[Path] = []
    for path in paths:
        if (path / RESULTS).is_file():
            runs.append(path)
        elif path.is_dir():
            runs.extend(p for p in sorted(path.iterdir()) if _complete(p))
        else:
            raise RunError(f"{path}: neither a stored run nor a folder of them")
    if not runs:
        raise RunError(f"no complete stored run in {', '.join(map(str, paths))}")
    return sorted(set(runs), key=lambda p: p.name)


def _complete(path: Path) -> bool:
    if path.is_symlink() or not (path / RESULTS).is_file():
        return False
    try:
        status = json.loads((path / RUN_INFO).read_text()).get("status")
    except (OSError, ValueError, AttributeError):
        return False
    return status == COMPLETE


def _throughputs(rows: Iterable[Row]) -> dict[Level, list[float]]:
    values: dict[Level, list[float]] = defaultdict(list)
    for row in rows:
        if row.metric == METRIC and not math.isnan(row.value):
            level = (row.deployment, row.config, row.scenario, row.users, row.model)
            values[level].append(row.value)
    return values


def sides(runs: Sequence[Path]) -> dict[Level, Side]:
    """Every level's throughputs over the runs, as one Side per level."""
    per_run = []
    for run in runs:
        try:
            per_run.append(_throughputs(read_rows(run / RESULTS)))
        except (OSError, ValueError) as exc:
            raise RunError(f"{run}: {exc}") from exc
    levels = {level for run in per_run for level in run}
    return {
        level: Side(
            tuple(v for run in per_run for v in run.get(level, ())),
            {i: statistics.median(run[level]) for i, run in enumerate(per_run) if level in run},
        )
        for level in sorted(levels)
    }


def compare(before: Sequence[Path], after: Sequence[Path]) -> list[LevelAgreement]:
    """The levels both sides measured, lined up."""
    b, a = sides(before), sides(after)
    shared = sorted(set(b) & set(a))
    if not shared:
        raise RunError("the two sides share no measured level")
    return [
        LevelAgreement(level, b[level], a[level], paired_ratio_ci(a[level].by_run, b[level].by_run))
        for level in shared
    ]


def counts(lines: Sequence[LevelAgreement]) -> dict[str, int]:
    return {c: sum(line.verdict == c for line in lines) for c in CLASSES}


def _side_text(side: Side) -> str:
    return f"{side.median:8.1f} [{side.low:.1f}, {side.high:.1f}] n={len(side.values)}"


def _ratio_text(ratio: Estimate) -> str:
    if ratio.has_interval:
        return f"{ratio.value:.3f} [{ratio.low:.3f}, {ratio.high:.3f}]"
    return f"{ratio.value:.3f}" if not math.isnan(ratio.value) else "-"


def as_text(lines: Sequence[LevelAgreement], n_before: int, n_after: int) -> str:
    """The table, one line a level, then the counts and what the brackets are."""
    out = [
        f"before: {n_before} runs, after: {n_after} runs; {METRIC} (interactions/s), median "
        "[min, max] over every repetition; after ÷ before paired by turn",
        "",
    ]
    for line in lines:
        deployment, config, scenario, users, model = line.level
        out.append(
            f"{deployment:>10} {config:<8} {scenario:<11} {users:>3} {model:<12} "
            f"{_side_text(line.before)}  {_side_text(line.after)}  "
            f"{_ratio_text(line.ratio):<22} {line.verdict}"
        )
    n = counts(lines)
    out += ["", ", ".join(f"{c}: {n[c]}" for c in CLASSES) + f" (of {len(lines)} levels)"]
    methods = {line.ratio.label for line in lines if line.ratio.has_interval}
    out += [f"ratio brackets: {m}" for m in sorted(methods)]
    return "\n".join(out)
