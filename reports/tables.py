"""The report's table cells and the helpers every table module shares: the deployments' order
and labels, numbers and estimates as cells, key-value tables. The tables themselves are in
perf_tables.py (load levels, ratios, cold starts) and run_tables.py (security, code size,
coverage, verification, configurations)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from bench.store.rules import WRK_DISAGREEMENT
from reports import stats, text
from reports.evaluators import PAPER_FRAMEWORKS as PAPER_ORDER
from reports.inputs import SUBJECT

ROLE_ORDER = {"subject": 0, "reference": 1, "calibration": 2}
SCENARIO_TITLES = {
    "api_single": "API, one row per request",
    "api_batch": "API, a batch of rows per request",
    "form": "HTML form submission",
    "ui_session": "Streamlit session: one rerun after a submitted form",
}
INTERACTION_NAMES = {
    "api_single": "requests",
    "api_batch": "requests",
    "form": "form posts",
    "ui_session": "reruns",
}


@dataclass(frozen=True)
class Cell:
    text: str
    note: str = ""  # shown on hover, and for screen readers
    css: str = ""  # "num", "flag", "muted", "bad"


@dataclass(frozen=True)
class Table:
    columns: Sequence[str]
    rows: Sequence[Sequence[Cell]]
    caption: str = ""
    notes: Sequence[str] = field(default_factory=tuple)

    @property
    def empty(self) -> bool:
        return not self.rows


def ordered(run: Mapping[str, Any]) -> list[str]:
    """Deployments in the order the report shows them: the paper's three in its column order,
    then reference and calibration deployments."""
    deployments = run.get("deployments") or {}

    def key(name: str) -> tuple:
        info = deployments[name]
        framework = info.get("framework", "")
        paper = PAPER_ORDER.index(framework) if framework in PAPER_ORDER else len(PAPER_ORDER)
        return (ROLE_ORDER.get(info.get("role", SUBJECT), 3), paper, name)

    return sorted(deployments, key=key)


def label(run: Mapping[str, Any], deployment: str) -> str:
    info = (run.get("deployments") or {}).get(deployment, {})
    name = str(info.get("display_name") or deployment)
    role = info.get("role", SUBJECT)
    return name if role == SUBJECT else f"{name} ({role})"


def _num(value: float, digits: int | None = None) -> Cell:
    return Cell(text.number(value, digits), css="num")


def _est(estimate: stats.Estimate, digits: int | None = None) -> Cell:
    note = f"median of {text.plural(estimate.n, 'repetition')}"
    if estimate.has_interval:
        note += f"; in brackets: {estimate.label}"
    return Cell(text.estimate(estimate, digits), note=note, css="num")


def _ratio_est(ratio: stats.Estimate) -> Cell:
    """A paired ratio as a cell, its note saying how many repetitions it pairs and how."""
    paired = text.plural(ratio.n, "paired repetition")
    note = f"{paired}; in brackets: {ratio.label}" if ratio.has_interval else paired
    return Cell(text.ratio(ratio), note=note, css="num")


def _medians(levels: pd.DataFrame, metric: str) -> dict[tuple, stats.Estimate]:
    table = stats.summarise(levels, metric)
    return {
        (r.deployment, r.config, r.scenario, int(r.users)): stats.estimate_of(r)
        for r in table.itertuples(index=False)
    }


SATURATED = "\u2691"  # the flag shown beside a level where the load generator was saturated
SATURATED_NOTE = (
    f"{SATURATED} the load generator's CPU was saturated (loadgen_bound = 1) in at least one "
    "repetition: the limit at that level may be the load generator's, not the server's."
)


HARNESS_LIMITED = "\u2260wrk"  # shown beside a level where wrk disagreed with Locust
HARNESS_NOTE = (
    f"{HARNESS_LIMITED} wrk, on the same warm server right after Locust, served a throughput more "
    f"than {WRK_DISAGREEMENT:.0%} from Locust's at this level (the run's cross-check): its "
    "throughput is the harness's figure, not the server's, so it decides no throughput claim; "
    "its latency still stands, with the harness floor taken apart in the latency breakdown."
)


def _users_cell(users: int, flagged: bool, harness_limited: bool = False) -> Cell:
    if harness_limited and not flagged:
        return Cell(f"{users} {HARNESS_LIMITED}", note=HARNESS_NOTE, css="num flag-soft")
    if not flagged:
        return _num(users)
    return Cell(f"{users} {SATURATED}", note=SATURATED_NOTE, css="num flag")


def key_value_table(items: Mapping[str, Any], columns: Sequence[str] = ("", "")) -> Table:
    return Table(columns, [[Cell(str(k)), Cell(_plain(v))] for k, v in items.items()])


def _plain(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(map(str, value))
    if isinstance(value, dict):
        return "; ".join(f"{k}: {v}" for k, v in value.items())
    return str(value)  # stored metadata is shown as stored, never rounded


def key_package_names(run: Mapping[str, Any]) -> list[str]:
    """The distributions that matter for reading the figures: each deployment's framework and
    server, then KEY_PACKAGES (the libraries they serve through, the model's, the load
    generator), lower-case and each once."""
    served = [
        str(info.get(k, "")).lower()
        for info in (run.get("deployments") or {}).values()
        for k in ("framework", "server")
    ]
    return list(dict.fromkeys([*served, *KEY_PACKAGES]))


def key_packages(run: Mapping[str, Any]) -> dict[str, str]:
    """The installed versions of key_package_names."""
    wanted = set(key_package_names(run))
    packages = run.get("packages") or {}
    return {name: version for name, version in packages.items() if name.lower() in wanted}


KEY_PACKAGES = (
    "flask-wtf",
    "djangorestframework",
    "werkzeug",
    "jinja2",
    "starlette",
    "uvicorn",
    "tornado",
    "scikit-learn",
    "numpy",
    "skops",
    "locust",
)
