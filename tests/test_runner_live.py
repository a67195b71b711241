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
        metrics = {r.metric for r in rows if r.scenario == scenario and r.deployment == "flask"}
        assert metrics == set(LEVEL_METRICS)
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


def test_floor_heavy_model_worker_counts_and_slo_search_land_in_the_same_table(tmp_path):
    from bench.plan import ModelVariants, Scaling, SloSearch
    from bench.results import FLOOR, OPEN_LOOP, SLO

    [flask] = select(discover(), ["flask"])
    api_only = dataclasses.replace(flask, scenarios=("api_single",))
    plan = dataclasses.replace(
        TINY,
        cold_starts=0,
        model_variants=ModelVariants(("iris-forest",), ("api_single",), (2,)),
        scaling=Scaling((2,), "api_single", (2,)),
        slo=SloSearch({"api_single": 1000.0}, {"api_single": 50.0}, 2, 0.5, 1, ("default",),
                      {"api_single": 50}),
    )  # fmt: skip
    run_dir, status = run_benchmark(plan, [api_only], tmp_path, wait_for_lock=True)
    assert status == "complete"
    rows = read_rows(run_dir / "results.csv")
    floor = {(r.model, r.config, r.scenario) for r in rows if r.deployment == FLOOR}
    assert ("iris-forest", "predict", "api_single") in floor
    assert ("iris-logreg", "validate_and_predict", "api_batch") in floor
    heavy = [r for r in rows if r.model == "iris-forest" and r.metric == "throughput"]
    assert [(r.config, r.users) for r in heavy] == [("default", 2)] and heavy[0].value > 0
    assert values(rows, "api_single", "failures") == [0.0, 0.0, 0.0]  # main, heavy, workers_2
    scaled = [r for r in rows if r.config == "workers_2" and r.metric == "server_processes"]
    assert scaled and scaled[0].value == 3  # gunicorn's master and two workers
    trials = [r for r in rows if r.scenario == OPEN_LOOP + "api_single" and r.metric == "met_slo"]
    assert trials and trials[0].value == 1.0  # 50/s with a 1 s bound: met
    [rate] = [
        r.value for r in rows if r.scenario == SLO + "api_single" and r.metric == "slo_max_rate"
    ]
    assert rate >= 50
    info = json.loads((run_dir / "run.json").read_text())
    assert info["deployments"]["flask"]["scaling_configs"] == ["workers_2"]
    assert info["validity"]["verdict"] == "INVALID"  # one repetition of 2 s windows
