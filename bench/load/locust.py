"""Run one stepped Locust load run as subprocesses, pinned to the load generator's cores.

One process by default; with `locust_workers` or `remote_workers` >= 1, Locust's own
distributed mode: a headless master that runs no users, `locust_workers` workers started here,
and `remote_workers` that connect from other hosts (`python -m bench worker` there). Workers
send their per-request log lines to the master with their stats reports
(bench/load/scenarios/support.py): the master's log is the run's only one, wherever its workers ran.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil

from bench import PROJECT_ROOT
from bench.cli.console import spawning
from bench.load.peer_auth import REFUSALS_ENV, SECRET_ENV, SESSION_ENV, new_secret
from bench.load.scenarios import PAYLOADS_ENV, REQUEST_LOG_ENV, STEPS_ENV
from bench.load.spec import LoadSpec, steps_setting
from bench.targets.manifest import project_pythonpath

SCENARIO_DIR = Path(__file__).resolve().parent / "scenarios"
LOOPBACK = "127.0.0.1"
# Addresses that bind every interface: local workers still reach such a master on loopback.
ANY_INTERFACE = frozenset({"0.0.0.0", "*", "::", ""})
# Locust's own default master port: the one `python -m bench worker` tries unless told another.
DEFAULT_MASTER_PORT = 5557
# A Locust process asked to quit by a signal has this long to flush its log and exit.
STOP_GRACE_S = 5.0
# Workers leave as soon as their master tells them to quit; one still there after this is stuck.
WORKER_EXIT_GRACE_S = 10.0
# A master whose workers have not all connected by then gives up, with "Gave up waiting for
# workers to connect" in its log (a worker failed to start, or a remote host runs none).
WORKERS_CONNECT_TIMEOUT_S = 30


@dataclass
class LocustRun:
    # The single process, or the master followed by the workers started on this host.
    processes: list[subprocess.Popen]
    # The one per-request log: the single process's, or the master's (every worker's requests).
    request_logs: list[Path]
    # Console output, in the order of `processes`.
    output_logs: list[Path]
    # A distributed run's record of the peer messages its master refused (bench/load/peer_auth.py).
    refusals_log: Path | None = None

    @property
    def process(self) -> subprocess.Popen:
        """The process that ends the run: the single one, or the master."""
        return self.processes[0]

    @property
    def workers(self) -> list[subprocess.Popen]:
        """The workers started on this host (remote ones are not ours to wait for or kill)."""
        return self.processes[1:]

    @property
    def request_log(self) -> Path:
        return self.request_logs[0]

    @property
    def output_log(self) -> Path:
        return self.output_logs[0]

    def tree(self) -> list[psutil.Process]:
        tree: list[psutil.Process] = []
        for process in self.processes:
            with contextlib.suppress(psutil.NoSuchProcess):
                root = psutil.Process(process.pid)
                tree += [root, *root.children(recursive=True)]
        return tree


def locustfile(scenario: str) -> Path:
    return SCENARIO_DIR / f"{scenario}.py"


@spawning(lambda run: kill_locust(run))
def start_locust(spec: LoadSpec, boundaries: Path) -> LocustRun:
    """Start `locust --headless` for the whole of `spec`: it steps through the spec's levels by
    itself (bench/load/scenarios/steps.py), writes each step's boundaries to `boundaries`, and
    quits after the last. Each step's users all start within a second.

    With workers (spec.workers) the users are shared among that many worker processes under a
    master that expects them all: the local ones started here, pinned to the spec's cores with
    the master, and the remote ones connecting from other hosts to the master's bind address
    (0.0.0.0 for those) and port (a free port when None: only local workers can find that
    one). The master gives up with an error in its log if they have not all connected within
    WORKERS_CONNECT_TIMEOUT_S. Workers prove the secret (a fresh one when None: only local
    workers can know that one) and this run's session token to the master, which refuses and
    records any other peer in `refusals_log`.
    """
    workers = spec.workers
    if workers.local < 0 or workers.remote < 0:
        raise ValueError(
            f"worker counts must be 0 or more, not {workers.local} local, {workers.remote} remote"
        )
    if workers.remote and not workers.secret:
        raise ValueError("remote workers need the run's worker secret, which they were given")
    env = {
        **os.environ,
        "PYTHONPATH": project_pythonpath(),
        PAYLOADS_ENV: str(spec.payload_file),
        STEPS_ENV: json.dumps(steps_setting(spec, boundaries)),
        **spec.env,
    }
    env.pop(REQUEST_LOG_ENV, None)  # the single process's or the master's only: workers send
    command = [sys.executable, "-m", "locust", "-f", str(locustfile(spec.scenario))]
    command += ["--loglevel", "WARNING"]
    out_prefix = spec.out_prefix
    load = ["--headless", "--host", spec.base_url, "--csv", str(out_prefix), "--only-summary"]
    output_log = out_prefix.with_suffix(".locust.log")
    request_log = out_prefix.with_suffix(".requests.csv")
    if not workers.distributed:
        env[REQUEST_LOG_ENV] = str(request_log)
        process = _spawn(command + load, env, output_log, spec.cores)
        return LocustRun([process], [request_log], [output_log])

    port = workers.master_port or free_port(workers.master_bind)
    master = [
        *command, *load, "--master", "--expect-workers", str(workers.local + workers.remote),
        "--expect-workers-max-wait", str(WORKERS_CONNECT_TIMEOUT_S),
        "--master-bind-host", workers.master_bind, "--master-bind-port", str(port),
    ]  # fmt: skip
    env[SECRET_ENV] = workers.secret or new_secret()
    env[SESSION_ENV] = secrets.token_hex(16)  # a message from another run is refused
    refusals_log = out_prefix.with_suffix(".refused.jsonl")
    master_env = {**env, REQUEST_LOG_ENV: str(request_log), REFUSALS_ENV: str(refusals_log)}
    run = LocustRun(
        [_spawn(master, master_env, output_log, spec.cores)],
        [request_log],
        [output_log],
        refusals_log,
    )
    reach = LOOPBACK if workers.master_bind in ANY_INTERFACE else workers.master_bind
    worker = [*command, "--worker", "--master-host", reach, "--master-port", str(port)]
    try:
        for index in range(1, workers.local + 1):
            worker_log = out_prefix.with_suffix(f".w{index}.locust.log")
            run.processes.append(_spawn(worker, env, worker_log, spec.cores))
            run.output_logs.append(worker_log)
    except BaseException:
        kill_locust(run)
        raise
    return run


def free_port(host: str = LOOPBACK) -> int:
    """A port nothing listens on now (the OS picks it), for a master to bind at once."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("" if host in ANY_INTERFACE else host, 0))
        return sock.getsockname()[1]


