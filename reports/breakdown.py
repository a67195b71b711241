"""The latency at one user taken apart, per deployment: the harness floor (the null target's
p50 through the same client, connection handling and server), the model (the in-process
predict() floor) and what is left, the server and the framework.

Each repetition is split on its own: repetition i of a deployment against repetition i of the
null target and of the in-process floor (the runner measures the floor, then every deployment,
once per repetition, so the three share the machine's state). The per-repetition parts sum to
that repetition's end-to-end p50 exactly; their medians need not sum to the end-to-end median,
so the residual is shown, and flagged past RESIDUAL_SHARE of the end-to-end median. A negative
server-and-framework part means the two floors overlap (the null target's server work and the
model's time are not disjoint from what the deployment does, or the levels drifted): it is
flagged, never clipped to zero.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from bench.store.rules import CALIBRATION_ROLE, KEPT_ALIVE_CONFIG, ceiling_config
from bench.store.table import FLOOR
from reports import scale, stats, text
from reports.inputs import LOAD_SCENARIOS, StoredRun
from reports.tables import Cell, Table, _est, _num, label, ordered

USERS = scale.OVERHEAD_USERS  # one user: no request waits for another
CONFIG = "default"
METRIC = "latency_p50"
FLOOR_CALL = "predict"  # the model alone: the shared validator is the deployment's work
RESIDUAL_SHARE = 0.05  # medians of the parts may miss the end-to-end median by this share
NOT_MEASURED = "not measured"


@dataclass(frozen=True)
class Parts:
    """One repetition's end-to-end p50 and its three parts, in ms."""

    end_to_end: float
    harness: float
    model: float

    @property
    def server(self) -> float:
        """The server and the framework: what is left of end-to-end once both floors are off."""
        return self.end_to_end - self.harness - self.model


@dataclass(frozen=True)
class Breakdown:
    """One deployment's latency at one user, taken apart over its paired repetitions."""

    deployment: str
    scenario: str
    model: str
    repetitions: Mapping[int, Parts]  # repetition -> parts; only those all three sides have
    tolerance: float = RESIDUAL_SHARE
    harness_config: str = CONFIG  # the null target's configuration the harness floor is from

    def _median(self, part: str) -> stats.Estimate:
        return stats.median_ci([getattr(p, part) for p in self.repetitions.values()])

    @property
    def end_to_end(self) -> stats.Estimate:
        return self._median("end_to_end")

    @property
    def harness(self) -> stats.Estimate:
        return self._median("harness")

    @property
    def model_time(self) -> stats.Estimate:
        return self._median("model")

    @property
    def server(self) -> stats.Estimate:
        return self._median("server")

    @property
    def residual(self) -> float:
        """End-to-end median minus the sum of the parts' medians (0 with one or two pairs)."""
        parts = self.harness.value + self.model_time.value + self.server.value
        return self.end_to_end.value - parts

    @property
    def residual_flagged(self) -> bool:
        return abs(self.residual) > self.tolerance * abs(self.end_to_end.value)

    @property
    def negative(self) -> bool:
        """The server-and-framework median is below zero: the floors overlap."""
        return self.server.value < 0

    @property
    def negative_repetitions(self) -> list[int]:
        return [rep for rep, parts in self.repetitions.items() if parts.server < 0]


def null_target(stored: StoredRun) -> str | None:
    """The calibration deployment measured at one user on a like-for-like request, if any."""
    for name in ordered(stored.info):
        if stored.deployments[name].get("role") == CALIBRATION_ROLE and _null_levels(stored, name):
            return name
    return None


def harness_scenarios(stored: StoredRun) -> list[str]:
    """The scenarios the null target answers at one user (today's serves api_single alone)."""
    name = null_target(stored)
    return _null_levels(stored, name) if name else []


def _null_levels(stored: StoredRun, name: str) -> list[str]:
    levels = stored.load_levels
    rows = levels[
        (levels["deployment"] == name)
        & (levels["config"] == CONFIG)
        & (levels["users"] == USERS)
        & (levels["metric"] == METRIC)
    ]
    return [s for s in LOAD_SCENARIOS if s in set(rows["scenario"])]


