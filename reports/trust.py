"""How far each figure can be trusted: the run's VALID/INVALID verdict, the load generator's
headroom against the calibrated ceiling, and the repeatability of every level."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from bench.store.crosscheck import CROSSCHECK_COLUMNS, read_crosscheck_rows
from bench.store.records import StoreError
from bench.store.rules import (
    CALIBRATION_ROLE,
    CEILING_SHARE_FLAG,
    FAILURE_ALLOWANCE,
    KEPT_ALIVE_CONFIG,
    LATE_SEND_ALLOWANCE,
    WRK_DISAGREEMENT,
    coefficient_of_variation,
    run_validity,
    samples_needed,
)
from bench.store.table import OPEN_LOOP, SLO, SLO_LOWER_BOUND_STOPS, read_rows
from reports import stats, text
from reports.breakdown import harness_config
from reports.inputs import StoredRun
from reports.tables import Cell, Table, _est, _num, label, ordered

SATURATED_MARK = "\u2691"
COV_FLAG = 0.05  # with pinned cores, throughput should repeat within 5 %
CEILING_SCENARIO = "api_single"


def validity(stored: StoredRun) -> dict[str, Any]:
    """The verdict the runner stored; for a run stored before verdicts existed, the same rules
    applied to its stored rows."""
    recorded = stored.info.get("validity")
    if isinstance(recorded, Mapping) and "verdict" in recorded:
        return dict(recorded)
    path = stored.path / "results.csv"
    rows = read_rows(path) if path.exists() else []
    return {**run_validity(rows, stored.info), "recomputed": True}


def calibration_names(run: Mapping[str, Any]) -> list[str]:
    return [
        name
        for name, info in (run.get("deployments") or {}).items()
        if info.get("role") == CALIBRATION_ROLE
    ]


def ceilings(stored: StoredRun, config: str = "default") -> dict[int, stats.Estimate]:
    """users -> the load generator's calibrated ceiling: the null target's throughput (median
    over repetitions) with as many users, at its default configuration (connections closed
    after every answer) or its kept-alive one."""
    levels = stored.load_levels if config == "default" else stored.work
    names = calibration_names(stored.info)
    rows = levels[
        levels["deployment"].isin(names)
        & (levels["scenario"] == CEILING_SCENARIO)
        & (levels["config"] == config)
        & (levels["metric"] == "throughput")
    ]
    return {
        int(users): stats.median_ci(frame["value"].tolist())
        for users, frame in rows.groupby("users")
    }


def headroom_table(stored: StoredRun) -> Table:
    """Every measured level: throughput with its interval, its repeatability (coefficient of
    variation), the load generator's CPU, and its share of the calibrated ceiling."""
    levels = stored.load_levels
    closed, kept = ceilings(stored), ceilings(stored, KEPT_ALIVE_CONFIG)
    null = next(iter(calibration_names(stored.info)), "")
    ceiling = {
        d: kept if harness_config(stored, d, null) == KEPT_ALIVE_CONFIG else closed
        for d in ordered(stored.info)
    }
    order = ordered(stored.info)
    rows = []
    for key, frame in levels.groupby(stats.LEVEL_KEYS, sort=False):
        deployment, config, scenario, users = key
        values = {m: f["value"].tolist() for m, f in frame.groupby("metric")}
        rows.append((order.index(deployment), config, scenario, users, key, values))
    cells = [
        _headroom_row(stored.info, key, values, ceiling.get(key[0], closed).get(int(key[3])))
        for *_, key, values in sorted(rows, key=lambda r: r[:4])
    ]
    notes = (
        f"CoV: coefficient of variation of throughput over the repetitions (sample standard "
        f"deviation ÷ mean); flagged above {COV_FLAG:.0%}, where a level did not repeat as a "
        "pinned benchmark should.",
        "Locust CPU: the highest mean CPU of the load generator over a level's windows "
        "(100 % = one core).",
        "Share of ceiling: median throughput ÷ the median of the null target's throughput with "
        "as many users (the most this load generator drove on this machine), the quotient of the "
        "two figures shown, without an interval; flagged above "
        f"{CEILING_SHARE_FLAG:.0%}, where the load generator, not the server, may set the pace. "
        "The ceiling is that of the one-row API client; the form client also parses HTML and "
        "the Streamlit client speaks a websocket, so for those scenarios Locust's CPU is the "
        "direct check. A deployment whose default keeps connections alive (the answer probe's "
        f"finding) is set against the null target's {KEPT_ALIVE_CONFIG} configuration where the "
        "run measured it: closing a connection after every answer lowers the ceiling. The run's "
        "validity reads the same ceilings.",
    )
    columns = [
        "Deployment",
        "Config",
        "Scenario",
        "Users",
        "Throughput (/s)",
        "CoV",
        "Locust CPU (%)",
        "Ceiling (/s)",
        "Share of ceiling",
    ]
    return Table(columns, cells, notes=notes)


