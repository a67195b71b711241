"""The latency at one user taken apart (reports/breakdown.py), on a small hand-made stored run:
a null target, an in-process floor that drifts by repetition, and deployments whose server and
framework parts are steady (Flask), anti-correlated with the harness (Django: the medians miss
the end-to-end median), slightly off (FastAPI) or negative (bare WSGI: its end-to-end is below
the two floors). Streamlit and Flask's form have no null-target request like theirs. The figures
are placeholders, not measurements."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bench.store.table import COLUMNS, FLOOR
from reports import breakdown, breakdown_figure, build, figures, inputs, scale

MODEL = "m"
REPS = (1, 2, 3)
HARNESS = (1.0, 1.0, 5.0)  # the null target's p50 per repetition; repetition 3 is slow
FLOOR_MS = (0.5, 0.6, 0.4)  # the in-process predict() per repetition
# deployment -> its server and framework part per repetition; end-to-end = harness + floor + it.
SERVER = {
    "flask": (2.0, 2.1, 2.2),
    "flask-2022": (2.5, 2.6, 2.7),
    "django": (4.0, 6.0, 0.5),
    "fastapi": (1.0, 1.01, 1.02),
    "wsgi": (-0.3, -0.2, -0.3),
}
FORM_MS = (3.0, 3.1, 3.2)  # Flask's form posts at one user: no null-target equivalent
RERUN_MS = (60.0, 61.0, 62.0)  # Streamlit's reruns at one user: none either


def deployment(name: str, scenarios: list[str], role: str = "subject", **extra) -> dict:
    return {"display_name": name.capitalize(), "framework": name.split("-")[0], "role": role,
            "scenarios": scenarios, **extra}  # fmt: skip


DEPLOYMENTS = {
    "flask": deployment("flask", ["api_single", "form"]),
    "flask-2022": deployment("flask-2022", ["api_single"], stack="2022-02", base="flask"),
    "django": deployment("django", ["api_single"]),
    "fastapi": deployment("fastapi", ["api_single"], role="reference"),
    "wsgi": deployment("wsgi", ["api_single"], role="reference"),
    "streamlit": deployment("streamlit", ["ui_session"]),
    "null": deployment("null", ["api_single"], role="calibration"),
}


def level(name: str, scenario: str, values, users: int = 1) -> list[tuple]:
    return [("synthetic", name, "default", scenario, users, rep, "latency_p50", value, "ms", MODEL)
            for rep, value in zip(REPS, values, strict=True)]  # fmt: skip


def results(server: dict[str, tuple] = SERVER, harness=HARNESS) -> pd.DataFrame:
    found = level("null", "api_single", harness)
    found += level("null", "api_single", [h * 3 for h in harness], users=8)  # not one user
    found += [("synthetic", FLOOR, call, "api_single", 0, rep, "latency_p50", value, "ms", MODEL)
              for call in ("predict", "validate_and_predict")
              for rep, value in zip(REPS, FLOOR_MS, strict=True)]  # fmt: skip
    for name, parts in server.items():
        total = [h + f + s for h, f, s in zip(harness, FLOOR_MS, parts, strict=True)]
        found += level(name, "api_single", total)
    found += level("flask", "form", FORM_MS) + level("streamlit", "ui_session", RERUN_MS)
    return pd.DataFrame(found, columns=list(COLUMNS))


def stored_run(frame: pd.DataFrame | None = None) -> inputs.StoredRun:
    return inputs.StoredRun(
        path=Path("synthetic"),
        results=results() if frame is None else frame,
        info={"run_id": "synthetic", "model": {"name": MODEL}, "deployments": DEPLOYMENTS},
        verify=pd.DataFrame(columns=list(inputs.VERIFY_COLUMNS)),
        inspections={},
    )


@pytest.fixture(scope="module")
def stored() -> inputs.StoredRun:
    return stored_run()


@pytest.fixture(scope="module")
def found(stored) -> dict[str, breakdown.Breakdown]:
    return {b.deployment: b for b in breakdown.breakdowns(stored)}


def column(table, name: str) -> list[str]:
    index = list(table.columns).index(name)
    return [row[index].text for row in table.rows]


def cells_of(table, deployment: str, scenario: str | None = None) -> dict:
    for row in table.rows:
        cells = dict(zip(table.columns, row, strict=True))
        if cells["Deployment"].text == deployment and (
            scenario is None or cells["Scenario"].text == scenario
        ):
            return cells
    raise AssertionError(f"no row of {deployment} {scenario or ''}")


def test_every_deployment_of_every_stack_is_broken_down_but_the_null_target(found):
    assert list(found) == ["flask", "flask-2022", "django", "fastapi", "wsgi"]
    assert all(b.scenario == "api_single" and b.model == MODEL for b in found.values())


def test_each_repetitions_parts_sum_to_its_end_to_end(found):
    for name, b in found.items():
        assert sorted(b.repetitions) == list(REPS)
        for rep, parts in b.repetitions.items():
            i = rep - 1
            # Repetition i of the deployment with repetition i of the null target and floor.
            assert parts.harness == pytest.approx(HARNESS[i])
            assert parts.model == pytest.approx(FLOOR_MS[i])
            assert parts.server == pytest.approx(SERVER[name][i])
            total = parts.harness + parts.model + parts.server
            assert total == pytest.approx(parts.end_to_end)


def test_each_part_is_the_median_of_its_repetitions_with_its_bracket(found):
    django = found["django"]
    assert django.harness.value == pytest.approx(float(np.median(HARNESS)))
    assert django.model_time.value == pytest.approx(float(np.median(FLOOR_MS)))
    assert django.server.value == pytest.approx(float(np.median(SERVER["django"])))
    assert django.server.n == len(REPS)
    assert django.server.low == pytest.approx(min(SERVER["django"]))
    assert django.server.high == pytest.approx(max(SERVER["django"]))


def expected_residual(name: str) -> float:
    total = [h + f + s for h, f, s in zip(HARNESS, FLOOR_MS, SERVER[name], strict=True)]
    parts = np.median(HARNESS) + np.median(FLOOR_MS) + np.median(SERVER[name])
    return float(np.median(total) - parts)


def test_the_residual_is_flagged_only_past_the_tolerance(found):
    for name, b in found.items():
        assert b.residual == pytest.approx(expected_residual(name), abs=1e-9)
    assert not found["flask"].residual_flagged
    fastapi = found["fastapi"]
    share = abs(fastapi.residual) / fastapi.end_to_end.value
    assert 0 < share < breakdown.RESIDUAL_SHARE  # a residual, but within the tolerance
    assert not fastapi.residual_flagged
    assert dataclasses.replace(fastapi, tolerance=share / 2).residual_flagged
    django = found["django"]
    assert abs(django.residual) / django.end_to_end.value > breakdown.RESIDUAL_SHARE
    assert django.residual_flagged


def test_the_residual_cell_flags_what_is_past_the_tolerance(stored):
    table = breakdown.breakdown_table(stored)
    assert "flag" in cells_of(table, "Django")["Residual"].css
    assert "flag" not in cells_of(table, "Fastapi (reference)")["Residual"].css


def test_a_negative_server_part_is_flagged_not_hidden(stored, found):
    wsgi = found["wsgi"]
    assert wsgi.negative and wsgi.negative_repetitions == list(REPS)
    assert wsgi.server.value == pytest.approx(float(np.median(SERVER["wsgi"])))
    assert not any(found[n].negative or found[n].negative_repetitions for n in ("flask", "django"))
    cell = cells_of(breakdown.breakdown_table(stored), "Wsgi (reference)")
    server = cell["Server + framework (ms)"]
    assert "bad" in server.css and "overlap" in server.note
    assert server.text.startswith("-")  # shown as measured, never clipped to zero


def test_scenarios_without_a_null_target_request_are_not_broken_down(stored, found):
    assert breakdown.harness_scenarios(stored) == ["api_single"]
    assert breakdown.breakdowns(stored, "form") == []
    assert breakdown.breakdowns(stored, "ui_session") == []
    assert breakdown.split(stored, "flask", "form", MODEL) is None
    assert "streamlit" not in found
    assert breakdown.not_broken_down(stored) == [("flask", "form"), ("streamlit", "ui_session")]
    note = breakdown.breakdown_table(stored).notes[-1]
    assert "form (Flask)" in note and "ui_session (Streamlit)" in note


def test_a_missing_null_repetition_leaves_only_the_paired_ones(stored):
    frame = stored.results
    gone = (frame["deployment"] == "null") & (frame["repetition"] == 3)
    parts = breakdown.split(stored_run(frame[~gone]), "flask", "api_single", MODEL)
    assert parts is not None and sorted(parts.repetitions) == [1, 2]
    assert parts.end_to_end.n == 2
    # The median of two is their mean, which is linear: the parts' medians sum exactly.
    assert parts.residual == pytest.approx(0.0, abs=1e-9)


def test_without_the_null_target_at_one_user_nothing_is_built(stored):
    frame = stored.results
    one_user_null = (frame["deployment"] == "null") & (frame["users"] == 1)
    bare = stored_run(frame[~one_user_null])
    assert not breakdown.available(bare)
    assert breakdown.breakdowns(bare) == []
    assert breakdown_figure.breakdown_figure(bare) is None
    assert build.latency_breakdown(bare) == {"breakdown_figure": None, "breakdown_table": None}
    overhead = scale.overhead_table(bare)
    assert set(column(overhead, "Harness floor (ms)")) == {breakdown.NOT_MEASURED}


def test_the_figure_builds(stored):
    figure = breakdown_figure.breakdown_figure(stored)
    assert isinstance(figure, figures.Figure)
    assert figure.id == "fig-latency-breakdown" and figure.svg.startswith("<svg")
    assert "Wsgi (reference)" in figure.caption  # flagged deployments are named
    assert breakdown_figure.breakdown_figure(stored, "form") is None
    context = build.latency_breakdown(stored)
    assert context["breakdown_figure"] is not None and not context["breakdown_table"].empty


def test_the_overhead_table_gains_the_harness_floor_and_the_net_overhead(stored):
    table = scale.overhead_table(stored)
    kept = ["Deployment", "Scenario", "Model", "End-to-end p50 (ms)", "Floor (ms)",
            "Overhead (ms)", "Overhead share"]  # fmt: skip
    assert list(table.columns) == [*kept, "Harness floor (ms)", "Server + framework (ms)"]
    flask = cells_of(table, "Flask", "api_single")
    assert float(flask["Harness floor (ms)"].text) == pytest.approx(np.median(HARNESS), rel=0.01)
    net = float(flask["Server + framework (ms)"].text.split(" ")[0])
    assert net == pytest.approx(np.median(SERVER["flask"]), rel=0.01)
    for deployment, scenario in (("Flask", "form"), ("Streamlit", "ui_session")):
        cells = cells_of(table, deployment, scenario)
        assert cells["Harness floor (ms)"].text == breakdown.NOT_MEASURED
        assert cells["Server + framework (ms)"].text == breakdown.NOT_MEASURED
    notes = " ".join(table.notes)
    assert "Harness floor" in notes and "Server + framework" in notes


def test_the_report_of_a_real_run_has_the_breakdown(tmp_path):
    fixture = Path(__file__).parent / "fixtures" / "run-quick-all"
    page = build.build(fixture, tmp_path).read_text()
    assert 'id="latency-breakdown"' in page and 'id="fig-latency-breakdown"' in page
