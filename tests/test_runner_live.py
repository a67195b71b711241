"""Short real runs: real servers, real Locust, results in the store's schema.

The plans are the smallest the runner takes: one level of 2 users, 1 s windows, one
repetition (so every run is INVALID by design). One run carries every extra pass (the floor,
the heavy model, a worker count, the SLO search, the probes of another configuration, the
tampered model), so that the wiring of each is checked on one server start per pass.
"""

import dataclasses
import json
import os
from functools import partial

import pytest

import bench.run.lock
import bench.run.runner
from bench.measure.floor import measure_floor
from bench.run.plan import ModelVariants, Scaling, SloSearch
from bench.run.runner import run_benchmark
from bench.store.table import FLOOR, LEVEL_METRICS, OPEN_LOOP, SLO, read_rows
from bench.targets.cores import available_cores
from bench.targets.manifest import discover, select
from tests.live import STARTUP_TIMEOUT_S, free_port
from tests.plans import TINY

pytestmark = pytest.mark.live

EVERYTHING = dataclasses.replace(
    TINY,
    cold_starts=1,
    probe_all_configs=True,
    tampered_model_probe=True,
    model_variants=ModelVariants(("iris-forest",), ("api_single",), (2,)),
    scaling=Scaling((2,), "api_single", (2,)),
    slo=SloSearch({"api_single": 1000.0}, {"api_single": 50.0}, 2, 0.5, 1, ("default",),
                  {"api_single": 50}),
)  # fmt: skip


def values(rows, scenario, metric, config=None):
    return [
        r.value
        for r in rows
        if r.scenario == scenario and r.metric == metric and config in (None, r.config)
    ]


@pytest.fixture(scope="module")
def everything(tmp_path_factory):
    """One run of Flask with every pass: (run folder, status, rows, run.json, inspections).

    On a port the OS picks, under a lock of its own (see private_bench_lock), with the
    start-up timeout of a loaded machine, and the in-process floor measured briefly (its own
    tests cover the full measure)."""
    [flask] = select(discover(), ["flask"])
    flask = dataclasses.replace(flask, port=free_port(), startup_timeout_s=STARTUP_TIMEOUT_S)
    results = tmp_path_factory.mktemp("everything")
    cores_before = os.sched_getaffinity(0)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            bench.run.runner,
            "measure_floor",
            partial(measure_floor, min_seconds=0.05, min_calls=20),
        )
        patch.setattr(bench.run.lock, "LOCK_PATH", results / "bench.lock")
        run_dir, status = run_benchmark(EVERYTHING, [flask], results, wait_for_lock=True)
    # the runner gives its caller its cores back
    assert os.sched_getaffinity(0) == cores_before
    info = json.loads((run_dir / "run.json").read_text())
    inspections = json.loads((run_dir / "inspections.json").read_text())
    return run_dir, status, read_rows(run_dir / "results.csv"), info, inspections


def test_a_short_run_against_flask_stores_every_metric(everything):
    run_dir, status, rows, info, _ = everything
    assert status == "complete"
    [flask] = select(discover(), ["flask"])
    for scenario in flask.scenarios:
        flask_rows = [r for r in rows if r.scenario == scenario and r.deployment == "flask"]
        assert {r.metric for r in flask_rows} == set(LEVEL_METRICS)
        assert values(rows, scenario, "interactions", "default")[0] > 10
        assert set(values(rows, scenario, "failures")) == {0.0}
    assert values(rows, "cold_start", "cold_start_s")[0] > 0
    assert info["status"] == "complete" and info["deployments"]["flask"]["verified"]
    assert info["deployments"]["flask"]["not_applicable"] == ["ui_session"]
    assert info["pinning"]["server_cores"] and info["pinning"]["loadgen_cores"]
    if len(available_cores()) >= 2:  # a single core is shared, and the run records it
        assert set(info["pinning"]["server_cores"]).isdisjoint(info["pinning"]["loadgen_cores"])
    assert (run_dir.parent / "latest").resolve() == run_dir
    assert info["validity"]["verdict"] == "INVALID"  # one repetition of 1 s windows


def test_floor_heavy_model_worker_counts_and_slo_search_land_in_the_same_table(everything):
    _, _, rows, info, _ = everything
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
    assert info["deployments"]["flask"]["scaling_configs"] == ["workers_2"]


def test_the_probes_of_each_configuration_and_the_tampered_model_are_stored(everything):
    """Flask's recommended configuration (several sync workers on the server's core) overlaps
    slow requests; its default (one) does not; the tampered artifact is refused."""
    probes = everything[4]["probes"]["flask"]
    recommended, default = probes["recommended"]["concurrency"], probes["default"]["concurrency"]
    assert recommended["server_processes"] > 3  # master + (2 x cores + 1) >= 3 workers
    assert recommended["statuses"] == [200] * len(recommended["statuses"])
    assert recommended["max_in_flight"] >= 2, recommended["evidence"]
    assert default["max_in_flight"] == 1, default["evidence"]
    for config in ("default", "recommended"):
        assert probes[config]["security"]["tampered_model_refused"] is True


def test_a_wrong_expected_prediction_makes_every_interaction_fail(
    tmp_path, servers, private_bench_lock
):
    """Against a target already running (--target): the run loads it but never starts,
    stops or probes it."""
    running = servers.get("flask")
    api_only = dataclasses.replace(running.deployment, scenarios=("api_single",))
    run_dir, _ = run_benchmark(
        TINY, [api_only], tmp_path, corrupt_expected=True, wait_for_lock=True,
        target=running.base_url,
    )  # fmt: skip
    rows = read_rows(run_dir / "results.csv")
    [interactions], [failures] = (
        values(rows, "api_single", "interactions"),
        values(rows, "api_single", "failures"),
    )
    assert interactions > 10 and failures == interactions
    assert values(rows, "api_single", "throughput") == [0.0]
    info = json.loads((run_dir / "run.json").read_text())
    assert info["target"] == running.base_url
    assert running.process.poll() is None  # the target was not stopped
    assert not list((run_dir / "logs").iterdir())  # nor started: no server log
