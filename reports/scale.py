"""Where the frameworks stand against the floor: the in-process predict() time and each
deployment's framework overhead for the light and the heavy model. Throughput against the
number of server workers is in scaling.py."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from bench.store.table import FLOOR
from reports import stats, text
from reports.inputs import LOAD_SCENARIOS, StoredRun
from reports.tables import Cell, Table, _est, _num, label, ordered

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
    scenario and model: what the framework, its server and the network add; for api_single
    also net of the harness floor (reports/breakdown.py)."""
    # Imported here: breakdown builds on this module's floor rows.
    from reports import breakdown

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
            *breakdown.net_cells(stored, deployment, scenario, model),
        ]))  # fmt: skip
    notes = (
        f"At {text.plural(OVERHEAD_USERS, 'user')} and each deployment's default "
        "configuration, so that no request waits for another. Overhead = end-to-end median "
        "latency minus the in-process median of predict() for the same rows; its share is of the "
        "end-to-end latency. The heavier the model, the smaller the share the framework can "
        "change.",
        "Overhead still holds the load generator's own time and its connection handling. "
        "Harness floor = the null target's median p50 at the same level (a constant answer "
        "through the same client, connection handling and server settings), over the "
        "repetitions paired with this row's. Server + framework = end-to-end minus the harness "
        "floor minus the in-process floor, per repetition, then the median with its bracket: "
        f"the net overhead. {breakdown.harness_note(stored)}",
    )
    columns = ["Deployment", "Scenario", "Model", "End-to-end p50 (ms)", "Floor (ms)",
               "Overhead (ms)", "Overhead share", "Harness floor (ms)",
               "Server + framework (ms)"]  # fmt: skip
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
