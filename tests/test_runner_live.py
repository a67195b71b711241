"""Short real runs: real servers, real Locust, results in the store's schema."""

import dataclasses
import json
import os

import pytest

from bench.manifest import discover, select
from bench.plan import Plan
from bench.results import LEVEL_METRICS, read_rows
from bench.runner import run_benchmark

pytestmark = pytest.mark.live

TINY = Plan(
    "test", levels=(2,), window_s=2, warmup_s=1, repetitions=1, cold_starts=1, configs=("default",)
)


def values(rows, scenario, metric):
    return [r.value for r in rows if r.scenario == scenario and r.metric == metric]


def test_a_short_run_against_flask_stores_every_metric(tmp_path):
    [flask] = select(discover(), ["flask"])
    cores_before = os.sched_getaffinity(0)
    run_dir, status = run_benchmark(TINY, [flask], results_dir=tmp_path, wait_for_lock=True)
    assert status == "complete"
    assert os.sched_getaffinity(0) == cores_before  # the runner gives its caller its cores back
    rows = read_rows(run_dir / "results.csv")
    for scenario in flask.scenarios:
        assert {r.metric for r in rows if r.scenario == scenario} == set(LEVEL_METRICS)
        assert values(rows, scenario, "interactions")[0] > 10
        assert values(rows, scenario, "failures") == [0.0]
    assert values(rows, "cold_start", "cold_start_s")[0] > 0
    info = json.loads((run_dir / "run.json").read_text())
    assert info["status"] == "complete" and info["deployments"]["flask"]["verified"]
    assert info["deployments"]["flask"]["not_applicable"] == ["ui_session"]
    assert set(info["pinning"]["server_cores"]).isdisjoint(info["pinning"]["loadgen_cores"])
    assert (tmp_path / "latest").resolve() == run_dir


def test_a_wrong_expected_prediction_makes_every_interaction_fail(tmp_path):
    [flask] = select(discover(), ["flask"])
    api_only = dataclasses.replace(flask, scenarios=("api_single",))
    no_cold_start = dataclasses.replace(TINY, cold_starts=0)
    run_dir, _ = run_benchmark(
        no_cold_start, [api_only], tmp_path, corrupt_expected=True, wait_for_lock=True
    )
    rows = read_rows(run_dir / "results.csv")
    [interactions], [failures] = (
        values(rows, "api_single", "interactions"),
        values(rows, "api_single", "failures"),
    )
    assert interactions > 10 and failures == interactions
    assert values(rows, "api_single", "throughput") == [0.0]
