"""results.csv, the tidy table: one row per run, deployment, config, scenario, users,
repetition, metric and model variant (COLUMNS). Written atomically, rewritten after every
finished level so an interrupted run keeps what finished."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.store.files import atomic_write_text

SCHEMA_VERSION = 2  # 2: the model column
COLUMNS = (
    "run_id",
    "deployment",
    "config",
    "scenario",
    "users",
    "repetition",
    "metric",
    "value",
    "unit",
    "model",
)
# Rows of runs stored before the model column existed were all measured with this model.
LEGACY_MODEL = "iris-logreg"
# Metrics of one recorded load window (scenario = api_single | api_batch | form | ui_session).
# Latency is per interaction: one API call, one form submission, one Streamlit rerun.
LEVEL_METRICS = {
    "interactions": "count",
    "failures": "count",  # failed requests of any kind, set-up ones ("connect") included
    "throughput": "1/s",
    "latency_p50": "ms",
    "latency_p90": "ms",
    "latency_p99": "ms",
    "latency_p999": "ms",
    "latency_max": "ms",
    "latency_mean": "ms",
    "server_cpu": "%",  # mean over the window; 100 % = one core busy
    "server_rss_mean": "MiB",  # the server's whole process tree
    "server_rss_max": "MiB",
    "server_threads": "count",
    "server_processes": "count",
    "loadgen_cpu": "%",  # mean over the window, Locust's process (100 % = one core)
    "loadgen_bound": "bool",  # 1 when Locust's CPU was >= 90 % of what one process can use
    "window": "s",
    # The window rule (bench/load/spec.py): 1 when the window's halves were steady, and 1 when
    # it ended at its longest rather than by the rule.
    "window_steady": "bool",
    "window_capped": "bool",
}
# Of a load level, from the wrk cross-check at the run's end rather than from its window: 1 when
# wrk, on the same warm server right after Locust, served a throughput more than 10 % from
# Locust's (bench/store/rules.py WRK_DISAGREEMENT), the level's figure being the harness's, not
# the server's. In the repetitions wrk ran, at the levels it measured.
CROSSCHECK_METRICS = {"wrk_disagrees": "bool"}
# Per deployment and config, not per load level: scenario names of their own, users = 0.
COLD_START = "cold_start"  # metric cold_start_s, one row per sample (repetition = sample)
CODE_SIZE = "code_size"  # metrics sloc, files, config_lines, template_lines (repetition 0)
# The in-process floor (bench/measure/floor.py): shared_model's work for one request, timed in a
# process pinned to the server's cores. deployment FLOOR, config "predict" or
# "validate_and_predict", scenario = the one whose request it matches (api_single: one row,
# api_batch: a batch), users 0, metrics latency_p10/p50/p90/mean in ms, one set per repetition
# and model.
FLOOR = "in_process"
FLOOR_METRICS = ("latency_p10", "latency_p50", "latency_p90", "latency_mean")
# The open-loop SLO search (bench/measure/slo.py): scenario OPEN_LOOP + the closed-loop scenario it
# matches, one repetition per trial in the order they ran, users 0, metrics offered_rate (1/s),
# latency_p99 (ms, from the schedule), interactions, failures, late_sends, met_slo; and
# scenario SLO + scenario, repetition 0: slo_max_rate (1/s, NaN when none), slo_p99_bound (ms),
# slo_confirmed, slo_trials.
OPEN_LOOP = "open_loop:"
SLO = "slo:"
# run.json slo_stops: why a search stopped; this one leaves the highest sustainable rate above
# the one found (bench/measure/slo.py Stop.STEP_BUDGET), so the report shows it as a bound.
SLO_STEP_BUDGET = "the step budget was spent"
# ... and this one too: a trial above it was void, the load generator behind its schedule.
SLO_GENERATOR_BEHIND = (
    "the load generator fell behind its schedule at a higher rate: that trial is void"
)
# The stops that leave the highest sustainable rate at least the one found, not known.
SLO_LOWER_BOUND_STOPS = (SLO_STEP_BUDGET, SLO_GENERATOR_BEHIND)
SLO_METRICS = {
    "offered_rate": "1/s",
    "late_sends": "count",
    "met_slo": "bool",
    "slo_max_rate": "1/s",
    "slo_p99_bound": "ms",
    "slo_confirmed": "bool",
    "slo_trials": "count",
}
PER_DEPLOYMENT_METRICS = {
    "cold_start_s": "s",
    "sloc": "lines",
    "files": "count",
    "config_lines": "lines",
    "template_lines": "lines",
}


@dataclass(frozen=True)
class Row:
    run_id: str
    deployment: str
    config: str
    scenario: str
    users: int
    repetition: int
    metric: str
    value: float
    unit: str
    model: str = LEGACY_MODEL  # the shared model variant the deployment served


def write_rows(path: Path, rows: Iterable[Row]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow(asdict(row).values())
    atomic_write_text(path, buffer.getvalue())


def read_rows(path: Path) -> list[Row]:
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        columns = tuple(reader.fieldnames or ())
        if columns not in (COLUMNS, COLUMNS[:-1]):
            raise ValueError(f"{path}: columns {reader.fieldnames} are not {list(COLUMNS)}")
        return [
            Row(
                **{
                    "model": LEGACY_MODEL,
                    **r,
                    "users": int(r["users"]),
                    "repetition": int(r["repetition"]),
                    "value": float(r["value"]),
                }
            )
            for r in reader
        ]
