"""Performance on each stack, side by side: throughput and latency per deployment at the levels
every stack measured, and each framework's overhead over the bare WSGI app served from the same
stack (the order of the paper's frameworks on each stack is reports/stack_order.py's).

Every figure comes from the stacks' views (reports/stacks.py) through reports/stats.py: medians
over repetitions with their order-statistic interval or range; a ratio pairs the repetitions of
the two stacks (the runner interleaves them) with a t-interval on the log ratios, and a
difference of medians has none (stats.py computes none), which its column says.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

from bench.store.rules import CALIBRATION_ROLE
from reports import stats, text
from reports.evaluators import PAPER_FRAMEWORKS, read_estimate
from reports.inputs import LOAD_SCENARIOS, StoredRun
from reports.stacks import TODAY, older, shown_order
from reports.tables import (
    SATURATED_NOTE,
    Cell,
    Table,
    _est,
    _ratio_est,
    _users_cell,
    label,
    ordered,
)

THROUGHPUT, LATENCY = "throughput", "latency_p50"
NO_INTERVAL = f"none with fewer than {stats.MIN_N_FOR_CI} repetitions"
RATIO_NOTE = (
    "A ratio between the stacks pairs each repetition of one with the same repetition of the "
    "other (the runner interleaves the stacks' deployments in every repetition, on the same "
    "machine and with the same load generator, bench/plan.toml), over the repetitions both "
    f"have: the geometric mean of those ratios, in brackets its {stats.RATIO_METHOD} "
    f"({NO_INTERVAL})."
)


def interval_note(counts: list[int]) -> str:
    """The brackets of the table, for the repetition counts it shows."""
    medians = stats.median_brackets(counts) or NO_INTERVAL
    return f"Brackets around a median: {medians}. {RATIO_NOTE}"


@dataclass(frozen=True)
class Level:
    deployment: str  # the base name, the same in every view
    config: str
    scenario: str
    users: int


class Measured:
    """Each stack's view with its load levels and saturated levels, read once (a view computes
    them anew at every access), for every table of this module and reports/stack_order.py."""

    def __init__(self, views: Mapping[str, StoredRun]) -> None:
        self.views = dict(views)
        self.stacks = shown_order(views)
        self.older = older(views)
        self.frames = {s: v.load_levels for s, v in views.items()}
        self.flags = {s: stats.any_flag(f) for s, f in self.frames.items()}

    def values(self, stack: str, level: Level, metric: str) -> list[float]:
        return list(self.by_repetition(stack, level, metric).values())

    def by_repetition(self, stack: str, level: Level, metric: str) -> dict[int, float]:
        return stats.values_by_repetition(
            self.frames[stack], level.deployment, level.config, level.scenario, level.users, metric
        )

    def bound(self, stack: str, level: Level) -> bool:
        key = (level.deployment, level.config, level.scenario, level.users)
        return key in self.flags[stack]

    @cached_property
    def shared_levels(self) -> list[Level]:
        """The load levels every stack measured for the same deployment and configuration, in
        the report's order of deployments (calibration left out: it is today's only)."""
        found: list[set[tuple]] = []
        for stack, levels in self.frames.items():
            rows = levels[levels["metric"] == THROUGHPUT]
            deployments = self.views[stack].deployments
            calibration = {n for n, d in deployments.items() if d.get("role") == CALIBRATION_ROLE}
            keys = zip(
                rows["deployment"], rows["config"], rows["scenario"], rows["users"], strict=True
            )
            found.append({(d, c, s, int(u)) for d, c, s, u in keys if d not in calibration})
        common = set.intersection(*found) if found else set()
        today = self.views.get(TODAY)
        order = ordered(today.info) if today else sorted({k[0] for k in common})
        return [
            Level(*key)
            for key in sorted(
                (k for k in common if k[0] in order),
                key=lambda k: (order.index(k[0]), LOAD_SCENARIOS.index(k[2]), k[1] != "default", k),
            )
        ]


def side_by_side_table(measured: Measured, same_within: float, slightly_up_to: float) -> Table:
    """Throughput and median latency of each deployment on every stack, at every level they all
    measured, with the older stack's figure divided by today's."""
    stacks, older = measured.stacks, measured.older
    today = measured.views.get(TODAY)
    if today is None or not older:
        return Table([], [])
    rows, counts = [], []
    for level in measured.shared_levels:
        bound = any(measured.bound(s, level) for s in stacks)
        cells = [
            Cell(label(today.info, level.deployment)),
            Cell(level.scenario),
            Cell(level.config),
            _users_cell(level.users, bound),
        ]
        for metric in (THROUGHPUT, LATENCY):
            values = {s: measured.by_repetition(s, level, metric) for s in stacks}
            medians = [stats.median_ci(list(values[s].values())) for s in stacks]
            counts += [m.n for m in medians]
            cells += [_est(m) for m in medians]
            ratios = {s: stats.paired_ratio_ci(values[s], values[TODAY]) for s in older}
            cells += [_ratio_est(r) for r in ratios.values()]
            if metric == THROUGHPUT:
                for ratio in ratios.values():
                    reading = read_estimate(ratio, same_within, slightly_up_to) or "undecided"
                    cells.append(Cell(reading, css="muted" if bound else ""))
        rows.append(cells)
    columns = ["Deployment", "Scenario", "Config", "Users"]
    for metric, unit in ((THROUGHPUT, "/s"), (LATENCY, "ms")):
        heading = "Throughput" if metric == THROUGHPUT else "p50"
        columns += [f"{heading}, {s} ({unit})" for s in stacks]
        columns += [f"{heading}: {s} ÷ {TODAY}" for s in older]
        if metric == THROUGHPUT:
            columns += [f"Reading: {s} against {TODAY}" for s in older]
    notes = [
        interval_note(counts),
        "A throughput ratio above 1 means the older stack served more per second; a latency "
        "ratio above 1 means it was slower. " + _reading_note(same_within, slightly_up_to),
    ]
    if any(r[3].css.endswith("flag") for r in rows):
        notes.append(SATURATED_NOTE)
    return Table(columns, rows, notes=tuple(notes))


def _reading_note(same_within: float, slightly_up_to: float) -> str:
    return (
        f"Reading as in the ratio table: same within ±{same_within:.0%}, slightly better or "
        f"worse up to {slightly_up_to:.0%}, clearly beyond; not distinguishable when the interval "
        "spans bands and holds 1; undecided when it spans a band edge away from 1, or when "
        "there is no interval."
    )


# --- overhead over the bare WSGI app ------------------------------------------------------


def bare_app(stored: StoredRun) -> str | None:
    """The reference deployment with no framework: the only distribution serving it is its
    server (run.json: framework == server), the floor under the frameworks on that server."""
    for name, info in stored.deployments.items():
        plain = info.get("framework") and info.get("framework") == info.get("server")
        if info.get("role") == "reference" and plain:
            return name
    return None


def overhead_table(measured: Measured) -> Table:
    """Each framework served by the same server as the bare WSGI app, against that app on its
    own stack: the median latency it adds and its throughput ratio, per stack."""
    stacks, older, views = measured.stacks, measured.older, measured.views
    bare = {s: bare_app(views[s]) for s in stacks}
    if not older or TODAY not in views or None in bare.values():
        return Table([], [])
    today = views[TODAY].deployments
    server = today[bare[TODAY]].get("server")
    rows = []
    for level in measured.shared_levels:
        info = today.get(level.deployment, {})
        if info.get("framework") not in PAPER_FRAMEWORKS or level.config != "default":
            continue
        if info.get("server") != server:
            continue
        on = {s: Level(bare[s], "default", level.scenario, level.users) for s in stacks}
        if not all(measured.values(s, on[s], LATENCY) for s in stacks):
            continue
        added = {}
        bound = any(measured.bound(s, level) for s in stacks)
        cells = [
            Cell(label(views[TODAY].info, level.deployment)),
            Cell(level.scenario),
            _users_cell(level.users, bound),
        ]
        for s in stacks:
            own = stats.median_ci(measured.values(s, level, LATENCY)).value
            plain = stats.median_ci(measured.values(s, on[s], LATENCY)).value
            added[s] = own - plain
            cells.append(_ms(added[s]))
        cells += [_ms(added[s] - added[TODAY], signed=True) for s in older]
        for s in stacks:
            ratio = stats.paired_ratio_ci(
                measured.by_repetition(s, level, THROUGHPUT),
                measured.by_repetition(s, on[s], THROUGHPUT),
            )
            cells.append(_ratio_est(ratio))
        rows.append(cells)
    columns = [
        "Framework",
        "Scenario",
        "Users",
        *(f"p50 added over bare WSGI, {s} (ms)" for s in stacks),
        *(f"Change, {s} against {TODAY} (ms)" for s in older),
        *(f"Throughput ÷ bare WSGI, {s}" for s in stacks),
    ]
    elsewhere = sorted(
        {
            f"{label(views[TODAY].info, n)} (served by {d.get('server') or '?'})"
            for n, d in today.items()
            if d.get("framework") in PAPER_FRAMEWORKS and d.get("server") != server
        }
    )
    notes = (
        "Each stack's framework against the bare WSGI app served from the same stack, under the "
        f"same {server} settings, at the default configuration: what the framework adds. Added "
        "latency and its change are differences of medians over repetitions, without an "
        "interval; a throughput ratio pairs each repetition of the framework with the same "
        "repetition of the bare app: the geometric mean of those ratios, in brackets its "
        f"{stats.RATIO_METHOD} ({NO_INTERVAL}).",
        *(
            [
                f"Not compared: {', '.join(elsewhere)}. The bare WSGI app under {server} is no "
                "like-for-like floor for a framework another server serves."
            ]
            if elsewhere
            else []
        ),
    )
    return Table(columns, rows, notes=notes)


def _ms(value: float, signed: bool = False) -> Cell:
    if math.isnan(value):
        return Cell("n/a", css="num")
    digits = 2 if abs(value) < 10 else 1
    shown = f"{value:+,.{digits}f}" if signed else text.number(value, digits)
    return Cell(shown, css="num")
