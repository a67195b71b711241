"""Where the frameworks stand against the floor: the in-process predict() time, each
deployment's framework overhead for the light and the heavy model, and throughput against the
number of server workers."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from bench.store.table import FLOOR
from reports import figures, stats, text
from reports.inputs import LOAD_SCENARIOS, StoredRun
from reports.tables import SATURATED_NOTE, Cell, Table, _est, _num, _users_cell, label, ordered

OVERHEAD_USERS = 1  # one user: latency without queueing, so it is floor + framework
# The request each scenario's interaction sends, for its floor: a form post and a Streamlit
# rerun predict one row, as an API call with one row does.
FLOOR_SCENARIO = {"api_single": "api_single", "api_batch": "api_batch", "form": "api_single",
                  "ui_session": "api_single"}  # fmt: skip


def floor_rows(stored: StoredRun) -> pd.DataFrame:
    results = stored.results
    return results[results["deployment"] == FLOOR]


def floor_estimate(stored: StoredRun, scenario: str, model: str, call: str) -> stats.Estimate:
    rows = floor_rows(stored)
    rows = rows[
        (rows["scenario"] == FLOOR_SCENARIO.get(scenario, scenario))
        & (rows["model"] == model)
        & (rows["config"] == call)
        & (rows["metric"] == "latency_p50")
    ]
    return stats.median_ci(rows["value"].tolist())


def models_in(stored: StoredRun) -> list[str]:
    """The main model first, then the variants the run measured."""
    found = set(stored.all_models["model"]) | set(floor_rows(stored)["model"])
    return [stored.model_name, *sorted(found - {stored.model_name})]


def floor_table(stored: StoredRun) -> Table:
    rows = []
    for model in models_in(stored):
        for scenario in ("api_single", "api_batch"):
            for call in ("predict", "validate_and_predict"):
                estimate = floor_estimate(stored, scenario, model, call)
                if not math.isnan(estimate.value):
                    rows.append([Cell(model), Cell(scenario), Cell(call), _est(estimate, 3)])
    notes = (
        "In-process: shared_model.predict() (and the shared validator before it) called in a "
        "process pinned to the server's cores, median time per call in ms with its interval "
        "over repetitions. No framework, no server, no network: the physical floor.",
    )
    return Table(["Model", "Rows as in", "Call", "Median per call (ms)"], rows, notes=notes)


def overhead_table(stored: StoredRun) -> Table:
    """End-to-end median latency at one user, minus the in-process floor, per deployment,
    scenario and model: what the framework, its server and the network add."""
    levels = stored.all_models
    levels = levels[levels["scenario"].isin(LOAD_SCENARIOS) & (levels["users"] == OVERHEAD_USERS)]
    levels = levels[levels["config"] == "default"]
    order = ordered(stored.info)
    rows = []
    for (deployment, scenario, model), frame in levels.groupby(
        ["deployment", "scenario", "model"], sort=False
    ):
        if deployment not in order or _calibration(stored, deployment):
            continue
        end_to_end = stats.median_ci(frame.loc[frame["metric"] == "latency_p50", "value"].tolist())
        floor = floor_estimate(stored, scenario, model, "predict")
        position = (order.index(deployment), LOAD_SCENARIOS.index(scenario))
        rows.append(((*position, model != stored.model_name), [
            Cell(label(stored.info, deployment)),
            Cell(scenario),
            Cell(model),
            _est(end_to_end),
            _num(floor.value, 3),
            *_overhead_cells(end_to_end.value, floor.value),
        ]))  # fmt: skip
    notes = (
        f"At {text.plural(OVERHEAD_USERS, 'user')} and each deployment's default "
        "configuration, so that no request waits for another. Overhead = end-to-end median "
        "latency minus the in-process median of predict() for the same rows; its share is of the "
        "end-to-end latency. The heavier the model, the smaller the share the framework can "
        "change.",
    )
    columns = ["Deployment", "Scenario", "Model", "End-to-end p50 (ms)", "Floor (ms)",
               "Overhead (ms)", "Overhead share"]  # fmt: skip
    return Table(columns, [cells for _, cells in sorted(rows, key=lambda r: r[0])], notes=notes)


def _calibration(stored: StoredRun, deployment: str) -> bool:
    return stored.deployments.get(deployment, {}).get("role") == "calibration"


def _overhead_cells(end_to_end: float, floor: float) -> list[Cell]:
    if math.isnan(end_to_end) or math.isnan(floor):
        return [_num(math.nan), _num(math.nan)]
    overhead = end_to_end - floor
    share = Cell(f"{overhead / end_to_end:.0%}", css="num")
    return [_num(overhead, 2 if overhead < 10 else 1), share]


def overhead_records(stored: StoredRun) -> list[dict[str, Any]]:
    """The overhead table as plain records (for claims.json readers and the closing note)."""
    table = overhead_table(stored)
    return [dict(zip(table.columns, (c.text for c in row), strict=True)) for row in table.rows]


def scaling_table(stored: StoredRun) -> Table:
    levels = stored.scaling
    rows = []
    order = ordered(stored.info)
    bound = stats.any_flag(levels)
    for (deployment, config, scenario, users), frame in levels.groupby(stats.LEVEL_KEYS):
        if deployment not in order:
            continue
        workers = _workers(stored.info, deployment, config)
        if workers is None:
            continue
        values = {m: f["value"].tolist() for m, f in frame.groupby("metric")}
        rows.append(((order.index(deployment), users, workers), [
            Cell(label(stored.info, deployment)),
            Cell(scenario),
            _users_cell(users, (deployment, config, scenario, users) in bound),
            Cell(str(workers) if workers else "1 process, a thread per session"),
            _est(stats.median_ci(values.get("throughput", []))),
            _est(stats.median_ci(values.get("latency_p50", []))),
            _num(stats.median_ci(values.get("server_cpu", [])).value, 0),
            _num(stats.median_ci(values.get("server_rss_mean", [])).value, 0),
        ]))  # fmt: skip
    cores = len((stored.info.get("pinning") or {}).get("server_cores") or []) or "?"
    notes = (
        f"The server had {text.plural(cores, 'core') if isinstance(cores, int) else '? cores'}"
        " (pinned); worker counts beyond that share them. Streamlit has no worker setting: one "
        "process serves every session on its own thread.",
        SATURATED_NOTE,
    )
    columns = ["Deployment", "Scenario", "Users", "Workers", "Throughput (/s)", "p50 (ms)",
               "Server CPU (%)", "Server RSS (MiB)"]  # fmt: skip
    return Table(columns, [cells for _, cells in sorted(rows, key=lambda r: r[0])], notes=notes)


def _workers(run: Mapping[str, Any], deployment: str, config: str) -> int | None:
    """A workers_N pass -> N; a one-process server's default -> 0; a server with a worker
    setting: its default -> the count it runs (run.json default_workers), where the run measured
    no pass of that count (older runs did: then None, not plotted twice); the null target
    serves no model -> None."""
    info = (run.get("deployments") or {}).get(deployment, {})
    if info.get("role") == "calibration":
        return None
    scaling = info.get("scaling_configs") or []
    if config.startswith("workers_") and config in scaling:
        return int(config.removeprefix("workers_"))
    if config == "default" and not info.get("workers_env"):
        return 0
    default_workers = info.get("default_workers")
    if config == "default" and default_workers and f"workers_{default_workers}" not in scaling:
        return int(default_workers)
    return None


def scaling_figure(stored: StoredRun) -> figures.Figure | None:
    levels = stored.scaling
    throughput = levels[levels["metric"] == "throughput"]
    if throughput.empty:
        return None
    styles = figures._styles(stored.info)
    fig, axes = figures._new(10, 3.8, panels=2)
    for ax, metric in zip(axes, ["throughput", "latency_p50"], strict=True):
        subset = levels[levels["metric"] == metric]
        for (deployment, users), frame in subset.groupby(["deployment", "users"]):
            points = sorted(
                (w, stats.median_ci(f["value"].tolist()))
                for config, f in frame.groupby("config")
                if (w := _workers(stored.info, deployment, config)) is not None
            )
            if not points:
                continue
            xs = [max(w, 1) for w, _ in points]
            ys = [e.value for _, e in points]
            style = styles.get(deployment, {})
            ax.plot(xs, ys, marker="o", color=style.get("color"),
                    label=f"{label(stored.info, deployment)}, {users} users")  # fmt: skip
        ax.set_xlabel("server workers")
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.set_title(figures.METRIC_TITLES[metric], fontsize=10)
        ax.grid(True, alpha=0.3)
        ax.set_ylim(bottom=0)
    axes[0].legend(fontsize=8, frameon=False)
    return figures.Figure(
        id="fig-scaling",
        title="Throughput and median latency against server workers",
        caption=(
            "Each point is the median over repetitions at the plan's scaling level. Worker "
            "processes beyond the server's pinned cores share those cores. Streamlit has no "
            "worker setting (one process, a thread per session) and no API, so it is not here."
        ),
        alt="Two line charts of throughput and median latency against the number of server "
        "worker processes, one line per deployment.",
        png_base64=figures._png(fig),
    )
