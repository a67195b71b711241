"""Which measurements of two deployments may be compared, and their ratios at each load level.

Like for like means the same scenario, the same server configuration name and the same number
of users. Streamlit has no API and no HTML form, so its one interaction, a rerun of the app
after a submitted form, is set against one form submission of Flask or Django at each
framework's defaults; every such pairing is labelled as such.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from reports import stats
from reports.inputs import LOAD_SCENARIOS

# Streamlit's rerun after a form submit does what one POST of the HTML form does.
INTERACTION_EQUIVALENTS = {"ui_session": "form", "form": "ui_session"}
DEFAULT = "default"


@dataclass(frozen=True)
class Pairing:
    a: str
    b: str
    a_scenario: str
    b_scenario: str
    a_config: str
    b_config: str

    @property
    def interaction(self) -> bool:
        """True when the scenarios differ: one form submission against one Streamlit rerun."""
        return self.a_scenario != self.b_scenario

    @property
    def label(self) -> str:
        if self.interaction:
            return (
                f"{self.a_scenario} ({self.a_config}) vs {self.b_scenario} ({self.b_config}),"
                " one interaction each"
            )
        if self.a_config == self.b_config:
            return f"{self.a_scenario}, {self.a_config}"
        return f"{self.a_scenario}, {self.a_config} vs {self.b_config}"


@dataclass(frozen=True)
class Point:
    """The ratio a / b at one load level, repetition i of a over repetition i of b (the runner
    interleaves them), with the level's flags."""

    pairing: Pairing
    users: int
    throughput: stats.Estimate  # a's throughput / b's
    latency_p50: stats.Estimate  # a's median latency / b's
    loadgen_bound: bool  # either side saturated the load generator
    # wrk disagreed with Locust by more than 10 % on either side (results' wrk_disagrees): the
    # level's throughput is the harness's, so it decides no throughput claim.
    harness_limited: bool = False

    @property
    def throughput_decides(self) -> bool:
        return not (self.loadgen_bound or self.harness_limited)


def _measured(levels: pd.DataFrame, deployment: str) -> dict[str, set[str]]:
    """scenario -> configs with at least one throughput figure for this deployment."""
    rows = levels[(levels["deployment"] == deployment) & (levels["metric"] == "throughput")]
    found: dict[str, set[str]] = {}
    for scenario, config in rows[["scenario", "config"]].drop_duplicates().itertuples(index=False):
        found.setdefault(scenario, set()).add(config)
    return found


def pairings(levels: pd.DataFrame, a: str, b: str) -> list[Pairing]:
    """Every like-for-like pairing of two deployments' measured load levels."""
    on_a, on_b = _measured(levels, a), _measured(levels, b)
    common = [s for s in LOAD_SCENARIOS if s in on_a and s in on_b]
    if common:
        return [
            Pairing(a, b, s, s, c, c)
            for s in common
            for c in sorted(on_a[s] & on_b[s], key=lambda c: (c != DEFAULT, c))
        ]
    return [
        Pairing(a, b, s, INTERACTION_EQUIVALENTS[s], DEFAULT, DEFAULT)
        for s in LOAD_SCENARIOS
        if s in INTERACTION_EQUIVALENTS
        and DEFAULT in on_a.get(s, set())
        and DEFAULT in on_b.get(INTERACTION_EQUIVALENTS[s], set())
    ]


def points(levels: pd.DataFrame, pairing: Pairing) -> list[Point]:
    """The ratio at every users level both sides measured."""
    bound = stats.any_flag(levels)
    limited = stats.any_flag(levels, "wrk_disagrees")
    side_a = (pairing.a, pairing.a_config, pairing.a_scenario)
    side_b = (pairing.b, pairing.b_config, pairing.b_scenario)
    users = sorted(set(_users(levels, *side_a)) & set(_users(levels, *side_b)))
    return [
        Point(
            pairing,
            u,
            stats.paired_ratio_ci(
                stats.values_by_repetition(levels, *side_a, u, "throughput"),
                stats.values_by_repetition(levels, *side_b, u, "throughput"),
            ),
            stats.paired_ratio_ci(
                stats.values_by_repetition(levels, *side_a, u, "latency_p50"),
                stats.values_by_repetition(levels, *side_b, u, "latency_p50"),
            ),
            (*side_a, u) in bound or (*side_b, u) in bound,
            (*side_a, u) in limited or (*side_b, u) in limited,
        )
        for u in users
    ]


def _users(levels: pd.DataFrame, deployment: str, config: str, scenario: str) -> list[int]:
    mask = (
        (levels["deployment"] == deployment)
        & (levels["config"] == config)
        & (levels["scenario"] == scenario)
        & (levels["metric"] == "throughput")
    )
    return [int(u) for u in levels.loc[mask, "users"].unique()]


def all_points(levels: pd.DataFrame, a: str, b: str) -> list[Point]:
    return [p for pairing in pairings(levels, a, b) for p in points(levels, pairing)]
