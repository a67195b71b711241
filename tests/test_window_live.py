"""The measured-window engine (bench/load/window.py) against the real Flask deployment: one Locust
process steps through the levels, each window ends by the rule or at its cap, and whatever ends
the run (its last step, a dead or silent target, a server that exits, Ctrl-C) leaves no Locust
process and keeps the windows that finished."""

from __future__ import annotations

import _thread
import json
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

from bench.cli import console
from bench.clients.payloads import write_payload_file
from bench.load.locust import free_port
from bench.load.scenarios import INTERACTIONS
from bench.load.spec import LoadResult, LoadSpec, WindowResult, WindowRule, Workers
from bench.load.window import run_load
from bench.measure.metrics import read_request_logs
from bench.targets.cores import split_cores
from bench.targets.manifest import discover
from bench.targets.servers import ExternalDeployment, start, stop, wait_healthy
from tests.live import still_alive
from tests.load_runs import (
    Recorded,
    boundaries_of,
    boundary_lines,
    in_background,
    interactions_by_worker,
    load_spec,
    poll,
    processes_of,
    recorded_runs,
)

pytestmark = pytest.mark.live

RULE = WindowRule(min_s=1, max_s=3, min_interactions=20)
# The shape checks its steps every 0.25 s: a capped window ends that much after max_s at most,
# plus a loaded machine's scheduling delay.
CAP_TOLERANCE_S = 1.0