def available(stored: StoredRun) -> bool:
    """Whether the run can take any latency apart: the null target at one user."""
    return bool(harness_scenarios(stored))


def split(stored: StoredRun, deployment: str, scenario: str, model: str) -> Breakdown | None:
    """One deployment's breakdown at one user, or None where a side is missing: no null-target
    request like this scenario's, no floor for this model, or no level of the deployment."""
    name = null_target(stored)
    if name is None or scenario not in harness_scenarios(stored):
        return None
    results = stored.all_models
    end_to_end = _by_repetition(results[results["model"] == model], deployment, scenario, USERS)
    config = harness_config(stored, deployment, name)
    null_levels = stored.load_levels if config == CONFIG else stored.work
    harness = stats.values_by_repetition(null_levels, name, config, scenario, USERS, METRIC)
    floors = scale.floor_rows(stored)
    floor = stats.values_by_repetition(
        floors[floors["model"] == model], FLOOR, FLOOR_CALL, scale.FLOOR_SCENARIO[scenario], 0,
        METRIC,
    )  # fmt: skip
    paired = {
        rep: Parts(end_to_end[rep], harness[rep], floor[rep])
        for rep in sorted(set(end_to_end) & set(harness) & set(floor))
        if not any(math.isnan(v) for v in (end_to_end[rep], harness[rep], floor[rep]))
    }
    return Breakdown(deployment, scenario, model, paired, harness_config=config) if paired else None


def harness_config(stored: StoredRun, deployment: str, null: str) -> str:
    """The null target's configuration that handles connections as the deployment's default
    does, the same one the run's ceiling rule reads (bench/store/rules.py ceiling_config)."""
    measured = {config for name, config in stored.work_configs if name == null}
    return ceiling_config(stored.info, deployment, measured)


def _by_repetition(results: pd.DataFrame, name: str, scenario: str, users: int) -> dict[int, float]:
    return stats.values_by_repetition(results, name, CONFIG, scenario, users, METRIC)


def breakdowns(stored: StoredRun, scenario: str = "api_single") -> list[Breakdown]:
    """Per deployment (today's and other stacks', the null target and any calibration
    deployment aside), the run's main model at its default configuration and one user. Empty
    for a scenario the null target does not answer: no harness floor to take off."""
    found = []
    for name in ordered(stored.info):
        if stored.deployments[name].get("role") == CALIBRATION_ROLE:
            continue
        parts = split(stored, name, scenario, stored.model_name)
        if parts is not None:
            found.append(parts)
    return found


def not_broken_down(stored: StoredRun) -> list[tuple[str, str]]:
    """(deployment, scenario) measured at one user with no null-target request like theirs."""
    levels = stored.load_levels
    levels = levels[(levels["config"] == CONFIG) & (levels["users"] == USERS)]
    covered = set(harness_scenarios(stored))
    found = {(d, s) for d, s in zip(levels["deployment"], levels["scenario"], strict=True)}
    return [
        (name, scenario)
        for name in ordered(stored.info)
        if stored.deployments[name].get("role") != CALIBRATION_ROLE
        for scenario in LOAD_SCENARIOS
        if (name, scenario) in found and scenario not in covered
    ]


def breakdown_table(stored: StoredRun, scenario: str = "api_single") -> Table:
    rows = [_row(stored, b) for b in breakdowns(stored, scenario)]
    columns = ["Deployment", "End-to-end p50 (ms)", "Harness floor (ms)",
               "Server + framework (ms)", "Model (ms)", "Residual"]  # fmt: skip
    return Table(columns, rows, notes=notes(stored, scenario))


def _row(stored: StoredRun, parts: Breakdown) -> list[Cell]:
    return [
        Cell(label(stored.info, parts.deployment)),
        _est(parts.end_to_end),
        _harness_cell(parts),
        server_cell(parts),
        _est(parts.model_time, 3),
        _residual_cell(parts),
    ]


def _harness_cell(parts: Breakdown) -> Cell:
    cell = _est(parts.harness)
    if parts.harness_config == CONFIG:
        return cell
    note = f"{cell.note}; the null target's {parts.harness_config} configuration (kept alive)"
    return Cell(f"{cell.text} (kept alive)", note=note, css=cell.css)


