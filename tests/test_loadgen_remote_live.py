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
from bench.load.locust import LocustRun, free_port, kill_locust, start_locust
from bench.load.peer_auth import SECRET_ENV, new_secret, read_refusals
from bench.load.scenarios import INCOMPLETE_LOG_EXIT_CODE, INTERACTIONS
from bench.load.spec import LoadResult, LoadSpec, WindowRule, Workers
from bench.load.window import run_load
from bench.measure.metrics import level_metrics, read_request_logs
from bench.targets.manifest import discover, project_pythonpath
from bench.targets.servers import ExternalDeployment
from tests.live import alive, still_alive, wait_until
from tests.load_runs import (
    boundaries_of,
    in_background,
    load_spec,
    locust_request_count,
    poll,
    recorded_runs,
)

pytestmark = pytest.mark.live

USERS = 8
WARMUP_S = 1.0
RULE = WindowRule(min_s=3, max_s=6, min_interactions=20)
# Long enough that the worker to be killed cannot finish by itself first (its interactions reach
# the master's log a report or two after they began); the master then waits for its last report
# for LAST_REPORTS_TIMEOUT_S.
DYING_RULE = WindowRule.fixed(12.0)
# The run's worker secret, as the runner's secret file would hand it to the other host.
SECRET = new_secret()


@dataclass
class RemoteRun:
    spec: LoadSpec
    result: LoadResult
    run: LocustRun
    master_port: int
    started: float
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


