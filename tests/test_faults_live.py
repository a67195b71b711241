"""The harness under faults: a clear message, the right exit code, no orphan process, no
half-written result.

The runs of `python -m bench run` start real servers on the manifests' ports (Flask's 8101),
which only this file's tests use, one at a time, each under a bench lock of its own; the other
live tests use ports the OS picks; the tests of broken manifests and plans start nothing.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
from functools import partial

import psutil
import pytest

import bench.cli.main as cli
from bench import DEPLOYMENTS_DIR, PROJECT_ROOT
from bench.store.table import read_rows
from bench.targets.manifest import discover, load, select
from bench.targets.servers import DeploymentError, port_in_use, start, stop, wait_healthy
from tests.live import descendants, free_port, own_lock_env, still_alive, wait_until


@pytest.mark.live
def test_a_busy_port_is_named_and_nothing_is_started(tmp_path):
    [flask] = select(discover(), ["flask"])
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))  # a port the OS picks, held by this test
        squatter.listen()
        port = squatter.getsockname()[1]
        with pytest.raises(DeploymentError, match=f"port {port} .* already in use"):
            start(dataclasses.replace(flask, port=port), log_path=tmp_path / "server.log")
    assert not (tmp_path / "server.log").exists()


@pytest.mark.live
def test_a_deployment_that_exits_during_start_up_is_reported_with_its_log(tmp_path):
    manifest = tmp_path / "deployment.toml"
    manifest.write_text(
        f'name = "broken"\nframework = "flask"\nport = {free_port()}\nscenarios = ["api_single"]\n'
        'command = ["{python}", "-c", "import sys; print(\'model missing\'); sys.exit(3)"]\n'
    )
    running = start(load(manifest), log_path=tmp_path / "server.log")
    try:
        with pytest.raises(DeploymentError, match=r"exited with code 3(.|\n)*model missing"):
            wait_healthy(running, timeout_s=20)
    finally:
        stop(running)


# Two levels of short windows, without the extras (SLO search, model variant, worker counts,
# other configurations' probes): the faults under test happen during the load levels.
FAULTS_PLAN = """
[profiles.faults]
levels = [1, 16]
window_s = 1
warmup_s = 0.5
repetitions = 1
cold_starts = 0
configs = ["default"]
probe_configs = "measured"
tampered_model_probe = false
"""


def faults_run(tmp_path) -> subprocess.Popen:
    """`python -m bench run` of Flask with FAULTS_PLAN, its stderr piped."""
    plan = tmp_path / "plan.toml"
    plan.write_text(FAULTS_PLAN)
    results = tmp_path / "results"
    return subprocess.Popen(
        [sys.executable, "-m", "bench", "run", "--plan", str(plan), "--profile", "faults",
         "--only", "flask", "--results", str(results), "--wait"],
        cwd=PROJECT_ROOT, stderr=subprocess.PIPE, text=True, env=own_lock_env(tmp_path),
    )  # fmt: skip


def stored_run(tmp_path):
    [run_dir] = [p for p in (tmp_path / "results").iterdir() if p.is_dir() and not p.is_symlink()]
    return run_dir


# Each signal at another step: SIGINT while Locust loads the server in the second load run
# (api_batch: api_single's has finished), SIGTERM while the first server is being verified
# (before any level). The same handler serves both.
SIGNALLED_AT = {signal.SIGINT: "[3-4/", signal.SIGTERM: "verifying "}


@pytest.mark.live
@pytest.mark.parametrize("signum", list(SIGNALLED_AT), ids=["SIGINT", "SIGTERM"])
def test_a_signalled_run_stops_everything_and_keeps_what_finished(tmp_path, signum):
    runner = faults_run(tmp_path)
    seen: list[psutil.Process] = []
    try:
        for line in runner.stderr:  # wait until the run reaches its step
            if line.startswith(SIGNALLED_AT[signum]):
                break
        seen = wait_until(
            lambda: [p for p in descendants(runner.pid) if "gunicorn" in " ".join(p.cmdline())],
            60, "a server of the run", watched=runner,
        )  # fmt: skip
        runner.send_signal(signum)
        assert runner.wait(timeout=60) == 130
    finally:
        if runner.poll() is None:
            runner.kill()
    assert not still_alive(seen)
    run_dir = stored_run(tmp_path)
    info = json.loads((run_dir / "run.json").read_text())
    assert info["status"] == "interrupted"
    rows = read_rows(run_dir / "results.csv")  # whole, with what had finished
    finished = {"api_single"} if signum == signal.SIGINT else {"code_size"}
    assert {r.scenario for r in rows} >= finished
    assert not list(run_dir.glob(".*.tmp"))


def gunicorn_masters(runner_pid: int) -> list[psutil.Process]:
    """The servers the runner started itself (gunicorn masters; their workers are below them)."""
    masters = []
    with contextlib.suppress(psutil.Error):
        for child in psutil.Process(runner_pid).children():
            with contextlib.suppress(psutil.Error):
                if "gunicorn" in " ".join(child.cmdline()):
                    masters.append(child)
    return masters


@pytest.mark.live
def test_a_server_killed_during_a_level_fails_that_level_and_the_run_goes_on(tmp_path):
    [flask] = select(discover(), ["flask"])
    runner = faults_run(tmp_path)
    seen: set[psutil.Process] = set()
    killed: list[psutil.Process] = []
    log: list[str] = []
    try:
        for line in runner.stderr:
            log.append(line)
            seen.update(descendants(runner.pid))
            if not killed and line.startswith("[1-2/"):  # api_single's load run begins
                # its first step (1 user) has ended: Locust is at the second (16 users)
                wait_until(lambda: steps_done(tmp_path, "api_single") >= 1, 30,
                           "the first step's boundaries", watched=runner)  # fmt: skip
                wait_until(lambda: loading(runner.pid), 30, "Locust's users", watched=runner)
                [master] = gunicorn_masters(runner.pid)
                killed = [master, *master.children(recursive=True)]
                os.killpg(master.pid, signal.SIGKILL)  # the whole server, as the OOM killer might
        assert runner.wait(timeout=60) == 1, "".join(log[-30:])
    finally:
        if runner.poll() is None:
            runner.kill()
    assert killed, "the run never reached its second level:\n" + "".join(log[-30:])

    assert not still_alive(seen)
    assert not port_in_use(flask.port)
    run_dir = stored_run(tmp_path)
    info = json.loads((run_dir / "run.json").read_text())
    assert info["status"] == "partial"
    [failed] = info["deployments"]["flask"]["levels_failed"]
    assert (failed["scenario"], failed["users"]) == ("api_single", 16)
    assert "the server exited (code -9) during the load" in failed["reason"]
    assert any("level failed: the server exited" in line for line in log)
    # what was measured before and after the kill is kept: the next level restarted the server
    rows = read_rows(run_dir / "results.csv")
    measured = {(r.scenario, r.users) for r in rows if r.metric == "interactions" and r.value > 0}
    assert {("api_single", 1), ("api_batch", 1), ("api_batch", 16), ("form", 16)} <= measured
    assert not list(run_dir.glob(".*.tmp"))


def steps_done(tmp_path, scenario: str) -> int:
    """How many steps of the scenario's load run have written their boundaries."""
    found = list((tmp_path / "results").glob(f"*/raw/*-{scenario}-r1.steps.jsonl"))
    return len(found[0].read_text().splitlines()) if found else 0