def server_cell(parts: Breakdown) -> Cell:
    """The server-and-framework part, flagged where it, or any repetition of it, is negative."""
    cell = _est(parts.server)
    negative = parts.negative_repetitions
    if not negative:
        return cell
    reps = ", ".join(map(str, negative))
    note = (
        f"{cell.note}; negative in repetition {reps}: end-to-end below the harness floor plus "
        "the model, so the floors overlap there"
    )
    return Cell(cell.text, note=note, css="num bad" if parts.negative else "num flag")


def _residual_cell(parts: Breakdown) -> Cell:
    share = parts.residual / parts.end_to_end.value if parts.end_to_end.value else math.nan
    shown = f"{text.number(parts.residual, 3)} ({share:+.1%})"
    if parts.residual_flagged:
        note = f"the parts' medians miss the end-to-end median by more than {parts.tolerance:.0%}"
        return Cell(shown, note=note, css="num flag")
    return Cell(shown, note=f"within {parts.tolerance:.0%} of the end-to-end median", css="num")


def notes(stored: StoredRun, scenario: str = "api_single") -> tuple[str, ...]:
    users = text.plural(USERS, "user")
    found = [
        f"At {users}, each deployment's default configuration and the run's model "
        f"({stored.model_name}), scenario {scenario}, over the repetitions the deployment, the "
        "null target and the in-process floor all have, repetition i with repetition i.",
        "Harness floor: the null target's p50 (a bare callable that answers a constant under "
        "the same server settings) through the same load-generator client and connection "
        "handling: the load generator's own time, the connection and the least a server does. "
        "A deployment whose default keeps connections alive (the answer probe's finding) is set "
        f"against the null target's {KEPT_ALIVE_CONFIG} configuration where the run measured "
        "it, over the repetitions that has; the others against its default, which closes them. "
        f"Model: the in-process median of {FLOOR_CALL}() for the same rows. Server + framework: "
        "end-to-end minus both, per repetition; the shared validator is in it. Each part is the "
        "median of its per-repetition values with that median's bracket.",
        f"Residual: end-to-end median minus the sum of the parts' medians, as a share of the "
        f"end-to-end median; flagged past {RESIDUAL_SHARE:.0%} (each repetition's parts sum to "
        "its end-to-end exactly; the median of a sum is not the sum of medians). A negative "
        "server + framework part is flagged: it means the floors overlap.",
    ]
    aside = not_broken_down(stored)
    if aside:
        by_scenario = {
            s: [label(stored.info, d) for d, t in aside if t == s] for s in LOAD_SCENARIOS
        }
        listed = "; ".join(f"{s} ({', '.join(names)})" for s, names in by_scenario.items() if names)
        found.append(
            f"Not broken down: {listed}. The null target answers only "
            f"{', '.join(harness_scenarios(stored)) or 'no scenario at one user'}, so these "
            "requests have no like-for-like harness floor, and none is taken off."
        )
    return tuple(found)


def harness_note(stored: StoredRun) -> str:
    """Which scenarios have a harness floor, for the tables that read one."""
    covered = harness_scenarios(stored)
    if not covered:
        return (
            f"The run has no null target at {text.plural(USERS, 'user')}: the harness floor and "
            f"the net overhead read {NOT_MEASURED}."
        )
    return (
        f"The null target answers only {', '.join(covered)}: for every other scenario both "
        f"read {NOT_MEASURED}, since no like-for-like harness floor exists to take off."
    )


def net_cells(stored: StoredRun, deployment: str, scenario: str, model: str) -> list[Cell]:
    """The overhead table's harness floor and server + framework cells for one row: "not
    measured" where the null target has no request like this scenario's."""
    parts = split(stored, deployment, scenario, model)
    if parts is None:
        why = (
            "the null target answers no request like this scenario's"
            if scenario not in harness_scenarios(stored)
            else "the null target, the floor or this level lacks a repetition to pair"
        )
        return [Cell(NOT_MEASURED, note=why, css="num muted")] * 2
    return [_num(parts.harness.value), server_cell(parts)]
