"""The rules a stored run is judged by: whether it met its minimums (VALID or INVALID, like
MLPerf LoadGen's verdict), which latency percentiles a window has enough samples to state, and
what an open-loop trial may lose. The runner records the verdict in run.json and the report
shows why, from the same rules, without either re-measuring anything.

Pure functions over the stored rows (bench/store/table.py) and run.json.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from bench.store.table import Row

# An open-loop trial (bench/measure/slo.py) meets the SLO only within these allowances.
# Failed interactions allowed, as a fraction of those due in the window.
FAILURE_ALLOWANCE = 0.001
# Late sends allowed, as a fraction: past it the load generator did not keep its schedule, so a
# trial that missed may have missed because of the generator.
LATE_SEND_ALLOWANCE = 0.01


# A percentile is stated only when at least this many samples lie beyond it: p50 needs 20
# interactions in the window, p90 100, p99 1 000, p99.9 10 000.
SAMPLES_BEYOND_PERCENTILE = 10
PERCENTILES = {"latency_p50": 0.50, "latency_p90": 0.90, "latency_p99": 0.99, "latency_p999": 0.999}
# Minimums of a VALID run.
MIN_REPETITIONS = 3  # fewer gives no confidence interval
MIN_INTERACTIONS = 100  # per recorded window: p50 and p90 stated in every window
# wrk against Locust on the same warm server (bench/measure/agreement.py): a level whose
# throughputs differ by more than this share is the harness's figure, not the server's.
WRK_DISAGREEMENT = 0.10
WRK_SCENARIO = "api_single"  # the one scenario wrk speaks (bench/load/wrk.py)
# Load-generator headroom: above this share of the calibrated ceiling a level is flagged.
CEILING_SHARE_FLAG = 0.70
CALIBRATION_ROLE = "calibration"
# The null target's configuration with connections kept alive: the ceiling of a deployment
# whose default keeps them (run.json keeps_connections); the others' is its default's.
KEPT_ALIVE_CONFIG = "keepalive"
DEFAULT_CONFIG = "default"


def samples_needed(metric: str) -> int:
    """Interactions a window needs before `metric` (a latency percentile) is stated."""
    q = PERCENTILES.get(metric)
    return 0 if q is None else math.ceil(SAMPLES_BEYOND_PERCENTILE / (1 - q) - 1e-9)


def percentile_shown(metric: str, interactions: float) -> bool:
    return interactions >= samples_needed(metric)


def rules() -> dict[str, Any]:
    """The minimums, as stored beside the verdict so a reader sees what was required."""
    return {
        "min_repetitions": MIN_REPETITIONS,
        # A window's length is not a minimum: it ends by the window rule (run.json "plan").
        "steady_windows": True,
        "min_interactions_per_window": MIN_INTERACTIONS,
        "percentile_min_interactions": {m: samples_needed(m) for m in PERCENTILES},
        "no_failed_interactions": True,
        "load_generator_not_bound": True,
        # Where the plan cross-checks: every such level measured by wrk too, and one where wrk
        # and Locust disagree beyond DISAGREEMENT decides no throughput claim.
        "wrk_agrees_where_throughput_decides": WRK_DISAGREEMENT,
        # A JSON-API level's median throughput over the null target's with as many users and
        # the same connection handling (ceiling_config): the load generator's calibrated ceiling.
        "below_ceiling_share": CEILING_SHARE_FLAG,
        "run_complete": True,
        "no_refused_peers": True,
    }


def run_validity(rows: Iterable[Row], info: Mapping[str, Any]) -> dict[str, Any]:
    """VALID when the run is complete and every load level met the minimums; else INVALID with
    every reason (a level's reasons are grouped so that a long run gives a readable list)."""
    reasons: list[str] = []
    if info.get("status") != "complete":
        reasons.append(f"the run is {info.get('status', 'unknown')}, not complete")
    refused = info.get("refused_peers") or []
    if refused:
        peers = sorted({str(entry.get("peer", "?")) for entry in refused})
        reasons.append(
            f"the Locust master refused {len(refused)} unauthenticated or malformed peer "
            f"message(s) ({', '.join(peers[:3])}): the levels they reached are not measured"
        )
    levels = _levels(rows)
    if not levels:
        reasons.append("no load level was measured")
    problems: dict[str, list[str]] = defaultdict(list)
    calibration = {
        name for name, d in (info.get("deployments") or {}).items()
        if d.get("role") == CALIBRATION_ROLE
    }  # fmt: skip
    for key, reps in sorted(levels.items()):
        for problem in _level_problems(reps, calibrating=key[0] in calibration):
            problems[problem].append(_label(key, info))
    limited, unchecked = _wrk_levels(levels, info)
    if unchecked:
        problems["not cross-checked with wrk, which the plan asks for"] += unchecked
    near = _near_ceiling(levels, calibration, info)
    if near:
        problems[f"above {CEILING_SHARE_FLAG:.0%} of the load generator's calibrated ceiling"] += (
            near
        )
    for problem, where in problems.items():
        reasons.append(f"{problem}: {_listed(where)}")
    return {
        "verdict": "INVALID" if reasons else "VALID",
        "reasons": reasons,
        "rules": rules(),
        "harness_limited": limited,
    }


def _listed(where: list[str]) -> str:
    return ", ".join(where[:6]) + (f" and {len(where) - 6} more" if len(where) > 6 else "")


def _label(key: tuple, info: Mapping[str, Any]) -> str:
    return "{}/{} {} {}u".format(*key[:4]) + ("" if key[4] == _main(info) else f" {key[4]}")


def _near_ceiling(
    levels: Mapping[tuple, Mapping[int, Mapping[str, float]]],
    calibration: set[str],
    info: Mapping[str, Any],
) -> list[str]:
    """The JSON-API levels whose median throughput passes CEILING_SHARE_FLAG of the null
    target's at as many users with the same connection handling (ceiling_config): there the
    load generator may set the pace."""

    def median(reps: Mapping[int, Mapping[str, float]]) -> float:
        values = [
            v["throughput"] for v in reps.values() if not math.isnan(v.get("throughput", math.nan))
        ]
        return statistics.median(values) if values else math.nan

    main = [(k, reps) for k, reps in levels.items() if k[2] == WRK_SCENARIO and k[4] == _main(info)]
    ceiling = {(k[1], k[3]): median(reps) for k, reps in main if k[0] in calibration}
    measured = {config for config, _ in ceiling}
    near = []
    for key, reps in sorted(main):
        limit = ceiling.get((ceiling_config(info, key[0], measured), key[3]), math.inf)
        if key[0] not in calibration and median(reps) > CEILING_SHARE_FLAG * limit:
            near.append(_label(key, info))
    return near


def ceiling_config(info: Mapping[str, Any], deployment: str, measured: set[str]) -> str:
    """The null target's configuration that handles connections as the deployment's default
    does (run.json keeps_connections, from the answer probe): kept alive where it was measured
    so, else closed after every answer, as gunicorn's sync worker does."""
    entry = (info.get("deployments") or {}).get(deployment) or {}
    if entry.get("keeps_connections") and KEPT_ALIVE_CONFIG in measured:
        return KEPT_ALIVE_CONFIG
    return DEFAULT_CONFIG


def _wrk_levels(
    levels: Mapping[tuple, Mapping[int, Mapping[str, float]]], info: Mapping[str, Any]
) -> tuple[list[str], list[str]]:
    """The levels where wrk disagreed with Locust (each decides no throughput claim), and
    those the plan's cross-check should have measured but did not."""
    limited = [
        _label(key, info)
        for key, reps in sorted(levels.items())
        if any(v.get("wrk_disagrees", 0) >= 1 for v in reps.values())
    ]
    check = (info.get("plan") or {}).get("crosscheck")
    if not check:
        return limited, []
    configs = set(check.get("configs") or ("default",))
    due = max(1, int(check.get("repetitions") or 1))
    unchecked = [
        _label(key, info)
        for key, reps in sorted(levels.items())
        if key[2] == WRK_SCENARIO and key[1] in configs and key[4] == _main(info)
        and len(reps) >= due and not any("wrk_disagrees" in v for v in reps.values())
    ]  # fmt: skip
    return limited, unchecked


def _main(info: Mapping[str, Any]) -> str:
    return str((info.get("model") or {}).get("name", ""))


def _levels(rows: Iterable[Row]) -> dict[tuple, dict[int, dict[str, float]]]:
    """(deployment, config, scenario, users, model) -> repetition -> metric -> value."""
    levels: dict[tuple, dict[int, dict[str, float]]] = defaultdict(lambda: defaultdict(dict))
    for r in rows:
        if r.users > 0 and r.metric in _LEVEL_CHECKED:
            key = (r.deployment, r.config, r.scenario, r.users, r.model)
            levels[key][r.repetition][r.metric] = r.value
    return levels


_LEVEL_CHECKED = {
    "throughput", "interactions", "failures", "loadgen_bound", "window_steady", "wrk_disagrees",
}  # fmt: skip


def _level_problems(reps: Mapping[int, Mapping[str, float]], calibrating: bool) -> list[str]:
    problems = []
    if len(reps) < MIN_REPETITIONS:
        problems.append(f"fewer than {MIN_REPETITIONS} repetitions (no confidence interval)")
    values = list(reps.values())
    # Runs stored before the window rule have no such flag: their windows had a fixed length.
    if any(v.get("window_steady", 1) < 1 for v in values):
        problems.append("a window that was not steady (its halves differ beyond the rule)")
    if any(v.get("interactions", math.inf) < MIN_INTERACTIONS for v in values):
        problems.append(f"fewer than {MIN_INTERACTIONS} interactions in a window")
    if any(v.get("failures", 0) > 0 for v in values):
        problems.append("failed interactions")
    # The null target is there to saturate the load generator: that is its measurement.
    if not calibrating and any(v.get("loadgen_bound", 0) >= 1 for v in values):
        problems.append("load generator saturated")
    return problems


def coefficient_of_variation(values: Iterable[float]) -> float:
    """Sample standard deviation over mean of the repetitions (NaN below two)."""
    data = [v for v in values if not math.isnan(v)]
    if len(data) < 2 or statistics.fmean(data) == 0:
        return math.nan
    return statistics.stdev(data) / statistics.fmean(data)
