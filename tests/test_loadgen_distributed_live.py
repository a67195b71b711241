"""Locust's distributed mode (a master and workers) against the session's Flask server, beside the
single process: the same load, the same metrics, the workers' requests in the master's one log,
and the run ends by itself after the window."""

from __future__ import annotations

import contextlib
import csv
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
from bench.load.scenarios import INTERACTIONS, PAYLOADS_ENV, REQUEST_LOG_ENV, WINDOW_ENV
from bench.measure.metrics import level_metrics, read_request_logs, recorded_window
from bench.measure.sampler import TreeSampler
from bench.store.schema import LEVEL_METRICS
from bench.targets.servers import split_cores
from tests.live import free_port, still_alive, wait_until

pytestmark = pytest.mark.live

USERS = 8
WARMUP_S = 1.0
WINDOW_S = 3.0
MAX_RUN_TIME_S = 30.0  # the cap; the run must end well before it, by itself


@dataclass
class Measured:
    run: LocustRun
    started: float
    exit_code: int
    load_ended: float
    seen_during_run: list[psutil.Process]
    metrics: dict[str, float]
    out_dir: Path


def measure(running, payload_file: Path, out_dir: Path, workers: int) -> Measured:
    _, loadgen_cores = split_cores()
    out_dir.mkdir()
    # In the run's folder, so that each of its processes names that folder (processes_of).
    payload_file = Path(shutil.copy(payload_file, out_dir / "payloads.json"))
    started = time.time()
    run = start_locust(
        "api_single", running.base_url, USERS, WARMUP_S, WINDOW_S, MAX_RUN_TIME_S,
        out_dir / "level", loadgen_cores, payload_file, locust_workers=workers,
    )  # fmt: skip
    try:
        with TreeSampler(running.tree) as server, TreeSampler(run.tree) as loadgen:
            # Every process of the run, once its workers have started (the master has them all).
            seen_during_run = wait_until(
                lambda: len(tree := run.tree()) >= len(run.processes) and tree, 30,
                "the run's processes", watched=run.process,
            )  # fmt: skip
            exit_code = wait_locust(run, timeout_s=MAX_RUN_TIME_S + 30)
            load_ended = time.time()
    finally:
        kill_locust(run)
    requests = read_request_logs(run.request_logs)
    window = recorded_window(requests, WARMUP_S, WINDOW_S)
    metrics = level_metrics(
        requests,
        window,
        server.between(window.start, window.end),
        loadgen.between(window.start, window.end),
        loadgen_processes=max(1, min(workers, len(loadgen_cores))),
    )
    return Measured(run, started, exit_code, load_ended, seen_during_run, metrics, out_dir)


def processes_of(out_dir: Path) -> list[psutil.Process]:
    """Live processes whose command line, request log or request bodies name this run's folder
    (a worker has no request log of its own, but the bodies' file)."""
    found = []
    for proc in psutil.process_iter():
        with contextlib.suppress(psutil.Error):
            environ = proc.environ()
            named = str(out_dir) in " ".join(proc.cmdline())
            named = named or any(
                str(out_dir) in environ.get(name, "") for name in (REQUEST_LOG_ENV, PAYLOADS_ENV)
            )
            if named and proc.status() != psutil.STATUS_ZOMBIE:
                found.append(proc)
    return found


def workers_of(request_log: Path) -> dict[str, int]:
    """Interactions by the `worker` column of a distributed run's log."""
    with request_log.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    counts: dict[str, int] = {}
    for row in rows:
        if row["name"] in INTERACTIONS:
            counts[row["worker"]] = counts.get(row["worker"], 0) + 1
    return counts


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
    assert distributed.run.request_logs == [distributed.out_dir / "level.requests.csv"]
    assert set(workers_of(distributed.run.request_log)) == {"0", "1"}  # Locust's worker indexes
    assert list(distributed.out_dir.glob("*.w*.requests.csv")) == []  # workers write none
    assert len(distributed.run.processes) == 3  # the master and two workers


@pytest.mark.parametrize("workers", [2, 0])
def test_the_log_holds_every_request_locust_counted(runs, workers):
    """In a distributed run Locust's stats travel in the same reports as the log lines: every
    request it counted, up to each worker's last report, is in the master's log."""
    measured = runs[workers]
    counted = locust_request_count(measured.run.output_log)
    assert len(read_request_logs(measured.run.request_logs)) == counted


def locust_request_count(output_log: Path) -> int:
    """The request count of the summary Locust prints as it exits (its final stats; the CSV
    files are snapshots taken every second)."""
    totals = [line.split() for line in output_log.read_text().splitlines()]
    return int(next(words[1] for words in totals if words[:1] == ["Aggregated"]))


def test_the_single_process_log_keeps_its_columns(runs):
    header = runs[0].run.request_log.read_text().splitlines()[0]
    assert header == "start,name,ms,ok,error"


@pytest.mark.parametrize("workers", [2, 0])
def test_the_window_is_measured_without_failures(runs, workers):
    metrics = runs[workers].metrics
    assert metrics["throughput"] > 0
    assert metrics["interactions"] > 0
    assert metrics["failures"] == 0


@pytest.mark.parametrize("workers", [2, 0])
def test_locust_stops_by_itself_after_the_window_and_leaves_no_process(runs, workers):
    measured = runs[workers]
    requests = read_request_logs(measured.run.request_logs)
    window = recorded_window(requests, WARMUP_S, WINDOW_S)
    assert measured.exit_code == 0
    # After the window (never cut short), and before the run-time cap could have ended it.
    assert window.end <= measured.load_ended < measured.started + MAX_RUN_TIME_S
    assert len(measured.seen_during_run) >= len(measured.run.processes)
    assert all(p.poll() is not None for p in measured.run.processes)
    assert not still_alive(measured.seen_during_run)
    assert processes_of(measured.out_dir) == []


def test_both_ways_give_the_same_metrics(runs):
    assert set(runs[2].metrics) == set(runs[0].metrics) == set(LEVEL_METRICS)
    print(
        f"\napi_single, {USERS} users, {WINDOW_S:.0f} s window: "
        f"1 Locust process {runs[0].metrics['throughput']:.1f}/s "
        f"(Locust CPU {runs[0].metrics['loadgen_cpu']:.0f}%), "
        f"2 workers {runs[2].metrics['throughput']:.1f}/s "
        f"(Locust CPU {runs[2].metrics['loadgen_cpu']:.0f}%)"
    )


def test_a_run_that_overstays_is_killed_whole(model, tmp_path):
    """Without its window Locust would run to its cap: wait_locust kills master and workers."""
    write_payload_file(model, tmp_path / "payloads.json")
    _, loadgen_cores = split_cores()
    nothing_listens = f"http://127.0.0.1:{free_port()}"
    run = start_locust(
        "api_single", nothing_listens, 2, WARMUP_S, WINDOW_S, MAX_RUN_TIME_S, tmp_path / "level",
        loadgen_cores, tmp_path / "payloads.json", {WINDOW_ENV: ""}, locust_workers=2,
    )  # fmt: skip
    try:
        with pytest.raises(subprocess.TimeoutExpired):
            wait_locust(run, timeout_s=3)
    finally:
        kill_locust(run)
    assert all(p.poll() is not None for p in run.processes)
    assert processes_of(tmp_path) == []