def _spawn(
    argv: list[str], env: Mapping[str, str], output_log: Path, cores: Sequence[int]
) -> subprocess.Popen:
    # Its own session, so that killing its process group reaches whatever it started.
    with output_log.open("wb") as log:
        return subprocess.Popen(
            argv,
            cwd=PROJECT_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=lambda: os.sched_setaffinity(0, cores),
        )


def wait_locust(run: LocustRun, timeout_s: float, between: Callable[[], None] | None = None) -> int:
    """Wait for Locust to end by itself (a master, once its workers have sent their last
    reports and quit); kill it all (and say so) if it overstays. Returns the exit code of the
    single process or the master (bench.load.scenarios.INCOMPLETE_LOG_EXIT_CODE: a worker's last
    log lines never came). `between` runs every second while waiting (e.g. to raise on a signal
    whose KeyboardInterrupt CPython dropped); whatever it raises ends the wait."""
    try:
        code = _wait_in_slices(run.process, timeout_s, between)
        # The local workers have quit by now or are about to; one that stays is stuck.
        deadline = time.monotonic() + WORKER_EXIT_GRACE_S
        for worker in run.workers:
            worker.wait(timeout=max(0.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        kill_locust(run)
        raise
    return code


def _wait_in_slices(
    process: subprocess.Popen, timeout_s: float, between: Callable[[], None] | None
) -> int:
    deadline = time.monotonic() + timeout_s
    while True:
        if between is not None:
            between()
        left = deadline - time.monotonic()
        try:
            return process.wait(timeout=max(0.0, min(1.0, left)))
        except subprocess.TimeoutExpired:
            if left <= 1.0:
                raise


def stop_locust(run: LocustRun, grace_s: float = STOP_GRACE_S) -> None:
    """Ask every process to quit (Locust flushes its log and reports on SIGTERM), then kill
    what is left after `grace_s`."""
    for process in run.processes:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    for process in run.processes:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
    kill_locust(run)


def kill_locust(run: LocustRun) -> None:
    for process in run.processes:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
    for process in run.processes:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)
