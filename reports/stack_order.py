"""The order of the paper's frameworks by throughput on each stack, and whether it holds
across the stacks: at every level every stack measured, each framework at its default
configuration, the two neighbours of the order told apart only where the interval of their
throughput ratio, paired by repetition (reports/intervals.py), lies away from 1."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from reports import stats, text
from reports.compare import INTERACTION_EQUIVALENTS
from reports.evaluators import PAPER_FRAMEWORKS, display, subject_of
from reports.inputs import StoredRun
from reports.stack_perf import THROUGHPUT, Measured
from reports.stacks import TODAY, stack_label
from reports.tables import SATURATED_NOTE, Cell, Table, _users_cell

NOT_DISTINGUISHABLE = "\u2248"  # between two frameworks whose ratio's interval holds 1


@dataclass(frozen=True)
class Ordering:
    comparison: str  # what is compared: a scenario, or one interaction of each
    users: int
    by_stack: Mapping[str, str]  # stack -> "Flask > Django ≈ Streamlit"
    names_by_stack: Mapping[str, tuple[str, ...]]  # stack -> frameworks, fastest first
    verdict: str  # holds, or how it changes
    with_intervals: bool
    loadgen_bound: bool  # a framework's level saturated the load generator on some stack


def _participants(
    stored: StoredRun, levels: pd.DataFrame, scenario: str
) -> dict[str, tuple[str, str]]:
    """framework -> (its deployment in the view, the scenario it is measured by) for one
    comparison: an API scenario's own frameworks, or one form post against a Streamlit rerun."""
    measured = set(zip(levels["deployment"], levels["scenario"], strict=True))
    found = {}
    for framework in PAPER_FRAMEWORKS:
        name = subject_of(stored.info, framework)
        for candidate in (scenario, INTERACTION_EQUIVALENTS.get(scenario)):
            if name and candidate and (name, candidate) in measured:
                found[framework] = (name, candidate)
                break
    return found


COMPARISONS = {
    "api_single": "api_single",
    "api_batch": "api_batch",
    "form": "one interaction: a form post (Flask, Django) or a Streamlit rerun",
}


def orderings(measured: Measured) -> list[Ordering]:
    """At every users level every stack measured: the paper's frameworks by median throughput
    at their default configurations, on each stack, and whether the order holds."""
    stacks, views = measured.stacks, measured.views
    levels, flags = measured.frames, measured.flags
    found = []
    for scenario, comparison in COMPARISONS.items():
        participants = {s: _participants(views[s], levels[s], scenario) for s in stacks}
        frameworks = set.intersection(*(set(p) for p in participants.values()))
        if len(frameworks) < 2:
            continue
        users_sets = [
            set(_users(levels[s], *participants[s][f])) for s in stacks for f in frameworks
        ]
        for users in sorted(set.intersection(*users_sets)):
            samples = {
                s: {
                    f: _samples(levels[s], *participants[s][f], users)
                    for f in PAPER_FRAMEWORKS
                    if f in frameworks
                }
                for s in stacks
            }
            bound = any(
                (*_level_of(participants[s][f]), users) in flags[s]
                for s in stacks
                for f in frameworks
            )
            found.append(_ordering(views, comparison, users, samples, bound))
    return found


def _level_of(participant: tuple[str, str]) -> tuple[str, str, str]:
    deployment, scenario = participant
    return (deployment, "default", scenario)


def _users(levels: pd.DataFrame, deployment: str, scenario: str) -> list[int]:
    rows = levels[
        (levels["deployment"] == deployment)
        & (levels["scenario"] == scenario)
        & (levels["config"] == "default")
        & (levels["metric"] == THROUGHPUT)
    ]
    return [int(u) for u in rows["users"].unique()]


def _samples(levels: pd.DataFrame, deployment: str, scenario: str, users: int) -> dict[int, float]:
    return stats.values_by_repetition(levels, deployment, "default", scenario, users, THROUGHPUT)