def _headroom_row(
    run: Mapping[str, Any],
    key: tuple,
    values: Mapping[str, list[float]],
    ceiling: stats.Estimate | None,
) -> list[Cell]:
    deployment, config, scenario, users = key
    throughput = values.get("throughput", [])
    cov = coefficient_of_variation(throughput)
    share = _share(stats.median_ci(throughput).value, ceiling)
    is_ceiling = deployment in calibration_names(run)
    loadgen = max(values.get("loadgen_cpu", [math.nan]), default=math.nan)
    return [
        Cell(label(run, deployment)),
        Cell(config),
        Cell(scenario),
        _num(users),
        _est(stats.median_ci(throughput)),
        _flagged(f"{cov:.1%}" if not math.isnan(cov) else "n/a", cov > COV_FLAG, "not repeatable"),
        _num(loadgen, 0),
        _num(ceiling.value if ceiling else math.nan),
        Cell("the ceiling", css="muted")
        if is_ceiling
        else _flagged(
            f"{share:.0%}" if not math.isnan(share) else "n/a",
            share > CEILING_SHARE_FLAG,
            "near the load generator's ceiling",
        ),
    ]


def _share(throughput: float, ceiling: stats.Estimate | None) -> float:
    """The median throughput over the median ceiling: the two figures beside it, a plain
    ratio without an interval (a warning flag, not a comparison a claim rests on)."""
    if ceiling is None or math.isnan(ceiling.value) or ceiling.value == 0:
        return math.nan
    return throughput / ceiling.value


def _flagged(shown: str, flag: bool, why: str) -> Cell:
    return Cell(f"{shown} \u2691", note=why, css="num flag") if flag else Cell(shown, css="num")


def cov_summary(stored: StoredRun) -> str:
    """One sentence: how repeatable the levels were."""
    levels = stored.load_levels
    covs = [
        coefficient_of_variation(frame["value"].tolist())
        for _, frame in levels[levels["metric"] == "throughput"].groupby(stats.LEVEL_KEYS)
    ]
    covs = [c for c in covs if not math.isnan(c)]
    if not covs:
        return "Repeatability: fewer than two repetitions per level, so it is not known."
    over = sum(c > COV_FLAG for c in covs)
    median = pd.Series(covs).median()
    sentence = (
        f"Repeatability: the coefficient of variation of throughput over repetitions has median "
        f"{median:.1%} over {text.plural(len(covs), 'level')} (highest {max(covs):.1%})"
    )
    if over:
        return sentence + f"; {over} above {COV_FLAG:.0%}, flagged in the table below."
    return sentence + f"; none above {COV_FLAG:.0%}."


