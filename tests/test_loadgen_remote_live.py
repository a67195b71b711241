"""A Locust worker on "another host" (`python -m bench worker`, here on this one) beside a local
worker, against the session's real Flask server: the master's one request log holds both
workers' requests, the run ends by itself, and no Locust process is left behind."""

from __future__ import annotations

import contextlib
import csv
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

import bench.load.locust
from bench import PROJECT_ROOT
from bench.clients.payloads import write_payload_file
from bench.load.locust import LocustRun, free_port, kill_locust, start_locust, wait_locust
from bench.load.peer_auth import SECRET_ENV, new_secret, read_refusals
from bench.load.scenarios import INCOMPLETE_LOG_EXIT_CODE, INTERACTIONS
from bench.measure.metrics import level_metrics, read_request_logs, recorded_window
from bench.targets.manifest import project_pythonpath
from bench.targets.servers import split_cores
from tests.live import alive, still_alive, wait_until

pytestmark = pytest.mark.live

USERS = 8
WARMUP_S = 1.0
WINDOW_S = 3.0
MAX_RUN_TIME_S = 30.0  # the cap; the run must end well before it, by itself
# Long enough that the worker to be killed cannot finish by itself first (its interactions reach
# the master's log a report or two after they began); the master then waits for its last report
# for LAST_REPORTS_TIMEOUT_S.
DYING_WINDOW_S = 12.0
# The run's worker secret, as the runner's secret file would hand it to the other host.
SECRET = new_secret()


@dataclass
class RemoteRun:
    run: LocustRun
    master_port: int
    started: float
    exit_code: int
    load_ended: float
    worker_exit_code: int
    worker_output: str
    seen_during_run: list[psutil.Process]
    metrics: dict[str, float]
    out_dir: Path


