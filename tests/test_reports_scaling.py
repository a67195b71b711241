"""Speedup, parallel efficiency, the ideal linear line and a one-process server's ceiling, on a
small hand-made stored run: Flask scales linearly, Django sublinearly, FastAPI has no 1-worker
figure, and Streamlit has no worker setting. The figures are placeholders, not measurements."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from matplotlib.figure import Figure

from bench.store.table import COLUMNS
from reports import inputs, scaling
from reports.tables import Table

MODEL = "m"
USERS = 16
CORES = [0, 1]  # two pinned server cores: the 4-worker passes share them
# (deployment, config, scenario, users) -> the median throughput its three repetitions have.
THROUGHPUT = {
    ("flask", "default", "api_single", USERS): 100.0,
    ("flask", "workers_2", "api_single", USERS): 200.0,
    ("flask", "workers_4", "api_single", USERS): 400.0,
    ("django", "default", "api_single", USERS): 50.0,
    ("django", "workers_2", "api_single", USERS): 80.0,
    ("django", "workers_4", "api_single", USERS): 100.0,
    ("fastapi", "default", "api_single", 1): 900.0,  # not at the scaling level: no T(1)
    ("fastapi", "workers_2", "api_single", USERS): 1500.0,
    ("streamlit", "default", "ui_session", 1): 10.0,
    ("streamlit", "default", "ui_session", 8): 30.0,
    ("streamlit", "default", "ui_session", USERS): 25.0,
}


def deployment(name: str, scenarios: list[str], workers: list[int], **extra) -> dict:
    with_workers = {"workers_env": "WEB_CONCURRENCY", "default_workers": 1} if workers else {}
    return {
        "display_name": name.capitalize(),
        "framework": name,
        "role": "subject",
        "scenarios": scenarios,
        "scaling_configs": [f"workers_{n}" for n in workers],
        "workers_env": None,
        **with_workers,
        **extra,
    }


def run_info(cores: list[int]) -> dict:
    return {
        "run_id": "synthetic",
        "model": {"name": MODEL},
        "pinning": {"server_cores": cores, "loadgen_cores": [2]},
        "deployments": {
            "flask": deployment("flask", ["api_single"], [2, 4]),
            "django": deployment("django", ["api_single"], [2, 4]),
            "fastapi": deployment("fastapi", ["api_single"], [2], role="reference"),
            "streamlit": deployment("streamlit", ["ui_session"], []),
            "null": deployment("null", ["api_single"], [], role="calibration"),
        },
    }


def rows(throughput: dict[tuple, float]) -> pd.DataFrame:
    found = [
        ("synthetic", d, c, s, u, rep, "throughput", value + offset, "1/s", MODEL)
        for (d, c, s, u), value in throughput.items()
        for rep, offset in enumerate((-1.0, 0.0, 1.0))
    ]
    return pd.DataFrame(found, columns=list(COLUMNS))


def stored_run(cores: list[int] = CORES, throughput: dict | None = None) -> inputs.StoredRun:
    return inputs.StoredRun(
        path=Path("synthetic"),
        results=rows(THROUGHPUT if throughput is None else throughput),
        info=run_info(cores),
        verify=pd.DataFrame(columns=list(inputs.VERIFY_COLUMNS)),
        inspections={},
    )


@pytest.fixture(scope="module")
def stored() -> inputs.StoredRun:
    return stored_run()


def points(stored: inputs.StoredRun) -> dict[tuple[str, int], scaling.ScalingPoint]:
    return {(p.deployment, p.workers): p for p in scaling.efficiency_points(stored)}


def column(table: Table, name: str) -> list[str]:
    index = list(table.columns).index(name)
    return [row[index].text for row in table.rows]


def row_of(table: Table, deployment: str, workers: str) -> dict[str, str]:
    for row in table.rows:
        cells = dict(zip(table.columns, (c.text for c in row), strict=True))
        if cells["Deployment"] == deployment and cells["Workers"] == workers:
            return cells
    raise AssertionError(f"no row of {deployment} at {workers} workers")


def test_linear_scaling_has_efficiency_one_and_speedup_n(stored):
    found = points(stored)
    for n in (1, 2, 4):
        assert found["flask", n].speedup == pytest.approx(n)
        assert found["flask", n].efficiency == pytest.approx(1.0)


def test_sublinear_scaling_has_efficiency_below_one(stored):
    found = points(stored)
    assert found["django", 2].efficiency == pytest.approx(80.0 / (2 * 50.0))
    assert found["django", 4].efficiency == pytest.approx(100.0 / (4 * 50.0))
    assert found["django", 4].efficiency < found["django", 2].efficiency < 1.0


def test_the_ideal_line_is_n_times_the_one_worker_throughput(stored):
    series = scaling.worker_series(stored, "throughput")
    ideal = scaling.ideal_line(series["django", "api_single", USERS])
    assert [n for n, _ in ideal] == [1, 2, 4]
    assert [y for _, y in ideal] == pytest.approx([n * 50.0 for n in (1, 2, 4)])
    assert scaling.ideal_line(series["fastapi", "api_single", USERS]) == []


def test_the_figure_draws_one_dashed_ideal_line_per_deployment_and_one_legend_entry(stored):
    ax = Figure().subplots()
    scaling.draw_series(ax, stored, "throughput")
    dashed = [line for line in ax.lines if line.get_linestyle() == "--" and len(line.get_xdata())]
    flask = next(line for line in dashed if list(line.get_xdata()) == [1, 2, 4]
                 and line.get_ydata()[0] == pytest.approx(100.0))  # fmt: skip
    assert list(flask.get_ydata()) == pytest.approx([100.0, 200.0, 400.0])
    assert len(dashed) == 2  # Flask and Django; FastAPI has no 1-worker figure
    labels = [line.get_label() for line in ax.lines]
    assert labels.count(scaling.IDEAL_LABEL) == 1
    assert scaling.scaling_figure(stored) is not None


def test_rows_past_the_servers_cores_are_marked(stored):
    table = scaling.efficiency_table(stored)
    assert row_of(table, "Flask", "4")["Cores"] == scaling.SHARES_CORES
    assert row_of(table, "Flask", "2")["Cores"] == ""
    assert any("pinned to 2 cores" in n and "not parallel efficiency" in n for n in table.notes)


def test_with_enough_cores_no_row_is_marked():
    table = scaling.efficiency_table(stored_run(cores=list(range(8))))
    assert scaling.SHARES_CORES not in column(table, "Cores")


def test_a_missing_one_worker_figure_is_a_dash_with_a_note(stored):
    table = scaling.efficiency_table(stored)
    fastapi = row_of(table, "Fastapi (reference)", "2")
    assert fastapi["Speedup"] == scaling.NONE and fastapi["Parallel efficiency"] == scaling.NONE
    assert any("no 1-worker figure for Fastapi (reference)" in n for n in table.notes)


def test_the_one_process_ceiling_is_the_level_with_the_highest_median(stored):
    (ceiling,) = scaling.ceilings(stored)
    assert (ceiling.deployment, ceiling.scenario, ceiling.users) == ("streamlit", "ui_session", 8)
    assert ceiling.throughput.value == pytest.approx(30.0)
    table = scaling.efficiency_table(stored)
    row = row_of(table, "Streamlit", "one process: 8 sessions")
    assert row["Users"] == "8" and row["Speedup"] == scaling.NONE
    assert any("Streamlit has no worker processes" in n for n in table.notes)


def test_without_worker_passes_there_is_no_ceiling_and_no_table():
    one_level = {k: v for k, v in THROUGHPUT.items() if k[0] == "streamlit"}
    stored = stored_run(throughput=one_level)
    assert scaling.ceilings(stored) == []
    assert scaling.efficiency_table(stored).empty
    assert scaling.scaling_figure(stored) is None
