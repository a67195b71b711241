"""The tables of what was measured under load: each scenario's levels, the ratios between
frameworks, the diagnostic configurations and the cold starts."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from reports import compare, stats, text
from reports.evaluators import read_estimate
from reports.inputs import SUBJECT, StoredRun
from reports.stacks import same_stack
from reports.tables import (
    HARNESS_LIMITED,
    HARNESS_NOTE,
    INTERACTION_NAMES,
    SATURATED_NOTE,
    Cell,
    Table,
    _est,
    _medians,
    _num,
    _ratio_est,
    _users_cell,
    label,
    ordered,
)


def scenario_table(stored: StoredRun, scenario: str) -> Table:
    """Throughput and latency percentiles per deployment, configuration and users."""
    levels = stored.load_levels
    levels = levels[levels["scenario"] == scenario]
    metrics = ["throughput", "latency_p50", "latency_p90", "latency_p99", "server_cpu"]
    medians = {m: _medians(levels, m) for m in [*metrics, "server_rss_mean"]}
    failures = levels[levels["metric"] == "failures"].groupby(stats.LEVEL_KEYS)["value"].sum()
    bound = stats.any_flag(levels)
    limited = stats.any_flag(levels, "wrk_disagrees")
    order = ordered(stored.info)
    rows = []
    for key in sorted(medians["throughput"], key=lambda k: (order.index(k[0]), k[1], k[3])):
        deployment, config, _, users = key
        rows.append(
            [
                Cell(label(stored.info, deployment)),
                Cell(config),
                _users_cell(users, key in bound, key in limited),
                _num(medians["throughput"][key].n),
                *(_est(medians[m].get(key, stats.NAN_ESTIMATE)) for m in metrics[:4]),
                # Resource use: the median alone keeps the table narrow; the figure has intervals.
                *(
                    _num(medians[m].get(key, stats.NAN_ESTIMATE).value)
                    for m in ("server_cpu", "server_rss_mean")
                ),
                _num(float(failures.get(key, math.nan))),
            ]
        )
    unit = INTERACTION_NAMES.get(scenario, "interactions")
    columns = [
        "Deployment",
        "Config",
        "Users",
        "Reps",
        f"Throughput ({unit}/s)",
        "p50 (ms)",
        "p90 (ms)",
        "p99 (ms)",
        "Server CPU (%)",
        "Server RSS (MiB)",
        "Failures",
    ]
    notes = [SATURATED_NOTE] if bound else []
    notes += [HARNESS_NOTE] if limited else []
    return Table(columns, rows, notes=tuple(notes))


def not_covered(stored: StoredRun, scenario: str) -> list[str]:
    """Sentences for deployments without figures in a scenario: not applicable, or not
    measured because verification failed, or nothing stored."""
    measured = set(stored.load_levels.loc[stored.load_levels["scenario"] == scenario, "deployment"])
    lines = []
    for name in ordered(stored.info):
        info = stored.deployments[name]
        if name in measured:
            continue
        if scenario in (info.get("not_applicable") or []):
            lines.append(
                f"{label(stored.info, name)}: not applicable (the deployment does not "
                f"offer this scenario; see its manifest)."
            )
        elif scenario in (info.get("not_planned") or []):
            lines.append(
                f"{label(stored.info, name)}: not measured, its plan leaves this scenario out "
                "(run.json plan.stacks)."
            )
        elif info.get("verified") is False:
            lines.append(
                f"{label(stored.info, name)}: not measured, it failed verification (reasons below)."
            )
        elif scenario in (info.get("scenarios") or []):
            lines.append(f"{label(stored.info, name)}: no level of this scenario was stored.")
    return lines


# The pairs the sources compare first: Flask with Django, Streamlit with Django.
PAIR_ORDER = (("flask", "django"), ("streamlit", "django"), ("flask", "streamlit"))


def pairs(run: Mapping[str, Any], names: Sequence[str]) -> list[tuple[str, str]]:
    """Every pair of deployments once, the sources' comparisons first, A before B as they are
    usually quoted ("Flask ÷ Django")."""
    framework = {n: (run.get("deployments") or {})[n].get("framework") for n in names}
    subject = {n for n in names if (run["deployments"][n].get("role", SUBJECT) == SUBJECT)}
    found = []
    for fa, fb in PAIR_ORDER:
        a = [n for n in names if n in subject and framework[n] == fa]
        b = [n for n in names if n in subject and framework[n] == fb]
        found += [(x, y) for x in a for y in b]
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            if (a, b) not in found and (b, a) not in found:
                found.append((a, b))
    return found


def ratio_table(stored: StoredRun, same_within: float, slightly_up_to: float) -> Table:
    """A ÷ B at every like-for-like level, for every pair of measured deployments."""
    levels = stored.load_levels
    # The null target answers a constant: a ratio against it says nothing about a framework.
    names = [
        n
        for n in ordered(stored.info)
        if n in set(levels["deployment"]) and stored.deployments[n].get("role") != "calibration"
    ]
    # Frameworks are compared on one stack at a time: a stack against another is set side by
    # side per deployment in the stacks section (reports/stack_perf.py).
    rows = [
        _ratio_row(stored.info, point, same_within, slightly_up_to)
        for a, b in pairs(stored.info, names)
        if same_stack(stored.info, a, b)
        for point in compare.all_points(levels, a, b)
    ]
    columns = [
        "A ÷ B",
        "Compared",
        "Users",
        "Throughput ratio",
        "p50 latency ratio",
        "Reading of throughput",
    ]
    notes = [
        "A ratio above 1 in throughput means A served more interactions per second; above 1 in "
        "latency means A was slower. Each ratio pairs every repetition of A with the same "
        "repetition of B (the runner interleaves them), over the repetitions both have, and is "
        f"the geometric mean of those ratios; brackets: its {stats.RATIO_METHOD} (none with "
        f"fewer than {stats.MIN_N_FOR_CI} paired repetitions).",
        f"Reading: same within ±{same_within:.0%}, slightly better or worse up to "
        f"{slightly_up_to:.0%}, clearly beyond; not distinguishable when the interval spans "
        "bands and holds 1 (no difference cannot be ruled out); undecided when it spans a band "
        "edge away from 1, or when there is no interval.",
    ]
    if any(HARNESS_LIMITED in r[2].text for r in rows):
        notes.append(HARNESS_NOTE)
    if any(r[2].css.endswith("flag") for r in rows):
        notes.append(SATURATED_NOTE + " Such levels do not count towards a claim's verdict.")
    return Table(columns, rows, notes=tuple(notes))


def _ratio_row(
    run: Mapping[str, Any], point: compare.Point, same_within: float, slightly_up_to: float
) -> list[Cell]:
    pairing = point.pairing
    reading = read_estimate(point.throughput, same_within, slightly_up_to) or "undecided"
    return [
        Cell(f"{label(run, pairing.a)} ÷ {label(run, pairing.b)}"),
        Cell(pairing.label, css="flag-soft" if pairing.interaction else "muted"),
        _users_cell(point.users, point.loadgen_bound, point.harness_limited),
        _ratio_est(point.throughput),
        _ratio_est(point.latency_p50),
        Cell(reading, css="" if point.throughput_decides else "muted"),
    ]


def diagnostics_table(stored: StoredRun) -> Table:
    """Latency and throughput of every configuration of a deployment that has diagnostic ones,
    at the levels the diagnostics ran: what its latency is made of."""
    levels = stored.diagnostics
    medians = {m: _medians(levels, m) for m in ("latency_p50", "latency_p99", "throughput")}
    infos = stored.deployments
    rows = [
        [
            Cell(label(stored.info, deployment)),
            Cell(
                config, css="" if (deployment, config) not in stored.diagnostic_configs else "muted"
            ),
            Cell(str((infos.get(deployment, {}).get("configs") or {}).get(config, ""))),
            _num(users),
            *(_est(medians[m].get(key, stats.NAN_ESTIMATE)) for m in medians),
        ]
        for key in sorted(medians["latency_p50"], key=lambda k: (k[0], k[3], k[1]))
        for deployment, config, _, users in [key]
    ]
    columns = [
        "Deployment",
        "Config",
        "What it changes",
        "Users",
        "p50 (ms)",
        "p99 (ms)",
        "Throughput (/s)",
    ]
    return Table(columns, rows)


def diagnostic_notes(stored: StoredRun) -> list[tuple[str, str]]:
    """(deployment, its manifest's notes) for the deployments with diagnostic configurations."""
    names = sorted({d for d, _ in stored.diagnostic_configs})
    return [(label(stored.info, n), str(stored.deployments[n].get("notes", ""))) for n in names]


def cold_start_table(stored: StoredRun) -> Table:
    cold = stored.cold_starts
    rows = []
    order = ordered(stored.info)
    groups = cold.groupby(["deployment", "config"], sort=False)
    for (deployment, config), frame in sorted(groups, key=lambda g: order.index(g[0][0])):
        estimate = stats.median_ci(frame["value"].tolist())
        samples = ", ".join(text.number(v, 2) for v in frame.sort_values("repetition")["value"])
        rows.append(
            [
                Cell(label(stored.info, deployment)),
                Cell(config),
                _num(estimate.n),
                _est(estimate, 2),
                Cell(samples, css="muted"),
            ]
        )
    return Table(["Deployment", "Config", "Samples", "Cold start (s)", "Each sample (s)"], rows)