def slo_table(stored: StoredRun) -> Table:
    """The open-loop search's result per deployment, configuration and scenario: the highest
    arrival rate whose p99 (from the schedule) stayed under the bound, beside the closed-loop
    peak of the same scenario."""
    results = stored.measured
    found = results[results["scenario"].str.startswith(SLO)]
    order = ordered(stored.info)
    rows = []
    for (deployment, config, scenario), frame in found.groupby(
        ["deployment", "config", "scenario"]
    ):
        if deployment not in order:
            continue
        value = dict(zip(frame["metric"], frame["value"], strict=False))
        closed = scenario.removeprefix(SLO)
        trials = _trials(results, deployment, config, closed)
        rate = value.get("slo_max_rate", math.nan)
        stop = (stored.deployments.get(deployment, {}).get("slo_stops") or {}).get(
            f"{config}/{closed}", ""
        )
        behind = _generator_behind(results, deployment, config, closed, rate)
        shown = text.number(rate, 0) if not math.isnan(rate) else "none"
        if stop in SLO_LOWER_BOUND_STOPS and not math.isnan(rate):
            shown = f"≥ {shown}"  # the budget ran out, or a trial above was void: not a limit
        if behind:
            shown += f" {SATURATED_MARK}"
            stop = f"the load generator fell behind its schedule at {behind}: " + stop
        rows.append(((order.index(deployment), config, closed), [
            Cell(label(stored.info, deployment)),
            Cell(config),
            Cell(closed),
            _num(value.get("slo_p99_bound", math.nan)),
            Cell(shown, note=stop,
                 css="num flag" if behind else "num" if not math.isnan(rate) else "num bad"),
            Cell("yes" if value.get("slo_confirmed") else "no", css="muted"),
            _num(_closed_loop_peak(stored, deployment, config, closed)),
            Cell(trials, css="muted"),
        ]))  # fmt: skip
    notes = (
        "Open loop: one Locust user sends requests at Poisson arrival times at a fixed rate "
        "whatever the server answers; each latency is counted from when the request was due, so "
        "a stalled server shows in p99 (no coordinated omission). The search doubles the rate "
        "until a trial misses, bisects to within 10 %, and confirms the rate with a repeat trial "
        "(MLPerf's Server scenario); each trial draws its own Poisson arrivals (a seed per "
        "trial), so the confirmation is not the same pattern again. \u2265 rate: the search "
        "spent its step budget before a trial missed or bisection closed in, or a trial above "
        "it missed with the load generator behind its schedule (void: it says nothing of the "
        "server, and the search goes no higher), so the highest sustainable rate is at least "
        "the one shown, not known to be it. After a trial that missed, the next one waits "
        "until the server is idle again. A trial passes when "
        "its p99 is under the bound, with no more than 0.1 % of its interactions failed and no "
        "more than 1 % sent late, and with at "
        f"least {_trial_minimums(stored)} interactions due in its window.",
        f"{SATURATED_MARK} a trial had more than 1 % of its requests sent late: the open-loop "
        "load generator (one Locust process) fell behind its schedule there.",
        "The null target answers at once: its row is the open-loop load generator's own "
        "ceiling, the rate up to which it keeps its schedule (its trials miss only when it "
        "falls behind).",
        "Closed-loop peak: the highest median throughput of the same scenario and configuration "
        "at any user level above (users wait for each answer, so that figure carries no latency "
        "bound).",
    )
    columns = ["Deployment", "Config", "Scenario", "p99 bound (ms)", "Max rate under SLO (/s)",
               "Confirmed", "Closed-loop peak (/s)", "Trials (rate: p99 ms)"]  # fmt: skip
    return Table(columns, [cells for _, cells in sorted(rows, key=lambda r: r[0])], notes=notes)


def _trials(results: pd.DataFrame, deployment: str, config: str, scenario: str) -> str:
    shown = []
    for value in _trial_values(results, deployment, config, scenario):
        mark = "\u2713" if value.get("met_slo") else "\u2717"
        shown.append(
            f"{text.number(value.get('offered_rate', math.nan), 0)}: "
            f"{text.number(value.get('latency_p99', math.nan))} {mark}"
        )
    return "; ".join(shown)


def _trial_values(
    results: pd.DataFrame, deployment: str, config: str, scenario: str
) -> list[dict[str, float]]:
    rows = results[
        (results["deployment"] == deployment)
        & (results["config"] == config)
        & (results["scenario"] == OPEN_LOOP + scenario)
    ]
    return [
        dict(zip(trial["metric"], trial["value"], strict=False))
        for _, trial in rows.groupby("repetition", sort=True)
    ]


def _generator_behind(
    results: pd.DataFrame, deployment: str, config: str, scenario: str, found: float
) -> str:
    """The rates above the one found whose trials missed because sends were late ("" when
    none): there the limit may be the load generator's. Judged as bench/measure/slo.py judges a
    trial, with the allowances of bench/store/rules.py: failures first (an overloaded server also
    makes a busy generator late), then late sends."""
    late = []
    for t in _trial_values(results, deployment, config, scenario):
        due = max(t.get("interactions", 0), 1)
        if (
            not t.get("met_slo")
            and (math.isnan(found) or t.get("offered_rate", 0) > found)
            and t.get("failures", 0) <= FAILURE_ALLOWANCE * due
            and t.get("late_sends", 0) > LATE_SEND_ALLOWANCE * due
        ):
            late.append(t["offered_rate"])
    return ", ".join(f"{text.number(r, 0)}/s" for r in sorted(set(late)))


def _closed_loop_peak(stored: StoredRun, deployment: str, config: str, scenario: str) -> float:
    levels = stored.load_levels
    rows = levels[
        (levels["deployment"] == deployment)
        & (levels["config"] == config)
        & (levels["scenario"] == scenario)
        & (levels["metric"] == "throughput")
    ]
    medians = rows.groupby("users")["value"].median()
    return float(medians.max()) if not medians.empty else math.nan


