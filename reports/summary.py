"""The sentences at the top of the report, computed from the stored run and the verdicts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from reports import stats, text
from reports.claims import Checked, tally
from reports.evaluators import display
from reports.inputs import LOAD_SCENARIOS, SUBJECT, StoredRun
from reports.tables import INTERACTION_NAMES, label, ordered
from reports.verdicts import CONTRADICTED, NOT_MEASURABLE


def _best_configs(levels: pd.DataFrame, users: int) -> dict[str, tuple[str, stats.Estimate]]:
    """Per deployment, its configuration with the highest median throughput at `users`."""
    best: dict[str, tuple[str, stats.Estimate]] = {}
    at = levels[(levels["users"] == users) & (levels["metric"] == "throughput")]
    for (deployment, config), frame in at.groupby(["deployment", "config"], sort=False):
        estimate = stats.median_ci(frame["value"].tolist())
        if deployment not in best or estimate.value > best[deployment][1].value:
            best[deployment] = (config, estimate)
    return best


def fastest(stored: StoredRun) -> list[str]:
    """Per scenario, which of the paper's frameworks served the most at the highest load level
    they all reached, each in its best configuration, and by how much. Levels where the load
    generator was saturated are left out: their limit may be Locust's."""
    levels = stored.load_levels
    bound = stats.any_flag(levels)
    keys = zip(
        levels["deployment"], levels["config"], levels["scenario"], levels["users"], strict=True
    )
    levels = levels[np.array([key not in bound for key in keys], dtype=bool)]
    subjects = {n for n, d in stored.deployments.items() if d.get("role", SUBJECT) == SUBJECT}
    lines = []
    for scenario in LOAD_SCENARIOS:
        rows = levels[(levels["scenario"] == scenario) & levels["deployment"].isin(subjects)]
        if rows.empty:
            continue
        present = rows.groupby("deployment")["users"].apply(set)
        common = set.intersection(*present.tolist())
        if not common:
            continue
        users = max(common)
        best = sorted(
            _best_configs(rows, users).items(), key=lambda item: item[1][1].value, reverse=True
        )
        lines.append(_fastest_line(stored, scenario, users, rows, best))
    return lines


def _fastest_line(
    stored: StoredRun,
    scenario: str,
    users: int,
    rows: pd.DataFrame,
    best: list[tuple[str, tuple[str, stats.Estimate]]],
) -> str:
    unit = INTERACTION_NAMES.get(scenario, "interactions")
    (top, (top_config, top_estimate)), others = best[0], best[1:]
    head = (
        f"{scenario} at {text.plural(users, 'user')}: "
        f"{label(stored.info, top)} ({top_config}) "
        f"{'served' if not others else 'was fastest at'} {text.number(top_estimate.value)} "
        f"{unit}/s"
    )
    if not others:
        return head + " (the only one of the paper's frameworks with this scenario)."
    comparisons = []
    for name, (config, estimate) in others:
        ratio = stats.paired_ratio_ci(
            stats.values_by_repetition(rows, top, top_config, scenario, users, "throughput"),
            stats.values_by_repetition(rows, name, config, scenario, users, "throughput"),
        )
        comparisons.append(
            f"{text.ratio(ratio)} {label(stored.info, name)} ({config}, "
            f"{text.number(estimate.value)}/s)"
        )
    return f"{head}, {'; '.join(comparisons)}."


def interaction_line(stored: StoredRun) -> str:
    """One form submission against one Streamlit rerun, each at its defaults."""
    levels = stored.load_levels
    rows = levels[
        levels["scenario"].isin(["form", "ui_session"])
        & (levels["config"] == "default")
        & (levels["metric"] == "throughput")
    ]
    if rows["scenario"].nunique() < 2:
        return ""
    present = rows.groupby("deployment")["users"].apply(set)
    common = set.intersection(*present.tolist())
    if not common:
        return ""
    users = max(common)
    parts = []
    order = ordered(stored.info)
    groups = rows[rows["users"] == users].groupby(["deployment", "scenario"], sort=False)
    for (deployment, scenario), frame in sorted(groups, key=lambda g: order.index(g[0][0])):
        estimate = stats.median_ci(frame["value"].tolist())
        unit = INTERACTION_NAMES[scenario]
        parts.append(f"{label(stored.info, deployment)} {text.number(estimate.value)} {unit}/s")
    return (
        f"Like for like at defaults and {text.plural(users, 'user')} (one form submission "
        f"against one Streamlit rerun): {', '.join(parts)}."
    )


def claims_lines(checked: list[Checked]) -> list[str]:
    counts = tally(checked)
    lines = [
        f"Of {len(checked)} registered claims, "
        + ", ".join(f"{n} {v}" for v, n in counts.items())
        + "."
    ]
    rows = [c for c in checked if c.claim.is_table_row]
    unmeasured = [c.claim.topic for c in rows if c.verdict.verdict == NOT_MEASURABLE]
    if rows:
        lines.append(
            f"Of the {len(rows)} rows of Table I, {len(unmeasured)} cannot be decided by what "
            f"this run stores" + (f": {', '.join(unmeasured)}." if unmeasured else ".")
        )
    return lines


def contradicted(checked: list[Checked], run: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(claim id, what) for every contradicted claim and every contradicted cell of a row."""
    found = []
    for c in checked:
        cells = [f for f, x in c.verdict.findings.items() if x.verdict == CONTRADICTED]
        if c.claim.is_table_row and cells:
            who = ", ".join(f"{display(run, f)} “{c.claim.says.get(f, '')}”" for f in cells)
            found.append((c.claim.id, f"Table I “{c.claim.topic}” for {who}"))
        elif c.verdict.verdict == CONTRADICTED:
            found.append((c.claim.id, f"{c.claim.where} “{c.claim.statement}”"))
    return found


def precision_line(stored: StoredRun) -> str:
    """How much to trust the figures: repetitions per level, and what that allows."""
    reps = (stored.info.get("plan") or {}).get("repetitions")
    base = (
        f"Figures are medians over repetitions; ratios such as “1.15{text.TIMES}” pair each "
        "repetition of the first framework with the same repetition of the second, at the same "
        "scenario, server configuration and number of users, and give the geometric mean of "
        "those per-repetition ratios."
    )
    if isinstance(reps, int) and reps < stats.MIN_N_FOR_CI:
        return (
            f"{base} This run has {text.plural(reps, 'repetition')} per level: no interval can "
            f"be computed (that needs {stats.MIN_N_FOR_CI}), so every figure is a single "
            "measurement and small differences may be noise."
        )
    counts = stats.summarise(stored.load_levels, "throughput")["n"].tolist()
    medians = stats.median_brackets(counts) or "none"
    return (
        f"{base} Brackets around a median: {medians}. Around a ratio: "
        f"{stats.ratio_brackets(counts)}."
    )