@pytest.fixture(scope="module")
def payload_file(model, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("window-payloads") / "payloads.json"
    write_payload_file(model, path)
    return path


@pytest.fixture(scope="module")
def flask_deployment():
    return {d.name: d for d in discover()}["flask"]


@dataclass
class Stepped:
    spec: LoadSpec
    result: LoadResult
    recorded: Recorded
    early: list[WindowResult]


def measured(spec: LoadSpec, target) -> Stepped:
    early: list[WindowResult] = []
    with recorded_runs() as runs:
        result = run_load(spec, target, on_window=early.append)
    [recorded] = runs
    return Stepped(spec, result, recorded, early)


def assert_nothing_left(stepped: Stepped) -> None:
    run = stepped.recorded.run
    assert all(p.poll() is not None for p in run.processes)
    assert not still_alive(stepped.recorded.seen)
    assert processes_of(stepped.spec.out_prefix.parent) == []


@pytest.fixture(scope="module")
def stepped(servers, payload_file, tmp_path_factory) -> Stepped:
    running = servers.get("flask")
    out = tmp_path_factory.mktemp("stepped") / "level"
    return measured(load_spec(running.base_url, (1, 4), out, payload_file, RULE), running)


def test_two_steps_give_two_windows_in_order_and_disjoint(stepped):
    result = stepped.result
    assert result.failure is None and not result.interrupted, result.failure
    assert [(w.step, w.users) for w in result.windows] == [(0, 1), (1, 4)]
    first, second = (w.window for w in result.windows)
    assert first.start < first.end <= second.start < second.end
    for w in result.windows:
        assert w.ended in ("rule", "capped")
        assert RULE.min_s <= w.window.seconds < RULE.max_s + CAP_TOLERANCE_S
        if w.ended == "capped":
            assert w.window.seconds >= RULE.max_s


def test_each_window_holds_the_requests_that_ended_inside_it(stepped):
    spec = stepped.spec
    logged = read_request_logs([spec.out_prefix.with_suffix(".requests.csv")])
    for w in stepped.result.windows:
        # Those that ended inside, or began inside and ended after it (still in flight at its
        # end): nothing from the warm-up or another step.
        assert all(w.window.holds(r.end) or w.window.holds(r.start) for r in w.requests)
        ended = [r for r in logged if r.name in INTERACTIONS and w.window.holds(r.end)]
        assert ended and {r for r in w.requests if w.window.holds(r.end)} >= set(ended)
        assert len(ended) >= RULE.min_interactions or w.ended == "capped"
        assert all(r.ok for r in ended)


def test_each_window_has_server_and_load_generator_samples_from_inside_it(stepped):
    for w in stepped.result.windows:
        assert w.server and w.loadgen
        for sample in w.server + w.loadgen:
            assert w.window.start <= sample.at <= w.window.end


def test_the_boundaries_file_has_a_line_per_step_and_each_came_early(stepped):
    records = [json.loads(line) for line in boundary_lines(boundaries_of(stepped.spec))]
    assert [(r["step"], r["users"]) for r in records] == [(0, 1), (1, 4)]
    for record, w in zip(records, stepped.result.windows, strict=True):
        assert (record["window_start"], record["window_end"]) == (w.window.start, w.window.end)
        assert record["ended"] == w.ended and record["steady"] == w.steady
        assert record["ready_at"] <= record["window_start"]
    # Handed to on_window as each step ended, before the run was over.
    assert [(w.step, w.window) for w in stepped.early] == [
        (w.step, w.window) for w in stepped.result.windows
    ]
    assert all(w.requests == [] and w.summary["interactions"] > 0 for w in stepped.early)


def test_the_shape_quits_after_the_last_step_and_leaves_no_process(stepped):
    run = stepped.recorded.run
    assert run.process.returncode == 0  # it quit by itself: not stopped, not killed
    assert stepped.result.wall_s < stepped.spec.longest_s
    assert_nothing_left(stepped)


def test_a_minimum_that_cannot_be_reached_ends_capped_at_max_s(servers, payload_file, tmp_path):
    running = servers.get("flask")
    rule = WindowRule(min_s=1, max_s=2, min_interactions=10**9)
    spec = load_spec(running.base_url, (1,), tmp_path / "level", payload_file, rule)
    stepped = measured(spec, running)
    assert stepped.result.failure is None, stepped.result.failure
    [w] = stepped.result.windows
    assert w.ended == "capped"
    assert rule.max_s <= w.window.seconds < rule.max_s + CAP_TOLERANCE_S
    assert w.requests
    assert_nothing_left(stepped)


def test_a_target_that_is_not_listening_ends_bounded_with_nothing_measured(
    flask_deployment, payload_file, tmp_path
):
    """Every connection is refused at once: the step gets going (its interactions fail), its
    window can never be steady (no interaction succeeds), so it ends capped, all failures."""
    url = f"http://127.0.0.1:{free_port()}"
    rule = WindowRule(min_s=1, max_s=2)
    spec = load_spec(url, (1,), tmp_path / "level", payload_file, rule, setup_s=2)
    stepped = measured(spec, ExternalDeployment(flask_deployment, url))
    result = stepped.result
    assert result.wall_s < spec.longest_s
    assert result.failed or result.windows
    for w in result.windows:
        interactions = [r for r in w.requests if r.name in INTERACTIONS]
        assert interactions and not any(r.ok for r in interactions)
        assert w.ended == "capped" and not w.steady
    assert_nothing_left(stepped)


def test_a_target_that_never_answers_fails_its_set_up_within_setup_s(
    flask_deployment, payload_file, tmp_path
):
    """A port that accepts connections and never answers: no interaction ever comes, so the
    step does not set up, and the run fails saying so after setup_s, not after a timeout."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(64)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        spec = load_spec(url, (1, 4), tmp_path / "level", payload_file, RULE, setup_s=2)
        stepped = measured(spec, ExternalDeployment(flask_deployment, url))
    result = stepped.result
    assert result.failure is not None and "did not set up within 2 s" in result.failure
    assert "step 1" in result.failure
    assert result.windows == []
    assert result.wall_s < spec.longest_s
    assert_nothing_left(stepped)


def test_a_server_that_exits_mid_run_fails_the_run_naming_it(
    flask_deployment, payload_file, tmp_path
):
    server_cores, _ = split_cores()
    running = start(
        flask_deployment, port=free_port(), cores=server_cores, log_path=tmp_path / "flask.log"
    )
    try:
        wait_healthy(running)
        spec = load_spec(running.base_url, (1, 4), tmp_path / "level", payload_file, RULE)

        def kill_after_the_first_window() -> None:
            poll(lambda: boundary_lines(boundaries_of(spec)), 120, "the first window")
            for proc in running.tree():
                proc.kill()

        killer = in_background(kill_after_the_first_window)
        stepped = measured(spec, running)
        killer.outcome()
    finally:
        stop(running)
    result = stepped.result
    assert result.failure is not None and "the server exited" in result.failure
    assert result.windows and result.windows[0].users == 1
    assert any(r.ok for r in result.windows[0].requests)
    assert_nothing_left(stepped)


@pytest.fixture
def runner_signals():
    """The handlers the bench command installs, for as long as the test. Whatever the test
    process has instead may lose the simulated Ctrl-C: SIGINT ignored (inherited by a suite
    started in the background) drops it, and Python's default handler raises without the
    mark the runner checks between steps, so a raise CPython discards (in a finalizer) is
    gone. The mark stays for good (a command ends then); the test process goes on, so it is
    cleared and the previous handlers come back after the test."""
    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    console.signals_as_interrupt()
    try:
        yield
    finally:
        for signum, handler in before.items():
            signal.signal(signum, handler)
        console._interrupted.clear()


def test_ctrl_c_during_the_run_keeps_the_finished_windows_and_leaves_no_process(
    servers, payload_file, tmp_path, runner_signals
):
    running = servers.get("flask")
    # Each step lasts its min_s at least: the interrupt, sent as the first one ends, comes
    # before the last. A thread held back on a loaded machine (the other test worker's load)
    # may let several more end, so there are ten more, which the interrupt cuts short.
    rule = WindowRule(min_s=2, max_s=3)
    steps = (1, *[4] * 10)
    spec = load_spec(running.base_url, steps, tmp_path / "level", payload_file, rule)

    def interrupt_after_the_first_window() -> None:
        poll(lambda: boundary_lines(boundaries_of(spec)), 120, "the first window")
        _thread.interrupt_main()

    interrupter = in_background(interrupt_after_the_first_window)
    try:
        stepped = measured(spec, running)
    except KeyboardInterrupt:
        pytest.fail("the interrupt escaped run_load")
    interrupter.outcome()
    result = stepped.result
    assert result.interrupted
    finished = len(result.windows)
    assert 1 <= finished < len(steps)
    assert [w.users for w in result.windows] == list(steps[:finished])
    assert all(w.requests for w in result.windows)  # the log was flushed as Locust quit
    assert_nothing_left(stepped)


def test_distributed_steps_take_each_windows_requests_from_both_workers(
    servers, payload_file, tmp_path
):
    running = servers.get("flask")
    spec = load_spec(
        running.base_url, (2, 4), tmp_path / "level", payload_file, RULE,
        workers=Workers(local=2),
    )  # fmt: skip
    stepped = measured(spec, running)
    result = stepped.result
    assert result.failure is None and result.refused == [], result.failure
    assert [w.users for w in result.windows] == [2, 4]
    log = stepped.recorded.run.request_log
    for w in result.windows:
        assert set(interactions_by_worker(log, w.window)) == {"0", "1"}
    assert len(stepped.recorded.run.processes) == 3  # the master and its two workers
    assert_nothing_left(stepped)


def test_a_process_left_would_be_seen(tmp_path):
    """The check above can fail: a process naming the run's folder is found."""
    marker = tmp_path / "level"
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", str(marker)])
    try:
        found = poll(lambda: processes_of(tmp_path), 10, "the process")
        assert [p.pid for p in found] == [process.pid]
        assert psutil.pid_exists(process.pid)
    finally:
        process.kill()
        process.wait()
