"""The harness under faults: a clear message, the right exit code, no orphan process, no
half-written result."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time

import psutil
import pytest

from bench import PROJECT_ROOT
from bench.manifest import discover, load, select
from bench.process import DeploymentError, start, stop, wait_healthy
from bench.results import read_rows

pytestmark = pytest.mark.live


def test_a_busy_port_is_named_and_nothing_is_started(tmp_path):
    [flask] = select(discover(), ["flask"])
    with socket.socket() as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # past TIME_WAIT
        squatter.bind(("127.0.0.1", flask.port))
        squatter.listen()
        with pytest.raises(DeploymentError, match=f"port {flask.port} .* already in use"):
            start(flask, log_path=tmp_path / "server.log")
    assert not (tmp_path / "server.log").exists()


def test_a_deployment_that_exits_during_start_up_is_reported_with_its_log(tmp_path):
    manifest = tmp_path / "deployment.toml"
    manifest.write_text(
        'name = "broken"\nframework = "flask"\nport = 8199\nscenarios = ["api_single"]\n'
        'command = ["{python}", "-c", "import sys; print(\'model missing\'); sys.exit(3)"]\n'
    )
    running = start(load(manifest), log_path=tmp_path / "server.log")
    try:
        with pytest.raises(DeploymentError, match=r"exited with code 3(.|\n)*model missing"):
            wait_healthy(running, timeout_s=20)
    finally:
        stop(running)


def descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signalled_run_stops_everything_and_keeps_what_finished(tmp_path, signum):
    runner = subprocess.Popen(
        [sys.executable, "-m", "bench", "run", "--profile", "quick", "--only", "flask",
         "--results", str(tmp_path), "--wait"],
        cwd=PROJECT_ROOT, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    seen: list[psutil.Process] = []
    try:
        for line in runner.stderr:  # wait until the first load level runs
            if line.startswith("[2/"):
                break
        seen = [p for p in descendants(runner.pid) if "gunicorn" in " ".join(p.cmdline())]
        assert seen, "no server was running when the signal was sent"
        runner.send_signal(signum)
        assert runner.wait(timeout=60) == 130
    finally:
        if runner.poll() is None:
            runner.kill()
    time.sleep(0.5)
    assert not [p for p in seen if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    [run_dir] = [p for p in tmp_path.iterdir() if p.is_dir() and not p.is_symlink()]
    info = json.loads((run_dir / "run.json").read_text())
    assert info["status"] == "interrupted"
    rows = read_rows(run_dir / "results.csv")  # whole, with the level that finished
    assert {r.scenario for r in rows} >= {"api_single"}
    assert not list(run_dir.glob(".*.tmp"))
