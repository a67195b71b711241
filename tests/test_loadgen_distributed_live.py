"""Locust's distributed mode (a master and workers) against the session's Flask server, beside the
single process, both through the engine (bench/load/window.py): the same load, the same metrics,
the workers' requests in the master's one log, and the run ends by itself: the shape quits after
its last step."""

from __future__ import annotations

import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

from bench.clients.payloads import write_payload_file
from bench.load.locust import LocustRun, kill_locust, start_locust, wait_locust
from bench.load.peer_auth import read_refusals
from bench.load.spec import LoadResult, LoadSpec, WindowRule, Workers
from bench.load.window import run_load
from bench.measure.metrics import level_metrics, read_request_logs
from bench.run.runner import window_flags
from bench.store.table import LEVEL_METRICS
from bench.targets.cores import split_cores
from tests.live import free_port, still_alive
from tests.load_runs import (
    boundaries_of,
    boundary_lines,
    interactions_by_worker,
    load_spec,
    locust_request_count,
    processes_of,
    recorded_runs,
)

pytestmark = pytest.mark.live

USERS = 8
WARMUP_S = 1.0
RULE = WindowRule(min_s=3, max_s=6, min_interactions=20)


@dataclass
class Measured:
    spec: LoadSpec
    result: LoadResult
    run: LocustRun
    started: float
    load_ended: float
    seen_during_run: list[psutil.Process]
    metrics: dict[str, float]
    out_dir: Path


def measure(running, payload_file: Path, out_dir: Path, workers: int) -> Measured:
    _, loadgen_cores = split_cores()
    out_dir.mkdir()
    # In the run's folder, so that each of its processes names that folder (processes_of).
    payload_file = Path(shutil.copy(payload_file, out_dir / "payloads.json"))
    spec = load_spec(
        running.base_url, (USERS,), out_dir / "level", payload_file, RULE, warmup_s=WARMUP_S,
        workers=Workers(local=workers),
    )  # fmt: skip
    started = time.time()
    with recorded_runs() as runs:
        result = run_load(spec, running)
    load_ended = time.time()
    [recorded] = runs
    assert result.failure is None and len(result.windows) == 1, result.failure
    [window] = result.windows
    metrics = level_metrics(
        window.requests,
        window.window,
        window.server,
        window.loadgen,
        loadgen_processes=max(1, min(workers, len(loadgen_cores))),
    ) | window_flags(window)
    return Measured(
        spec, result, recorded.run, started, load_ended, recorded.seen, metrics, out_dir
    )


@pytest.fixture(scope="module")
def runs(model, servers, tmp_path_factory) -> dict[int, Measured]:
    """The same level measured with 2 workers and with one process, by Locust worker count,
    against the session's Flask server."""
    tmp = tmp_path_factory.mktemp("distributed")
    payload_file = tmp / "payloads.json"
    write_payload_file(model, payload_file)
    running = servers.get("flask")
    return {
        workers: measure(running, payload_file, tmp / f"w{workers}", workers) for workers in (2, 0)
    }


def test_the_masters_one_log_holds_each_workers_share_of_the_interactions(runs):
    distributed = runs[2]
    # Its own workers, hello to last report and quit, were never refused by their master.
    assert read_refusals(distributed.run.refusals_log) == []
    assert distributed.result.refused == []
    assert distributed.run.request_logs == [distributed.out_dir / "level.requests.csv"]
    [window] = distributed.result.windows
    # Locust's worker indexes, both inside the window.
    assert set(interactions_by_worker(distributed.run.request_log, window.window)) == {"0", "1"}
    assert list(distributed.out_dir.glob("*.w*.requests.csv")) == []  # workers write none
    assert len(distributed.run.processes) == 3  # the master and two workers


@pytest.mark.parametrize("workers", [2, 0])
def test_the_log_holds_every_request_locust_counted(runs, workers):
    """In a distributed run Locust's stats travel in the same reports as the log lines: every
    request it counted, up to each worker's last report, is in the master's log."""
    measured = runs[workers]
    counted = locust_request_count(measured.run.output_log)
    assert len(read_request_logs(measured.run.request_logs)) == counted


def test_the_single_process_log_keeps_its_columns(runs):
    header = runs[0].run.request_log.read_text().splitlines()[0]
    assert header == "start,name,ms,ok,error"


@pytest.mark.parametrize("workers", [2, 0])
def test_the_window_is_measured_without_failures(runs, workers):
    metrics = runs[workers].metrics
    assert metrics["throughput"] > 0
    assert metrics["interactions"] > 0
    assert metrics["failures"] == 0
    assert RULE.min_s <= metrics["window"] <= RULE.max_s + 1.0


@pytest.mark.parametrize("workers", [2, 0])
def test_the_shape_quits_by_itself_after_the_last_step_and_leaves_no_process(runs, workers):
    measured = runs[workers]
    [window] = measured.result.windows
    # One boundary line for the one step, then Locust quit on its own: exit code 0 (a run it
    # had to be stopped or killed for ends otherwise), after the window and within its bound.
    assert len(boundary_lines(boundaries_of(measured.spec))) == 1
    assert [p.returncode for p in measured.run.processes] == [0] * len(measured.run.processes)
    assert measured.started < window.window.end <= measured.load_ended
    assert measured.load_ended < measured.started + measured.spec.longest_s
    assert len(measured.seen_during_run) >= len(measured.run.processes)
    assert not still_alive(measured.seen_during_run)
    assert processes_of(measured.out_dir) == []


def test_both_ways_give_the_same_metrics(runs):
    assert set(runs[2].metrics) == set(runs[0].metrics) == set(LEVEL_METRICS)
    print(
        f"\napi_single, {USERS} users, {runs[0].metrics['window']:.1f} s window: "
        f"1 Locust process {runs[0].metrics['throughput']:.1f}/s "
        f"(Locust CPU {runs[0].metrics['loadgen_cpu']:.0f}%), "
        f"2 workers {runs[2].metrics['throughput']:.1f}/s "
        f"(Locust CPU {runs[2].metrics['loadgen_cpu']:.0f}%)"
    )


def test_a_run_that_overstays_is_killed_whole(model, tmp_path):
    """A step whose window could last ten minutes, waited for three seconds: wait_locust kills
    master and workers."""
    write_payload_file(model, tmp_path / "payloads.json")
    nothing_listens = f"http://127.0.0.1:{free_port()}"
    spec = load_spec(
        nothing_listens, (2,), tmp_path / "level", tmp_path / "payloads.json",
        WindowRule(min_s=1, max_s=600), workers=Workers(local=2),
    )  # fmt: skip
    run = start_locust(spec, boundaries_of(spec))
    try:
        with pytest.raises(subprocess.TimeoutExpired):
            wait_locust(run, timeout_s=3)
    finally:
        kill_locust(run)
    assert all(p.poll() is not None for p in run.processes)
    assert processes_of(tmp_path) == []