def loading(runner_pid: int) -> bool:
    """Whether a Locust process of the run has a connection open to a server."""
    for proc in descendants(runner_pid):
        with contextlib.suppress(psutil.Error):
            if "locust" in " ".join(proc.cmdline()) and proc.net_connections(kind="tcp"):
                return True
    return False


def refuse_to_start(*args, **kwargs):
    raise AssertionError(f"a process was started: {args[0] if args else kwargs}")


@pytest.fixture
def cli_starting_nothing(monkeypatch):
    """main() as `python -m bench` runs it, with any process start or benchmark a failure, and
    pytest's own signal handlers left alone."""
    monkeypatch.setattr(cli, "signals_as_interrupt", lambda: None)
    monkeypatch.setattr(cli, "run_benchmark", refuse_to_start)
    monkeypatch.setattr(subprocess, "Popen", refuse_to_start)
    return monkeypatch


def broken_deployments(tmp_path, manifest_text: str):
    """A deployments folder holding a copy of Flask's folder with another manifest."""
    folder = tmp_path / "deployments"
    shutil.copytree(DEPLOYMENTS_DIR / "flask_app", folder / "flask_app")
    manifest = folder / "flask_app" / "deployment.toml"
    manifest.write_text(manifest_text)
    return folder, manifest


FLASK_MANIFEST = (DEPLOYMENTS_DIR / "flask_app" / "deployment.toml").read_text()