def wait_for_the_three(master_port: int) -> None:
    """The master, its local worker and the remote one (bench worker's child) all running
    (from a thread beside run_load)."""
    poll(
        lambda: len(locust_processes_for(master_port)) == 3, 60,
        "the master, its local worker and the remote one",
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


def nowhere() -> ExternalDeployment:
    """A target that is not there: these runs fail or are stopped before any request counts."""
    url = f"http://127.0.0.1:{free_port()}"
    return ExternalDeployment({d.name: d for d in discover()}["flask"], url)


@pytest.fixture(scope="module")
def remote(model, servers, tmp_path_factory) -> RemoteRun:
    running = servers.get("flask")
    tmp = tmp_path_factory.mktemp("remote")
    write_payload_file(model, tmp / "payloads.json")
    master_port = free_port()
    workers = Workers(
        local=1, remote=1, master_bind="0.0.0.0", master_port=master_port, secret=SECRET
    )
    spec = load_spec(
        running.base_url, (USERS,), tmp / "level", tmp / "payloads.json", RULE,
        warmup_s=WARMUP_S, workers=workers,
    )  # fmt: skip
    worker = bench_worker(master_port, tmp / "bench-worker.log", "--once")
    started = time.time()
    try:
        with recorded_runs() as runs:

            def the_four() -> list[psutil.Process]:
                wait_for_the_three(master_port)
                return runs[0].run.tree() + tree_of(worker)

            watcher = in_background(the_four)
            result = run_load(spec, running)
        load_ended = time.time()
        seen_during_run = watcher.outcome()
        worker_exit_code = worker.wait(timeout=30)
    finally:
        stop_bench_worker(worker)
    assert result.failure is None and len(result.windows) == 1, result.failure
    [window] = result.windows
    metrics = level_metrics(window.requests, window.window, [], [])
    worker_output = (tmp / "bench-worker.log").read_text()
    return RemoteRun(
        spec, result, runs[0].run, master_port, started, load_ended, worker_exit_code,
        worker_output, seen_during_run, metrics, tmp,
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
    assert remote.result.refused == []
    assert "level 1 ended" in remote.worker_output


def test_the_master_quits_by_itself_and_no_locust_process_is_left(remote):
    [window] = remote.result.windows
    # Its shape quit after the one step: exit code 0 (a stopped or killed master has another).
    assert remote.run.process.returncode == 0
    assert remote.started < window.window.end <= remote.load_ended
    assert remote.load_ended < remote.started + remote.spec.longest_s
    # The master, the local worker, `bench worker` and the Locust worker it started.
    assert len(remote.seen_during_run) >= 4
    assert not still_alive(remote.seen_during_run)
    assert locust_processes_for(remote.master_port) == []


def test_a_missing_remote_worker_fails_the_run_with_a_clear_error(model, tmp_path, monkeypatch):
    monkeypatch.setattr(bench.load.locust, "WORKERS_CONNECT_TIMEOUT_S", 2)
    write_payload_file(model, tmp_path / "payloads.json")
    target = nowhere()
    spec = load_spec(
        target.base_url, (2,), tmp_path / "level", tmp_path / "payloads.json", RULE,
        warmup_s=WARMUP_S, workers=Workers(local=1, remote=1, secret=SECRET),
    )  # fmt: skip
    with recorded_runs() as runs:
        result = run_load(spec, target)
    [recorded] = runs
    assert result.failed and result.windows == []
    assert result.wall_s < spec.longest_s
    assert recorded.run.process.returncode != 0
    assert "Gave up waiting for workers to connect" in recorded.run.output_log.read_text()
    assert all(p.poll() is not None for p in recorded.run.processes)
    assert not still_alive(recorded.seen)


def test_one_worker_command_serves_run_after_run(model, servers, tmp_path):
    """Without --once it starts a Locust worker for each master in turn; with remote workers
    only, the window comes from theirs alone."""
    write_payload_file(model, tmp_path / "payloads.json")
    master_port = free_port()
    worker = bench_worker(master_port, tmp_path / "bench-worker.log")
    results = []
    try:
        running = servers.get("flask")
        for level in (1, 2):
            spec = load_spec(
                running.base_url, (2,), tmp_path / f"level{level}", tmp_path / "payloads.json",
                WindowRule(min_s=1, max_s=3), warmup_s=WARMUP_S,
                workers=Workers(remote=1, master_port=master_port, secret=SECRET),
            )  # fmt: skip
            results.append(run_load(spec, running))
        worker.send_signal(signal.SIGINT)
        assert worker.wait(timeout=15) == 130
    finally:
        stop_bench_worker(worker)
    output = (tmp_path / "bench-worker.log").read_text()
    assert [r.failure for r in results] == [None, None], output
    # The same worker command at two masters on one port: neither refused anything of it.
    assert [r.refused for r in results] == [[], []]
    for result in results:
        [window] = result.windows
        assert [r for r in window.requests if r.name in INTERACTIONS and r.ok]
    assert "level 1 ended" in output and "level 2 ended" in output
    assert locust_processes_for(master_port) == []


def test_a_worker_that_dies_makes_the_log_incomplete_and_the_run_says_so(model, servers, tmp_path):
    """Its last report never comes: the master waits for it (bounded), then exits with
    INCOMPLETE_LOG_EXIT_CODE and names the worker in its log; the run fails saying so."""
    write_payload_file(model, tmp_path / "payloads.json")
    master_port = free_port()
    running = servers.get("flask")
    spec = load_spec(
        running.base_url, (2,), tmp_path / "level", tmp_path / "payloads.json", DYING_RULE,
        warmup_s=WARMUP_S,
        workers=Workers(local=1, remote=1, master_port=master_port, secret=SECRET),
    )  # fmt: skip
    request_log = spec.out_prefix.with_suffix(".requests.csv")
    worker = bench_worker(master_port, tmp_path / "bench-worker.log", "--once")

    def kill_the_remote_worker() -> None:
        wait_for_the_three(master_port)
        [remote_locust] = poll(lambda: tree_of(worker)[1:], 10, "the remote Locust worker")
        poll(
            lambda: len(logging_workers(request_log)) == 2, 30,
            "interactions of both workers in the master's log",
        )  # fmt: skip
        try:
            remote_locust.kill()
        except psutil.NoSuchProcess:
            raise AssertionError("the remote worker ended before its window was over") from None

    try:
        with recorded_runs() as runs:
            killer = in_background(kill_the_remote_worker)
            result = run_load(spec, running)
        killer.outcome()
    finally:
        stop_bench_worker(worker)
    [recorded] = runs
    assert recorded.run.process.returncode == INCOMPLETE_LOG_EXIT_CODE
    assert result.failure is not None and "never reached the master" in result.failure
    assert "request log incomplete: no last report" in recorded.run.output_log.read_text()
    assert not still_alive(recorded.seen)


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
    master_port = free_port()
    spec = load_spec(
        nowhere().base_url, (2,), tmp_path / "level", tmp_path / "payloads.json", RULE,
        warmup_s=WARMUP_S, workers=Workers(remote=2, master_port=master_port, secret=SECRET),
    )  # fmt: skip
    run = start_locust(spec, boundaries_of(spec))
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