def _ordering(
    views: Mapping[str, StoredRun],
    comparison: str,
    users: int,
    samples: Mapping[str, Mapping[str, Mapping[int, float]]],
    bound: bool,
) -> Ordering:
    by_stack, names_by_stack, tied = {}, {}, set()
    intervals = True
    for stack, by_framework in samples.items():
        medians = {f: stats.median_ci(list(v.values())).value for f, v in by_framework.items()}
        names = tuple(sorted(medians, key=lambda f: -medians[f]))
        ratios = {
            (a, b): stats.paired_ratio_ci(by_framework[a], by_framework[b])
            for i, a in enumerate(names)
            for b in names[i + 1 :]
        }
        parts = [_display(views, stack, names[0])]
        for a, b in itertools.pairwise(names):
            intervals &= ratios[(a, b)].is_interval
            sign = NOT_DISTINGUISHABLE if _holds_one(ratios[(a, b)]) else ">"
            parts += [sign, _display(views, stack, b)]
        # Any pair whose interval holds 1 on a stack may come in either order there.
        tied |= {tuple(sorted(pair)) for pair, ratio in ratios.items() if _holds_one(ratio)}
        by_stack[stack] = " ".join(parts)
        names_by_stack[stack] = names
    verdict = _across(names_by_stack, tied, intervals)
    return Ordering(comparison, users, by_stack, names_by_stack, verdict, intervals, bound)


def _holds_one(ratio: stats.Estimate) -> bool:
    return ratio.is_interval and ratio.low <= 1 <= ratio.high


def _display(views: Mapping[str, StoredRun], stack: str, framework: str) -> str:
    """A framework as today's view names it, so that every stack's order reads alike."""
    return display((views.get(TODAY) or views[stack]).info, framework)


HOLDS = "holds"
CHANGES = "changes"
CHANGES_WITHIN = "changes only between frameworks not distinguishable on a stack"


def _across(
    names: Mapping[str, tuple[str, ...]], tied: set[tuple[str, str]], intervals: bool
) -> str:
    orders = list(names.values())
    flipped = set()
    for first in orders:
        for other in orders:
            rank = {f: i for i, f in enumerate(other)}
            for i, a in enumerate(first):
                for b in first[i + 1 :]:
                    if rank[a] > rank[b]:
                        flipped.add(tuple(sorted((a, b))))
    medians_only = (
        ""
        if intervals
        else f" (by medians alone: no interval with fewer than {stats.MIN_N_FOR_CI} repetitions)"
    )
    if not flipped:
        return HOLDS + medians_only
    if intervals and flipped <= tied:
        return CHANGES_WITHIN
    return CHANGES + medians_only


def ordering_table(measured: Measured, found: list[Ordering]) -> Table:
    """The orderings (of `orderings`) as a table, one row per compared level."""
    stacks, views = measured.stacks, measured.views
    rows = [
        [
            Cell(o.comparison),
            _users_cell(o.users, o.loadgen_bound),
            *(Cell(o.by_stack[s]) for s in stacks),
            Cell(o.verdict, css="" if o.verdict.startswith(HOLDS) else "bad"),
        ]
        for o in found
    ]
    columns = [
        "Compared",
        "Users",
        *(f"Order, {stack_label(views[s].info, s)}" for s in stacks),
        "Across the stacks",
    ]
    notes = (
        "Each framework at its default configuration, fastest first by median throughput. "
        "“>”: the interval of the two neighbours' throughput ratio lies above 1 ("
        f"{stats.RATIO_METHOD}, each repetition of one framework over the same repetition of "
        "the other); "
        f"“{NOT_DISTINGUISHABLE}”: it holds 1 (not distinguishable). With fewer than "
        f"{stats.MIN_N_FOR_CI} "
        "repetitions there is no interval and the order is that of the medians alone.",
        *([SATURATED_NOTE] if any(o.loadgen_bound for o in found) else []),
    )
    return Table(columns, rows, notes=notes)


def ordering_line(measured: Measured, found: list[Ordering]) -> str:
    """One sentence for the summary: at how many levels the order holds."""
    if not found:
        return ""
    held = sum(o.verdict.startswith(HOLDS) for o in found)
    names = " and ".join(stack_label(measured.views[s].info, s) for s in measured.stacks)
    medians = "" if all(o.with_intervals for o in found) else " (by medians alone at some)"
    return (
        f"The order of the paper's frameworks by throughput is the same on {names} at "
        f"{held} of {text.plural(len(found), 'compared level')}{medians}."
    )