@pytest.mark.parametrize(
    ("manifest_text", "problem"),
    [
        (
            "\n".join(x for x in FLASK_MANIFEST.splitlines() if not x.startswith("port")),
            "missing required key(s) ['port']",
        ),
        (FLASK_MANIFEST.replace("port = 8101", "port = [8101"), "cannot read manifest"),
        (FLASK_MANIFEST.replace("port = 8101", 'port = "8101"'), "port must be a whole number"),
        (
            FLASK_MANIFEST + '\n[configs.fast]\nargs = "--fast"\n',
            "configs.fast: args must be a list of strings",
        ),
    ],
    ids=["missing field", "malformed TOML", "wrong type", "wrong type in a config"],
)
@pytest.mark.parametrize("command", [["list"], ["run", "--only", "flask"]], ids=["list", "run"])
def test_a_broken_manifest_stops_the_command_with_its_file_and_problem(
    tmp_path, capsys, cli_starting_nothing, manifest_text, problem, command
):
    folder, manifest = broken_deployments(tmp_path, manifest_text)
    cli_starting_nothing.setattr(cli, "discover", partial(discover, folder))
    results = tmp_path / "results"
    argv = [*command, "--results", str(results)] if command[0] == "run" else command
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert f"error: {manifest}: " in err and problem in err
    assert not results.exists()


@pytest.mark.parametrize(
    ("plan_text", "problem"),
    [
        ("[profiles.x]\nlevels = [1, 8\n", "cannot read plan profiles"),
        ("[profiles.x]\nlevels = [1, 8]\n", "profile 'x': missing required key 'window_s'"),
        ("[profiles.x]\nlevels = [1, -8]\nwindow_s = 3\n", "positive user counts, not [1, -8]"),
        (
            '[profiles.x]\nlevels = [1]\nwindow_s = 3\nconfigs = "default"\n',
            'configs must be "all" or a list of config names',
        ),
        ("[profiles.y]\nlevels = [1]\nwindow_s = 3\n", "no profile 'x'; it has ['y']"),
    ],
    ids=["malformed TOML", "missing key", "negative level", "wrong type", "unknown profile"],
)
def test_a_broken_plan_stops_the_run_with_its_file_and_problem(
    tmp_path, capsys, cli_starting_nothing, plan_text, problem
):
    plan = tmp_path / "plan.toml"
    plan.write_text(plan_text)
    results = tmp_path / "results"
    argv = ["run", "--plan", str(plan), "--profile", "x", "--only", "flask"]
    assert cli.main([*argv, "--results", str(results)]) == 2
    err = capsys.readouterr().err
    assert f"error: {plan}: " in err and problem in err
    assert not results.exists()


def test_a_signal_during_a_start_stops_what_it_started_then_is_raised(monkeypatch):
    """The raise waits until start() has returned: what it spawned is stopped, not orphaned."""
    from bench.cli import console as cli_util

    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    stopped = []

    def start():
        os.kill(os.getpid(), signal.SIGTERM)  # lands while the start is under way
        for _ in range(1000):  # give the interpreter its chances to run the handler here
            pass
        return "server"

    try:
        cli_util.signals_as_interrupt()
        with pytest.raises(KeyboardInterrupt):
            cli_util.spawning(stopped.append)(start)()
    finally:
        for signum, handler in before.items():
            signal.signal(signum, handler)
        cli_util._interrupted.clear()
    assert stopped == ["server"]