def bench_worker(master_port: int, output: Path, *options: str) -> subprocess.Popen:
    """`python -m bench worker` as the other host would run it (its own session, as a terminal
    would start it, so that only what it stops itself stops)."""
    argv = [sys.executable, "-m", "bench", "worker", "--master", "127.0.0.1"]
    with output.open("wb") as log:
        return subprocess.Popen(
            [*argv, "--master-port", str(master_port), *options],
            cwd=PROJECT_ROOT,
            env={**os.environ, "PYTHONPATH": project_pythonpath(), SECRET_ENV: SECRET},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def locust_request_count(output_log: Path) -> int:
    """The request count of the summary Locust prints as it exits (its final stats; the CSV
    files are snapshots taken every second)."""
    totals = [line.split() for line in output_log.read_text().splitlines()]
    return int(next(words[1] for words in totals if words[:1] == ["Aggregated"]))


def logging_workers(request_log: Path) -> set[str]:
    """The workers whose interactions the master has logged so far (it writes them as their
    reports come in, in buffered blocks: a last line may be cut short)."""
    if not request_log.exists():
        return set()
    with request_log.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    return {
        row["worker"]
        for row in rows[:-1]
        if row.get("name") in INTERACTIONS and (row.get("worker") or "").isdigit()
    }


def tree_of(process: subprocess.Popen) -> list[psutil.Process]:
    with contextlib.suppress(psutil.Error):
        root = psutil.Process(process.pid)
        return [root, *root.children(recursive=True)]
    return []


def stop_bench_worker(process: subprocess.Popen) -> None:
    """Only if a test failed half-way: the command stops its Locust worker on SIGINT."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=15)
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def wait_for_the_three(master_port: int, worker: subprocess.Popen) -> None:
    """The master, its local worker and the remote one (bench worker's child) all running."""
    wait_until(
        lambda: len(locust_processes_for(master_port)) == 3, 30,
        "the master, its local worker and the remote one", watched=worker,
    )  # fmt: skip


def locust_processes_for(master_port: int) -> list[psutil.Process]:
    """Live Locust processes (master or worker) of the master on `master_port`."""
    found = []
    for proc in psutil.process_iter():
        with contextlib.suppress(psutil.Error):
            cmdline = proc.cmdline()
            if "locust" in cmdline and str(master_port) in cmdline and alive(proc):
                found.append(proc)
    return found


@pytest.fixture(scope="module")
def remote(model, servers, tmp_path_factory) -> RemoteRun:
    running = servers.get("flask")
    tmp = tmp_path_factory.mktemp("remote")
    write_payload_file(model, tmp / "payloads.json")
    _, loadgen_cores = split_cores()
    master_port = free_port()
    started = time.time()
    run = start_locust(
        "api_single", running.base_url, USERS, WARMUP_S, WINDOW_S, MAX_RUN_TIME_S,
        tmp / "level", loadgen_cores, tmp / "payloads.json", locust_workers=1,
        remote_workers=1, worker_secret=SECRET, master_bind_host="0.0.0.0", master_port=master_port,
    )  # fmt: skip
    worker = bench_worker(master_port, tmp / "bench-worker.log", "--once")
    try:
        wait_for_the_three(master_port, worker)
        seen_during_run = run.tree() + tree_of(worker)
        exit_code = wait_locust(run, timeout_s=MAX_RUN_TIME_S + 30)
        load_ended = time.time()
        worker_exit_code = worker.wait(timeout=30)
    finally:
        kill_locust(run)
        stop_bench_worker(worker)
    requests = read_request_logs(run.request_logs)
    window = recorded_window(requests, WARMUP_S, WINDOW_S)
    metrics = level_metrics(requests, window, [], [])
    worker_output = (tmp / "bench-worker.log").read_text()
    return RemoteRun(
        run, master_port, started, exit_code, load_ended, worker_exit_code, worker_output,
        seen_during_run, metrics, tmp,
    )  # fmt: skip


def test_the_masters_one_log_holds_both_workers_interactions(remote):
    assert remote.run.request_logs == [remote.out_dir / "level.requests.csv"]
    with remote.run.request_log.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    by_worker: dict[str, int] = {}
    for row in rows:
        if row["name"] in INTERACTIONS:
            by_worker[row["worker"]] = by_worker.get(row["worker"], 0) + 1
    assert set(by_worker) == {"0", "1"}, by_worker  # the local worker and the remote one
    assert list(remote.out_dir.glob("*.w*.requests.csv")) == []


def test_the_log_holds_every_request_locust_counted(remote):
    """Locust's stats travel in the same reports as the log lines: every request it counted
    from either worker, up to each one's last report, is in the log."""
    counted = locust_request_count(remote.run.output_log)
    assert len(read_request_logs(remote.run.request_logs)) == counted


def test_the_window_is_measured_without_failures(remote):
    assert remote.metrics["interactions"] > 0
    assert remote.metrics["failures"] == 0
    assert remote.worker_exit_code == 0, remote.worker_output
    assert read_refusals(remote.run.refusals_log) == []  # a local and a remote worker, admitted
    assert "level 1 ended" in remote.worker_output


def test_the_master_quits_by_itself_and_no_locust_process_is_left(remote):
    window = recorded_window(read_request_logs(remote.run.request_logs), WARMUP_S, WINDOW_S)
    assert remote.exit_code == 0
    assert window.end <= remote.load_ended < remote.started + MAX_RUN_TIME_S
    # The master, the local worker, `bench worker` and the Locust worker it started.
    assert len(remote.seen_during_run) >= 4
    assert not still_alive(remote.seen_during_run)
    assert locust_processes_for(remote.master_port) == []


def test_a_missing_remote_worker_ends_the_level_with_a_clear_error(model, tmp_path, monkeypatch):
    monkeypatch.setattr(bench.load.locust, "WORKERS_CONNECT_TIMEOUT_S", 2)
    write_payload_file(model, tmp_path / "payloads.json")
    _, loadgen_cores = split_cores()
    nothing_listens = f"http://127.0.0.1:{free_port()}"
    run = start_locust(
        "api_single", nothing_listens, 2, WARMUP_S, WINDOW_S, MAX_RUN_TIME_S, tmp_path / "level",
        loadgen_cores, tmp_path / "payloads.json", locust_workers=1, remote_workers=1,
        worker_secret=SECRET,
    )  # fmt: skip
    try:
        exit_code = wait_locust(run, timeout_s=30)
    finally:
        kill_locust(run)
    assert exit_code != 0
    assert "Gave up waiting for workers to connect" in run.output_log.read_text()
    assert all(p.poll() is not None for p in run.processes)


def test_one_worker_command_serves_level_after_level(model, servers, tmp_path):
    """Without --once it starts a Locust worker for each master in turn; with remote workers
    only, the window comes from theirs alone."""
    write_payload_file(model, tmp_path / "payloads.json")
    _, loadgen_cores = split_cores()
    master_port = free_port()
    worker = bench_worker(master_port, tmp_path / "bench-worker.log")
    runs, exit_codes = [], []
    try:
        running = servers.get("flask")
        for level in (1, 2):
            run = start_locust(
                "api_single", running.base_url, 2, WARMUP_S, 1.0, MAX_RUN_TIME_S,
                tmp_path / f"level{level}", loadgen_cores, tmp_path / "payloads.json",
                remote_workers=1, worker_secret=SECRET, master_port=master_port,
            )  # fmt: skip
            runs.append(run)
            try:
                exit_codes.append(wait_locust(run, timeout_s=MAX_RUN_TIME_S + 30))
            finally:
                kill_locust(run)
        worker.send_signal(signal.SIGINT)
        assert worker.wait(timeout=15) == 130
    finally:
        stop_bench_worker(worker)
    output = (tmp_path / "bench-worker.log").read_text()
    assert exit_codes == [0, 0], output
    # The same worker command at two masters on one port: neither refused anything of it.
    assert [read_refusals(run.refusals_log) for run in runs] == [[], []]
    for run in runs:
        assert [r for r in read_request_logs(run.request_logs) if r.name in INTERACTIONS]
    assert "level 1 ended" in output and "level 2 ended" in output
    assert locust_processes_for(master_port) == []


def test_a_worker_that_dies_makes_the_log_incomplete_and_the_master_says_so(
    model, servers, tmp_path
):
    """Its last report never comes: the master waits for it (bounded), then exits with
    INCOMPLETE_LOG_EXIT_CODE and names the worker in its log."""
    write_payload_file(model, tmp_path / "payloads.json")
    _, loadgen_cores = split_cores()
    master_port = free_port()
    running = servers.get("flask")
    run = start_locust(
        "api_single", running.base_url, 2, WARMUP_S, DYING_WINDOW_S, MAX_RUN_TIME_S + 30,
        tmp_path / "level", loadgen_cores, tmp_path / "payloads.json", locust_workers=1,
        remote_workers=1, worker_secret=SECRET, master_port=master_port,
    )  # fmt: skip
    worker = bench_worker(master_port, tmp_path / "bench-worker.log", "--once")
    try:
        wait_for_the_three(master_port, worker)
        [remote_locust] = wait_until(lambda: tree_of(worker)[1:], 10, "the remote Locust worker")
        wait_until(
            lambda: len(logging_workers(run.request_log)) == 2, 30,
            "interactions of both workers in the master's log", watched=remote_locust,
        )  # fmt: skip
        try:
            remote_locust.kill()
        except psutil.NoSuchProcess:
            pytest.fail("the remote worker ended by itself before its window was over")
        exit_code = wait_locust(run, timeout_s=MAX_RUN_TIME_S + 60)
    finally:
        kill_locust(run)
        stop_bench_worker(worker)
    assert exit_code == INCOMPLETE_LOG_EXIT_CODE
    assert "request log incomplete: no last report" in run.output_log.read_text()


def test_the_worker_says_the_master_is_unreachable_and_stops_on_ctrl_c(tmp_path):
    master_port = free_port()  # nothing listens there
    worker = bench_worker(master_port, tmp_path / "bench-worker.log")
    try:
        log = tmp_path / "bench-worker.log"
        wait_until(lambda: "not reachable" in log.read_text(), 30, "its message", watched=worker)
        worker.send_signal(signal.SIGINT)
        assert worker.wait(timeout=15) == 130
    finally:
        stop_bench_worker(worker)
    assert f"127.0.0.1:{master_port} not reachable" in (tmp_path / "bench-worker.log").read_text()


def test_ctrl_c_stops_the_locust_worker_it_started(model, tmp_path, monkeypatch):
    """A master whose level never starts (it waits for a second remote worker that never
    comes): the command's Locust worker waits with it, until Ctrl-C."""
    monkeypatch.setattr(bench.load.locust, "WORKERS_CONNECT_TIMEOUT_S", 120)
    write_payload_file(model, tmp_path / "payloads.json")
    _, loadgen_cores = split_cores()
    master_port = free_port()
    run = start_locust(
        "api_single", f"http://127.0.0.1:{free_port()}", 2, WARMUP_S, WINDOW_S, MAX_RUN_TIME_S,
        tmp_path / "level", loadgen_cores, tmp_path / "payloads.json", remote_workers=2,
        worker_secret=SECRET, master_port=master_port,
    )  # fmt: skip
    worker = bench_worker(master_port, tmp_path / "bench-worker.log")
    try:
        wait_until(lambda: tree_of(worker)[1:], 30, "its Locust worker", watched=worker)
        started = tree_of(worker)
        worker.send_signal(signal.SIGINT)
        assert worker.wait(timeout=15) == 130
    finally:
        stop_bench_worker(worker)
        kill_locust(run)
    assert len(started) >= 2  # the command and its Locust worker
    assert not still_alive(started)
    assert locust_processes_for(master_port) == []