def _trial_minimums(stored: StoredRun) -> str:
    slo = (stored.info.get("plan") or {}).get("slo") or {}
    given = slo.get("min_interactions") or {}
    default = samples_needed("latency_p99")
    parts = [f"{n:,} for {scenario}" for scenario, n in sorted(given.items())]
    return "; ".join([*parts, f"{default:,} otherwise (as for any p99 in this report)"])


CROSSCHECK_FILE = "crosscheck.csv"


def crosscheck_rows(stored: StoredRun) -> pd.DataFrame:
    """crosscheck.csv of the run (python -m bench crosscheck), or an empty frame."""
    path = stored.path / CROSSCHECK_FILE
    try:
        rows = read_crosscheck_rows(path) if path.exists() else []
    except StoreError as exc:
        stored.problems.append(f"{path.name} is unreadable: {exc}")
        rows = []
    frame = pd.DataFrame([vars(r) for r in rows], columns=list(CROSSCHECK_COLUMNS))
    return frame.astype({"users": int, "value": float})


def crosscheck_table(stored: StoredRun) -> Table:
    rows = crosscheck_rows(stored)
    order = ordered(stored.info)
    cells = []
    for (deployment, config, users), frame in rows.groupby(["deployment", "config", "users"]):
        value = {(t, m): v for t, m, v in zip(frame["tool"], frame["metric"], frame["value"],
                                               strict=True)}  # fmt: skip
        disagrees = value.get(("wrk/locust", "disagrees"), 0) >= 1
        flagged = value.get(("wrk", "flagged_repetitions"), 0) + value.get(
            ("locust", "flagged_repetitions"), 0
        )
        cells.append(((order.index(deployment) if deployment in order else 99, config, users), [
            Cell(label(stored.info, deployment)),
            Cell(config),
            _num(users),
            _num(value.get(("locust", "throughput"), math.nan)),
            _num(value.get(("wrk", "throughput"), math.nan)),
            _ratio_cell(value.get(("wrk/locust", "throughput"), math.nan), disagrees),
            _num(value.get(("locust", "latency_p50"), math.nan)),
            _num(value.get(("wrk", "latency_p50"), math.nan)),
            _ratio_cell(value.get(("wrk/locust", "latency_p50"), math.nan), disagrees),
            _num(value.get(("locust", "server_cpu"), math.nan), 0),
            _num(value.get(("wrk", "server_cpu"), math.nan), 0),
            Cell(str(int(flagged)), css="num bad" if flagged else "num muted"),
        ]))  # fmt: skip
    notes = (
        "wrk (C, one thread pinned to the load generator's cores, as many connections as Locust "
        "had users, the same one-row bodies) against each REST deployment, interleaved, medians "
        "over its repetitions; Locust's figures are the stored run's api_single medians over the "
        "repetitions compared with them (in the run's own cross-check, the ones wrk ran in, on "
        "the same warm server: so they may differ from the performance tables). A ratio more "
        f"than {WRK_DISAGREEMENT:.0%} from 1 is flagged. Flagged repetitions had errors and are "
        "left out.",
        "Why they can differ, read from the two server-CPU columns: where wrk serves more, the "
        "server was less busy under Locust. With one closed-loop user every round trip adds "
        "Locust's own Python work (build the request, parse and check the answer, log it); and "
        "gunicorn's sync workers close the connection after each answer, so every Locust request "
        "also opens a new TCP connection from Python, during which the single worker waits. "
        "uvicorn keeps connections open, so there neither tool pays for a connection per "
        "request.",
    )
    columns = ["Deployment", "Config", "Users / connections", "Locust (/s)", "wrk (/s)",
               "wrk ÷ Locust", "Locust p50 (ms)", "wrk p50 (ms)", "wrk ÷ Locust p50",
               "Server CPU, Locust (%)", "Server CPU, wrk (%)", "Flagged reps"]  # fmt: skip
    return Table(columns, [c for _, c in sorted(cells, key=lambda r: r[0])], notes=notes)


def _ratio_cell(value: float, disagrees: bool) -> Cell:
    if math.isnan(value):
        return Cell("n/a", css="num muted")
    shown = f"{value:.2f}\u00d7"
    off = abs(value - 1) > 0.10
    return Cell(shown + (" \u2691" if off else ""), css="num flag" if off and disagrees else "num")
