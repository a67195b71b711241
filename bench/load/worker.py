"""`python -m bench worker --master HOST`: Locust workers on a load-generator host other than
the runner's, load run after load run.

    python -m bench worker --master HOST [--master-port 5557] [--once] [--cores 0-3]
        [--model NAME] [--secret-file FILE]

The runner's host (HOST) starts one Locust master per load run (one deployment's scenario,
stepped through its levels: bench/load/scenarios/steps.py); it expects this host's worker
among its own (`python -m bench run --remote-workers M`, reached through an SSH tunnel, or with
`--master-bind ADDR`). A Locust worker exits when its master quits, so this command starts one
worker process per load run: it waits until the master's port answers, asks the master which
scenario it runs (a signed question and answer: bench/load/peer_auth.py), and starts a Locust
worker on this host's own copy of that scenario, only if the digest of this checkout's scenario
code equals the master's. It never runs code the master sends. It waits for the worker to end
with the run, waits for that master to be gone, and asks again for the next.

Its hello and its stats reports (which carry its request-log lines) are signed with the run's
secret (the runner's secret file, copied here and given by --secret-file, or
$BENCH_WORKER_SECRET): a master refuses and records every peer that cannot
sign, and such a run is INVALID. Locust's control messages (heartbeats, spawn orders) are not
signed: run over an SSH tunnel (README), which also encrypts.

The worker sends the lines of its per-request log to the master with its stats reports, so the
runner's log holds this host's requests too (bench/load/scenarios/support.py). Its request bodies
and expected answers are computed here, once, from this host's model: the same seeds give the
same bodies as the runner's. The model must be the one the measured deployment serves:
`--model` (default SHARED_MODEL_NAME, else iris-logreg). With another one, every interaction
this worker sends fails as a wrong prediction, so the level reports failures. The hosts' clocks
must agree (NTP): each request is logged with its sender's clock, and the master cuts the window
from them.

Exit code (with --once): 0 when the level's worker ended cleanly, 1 otherwise (Locust exits 1
when a request failed); 130 on Ctrl-C, which stops the Locust worker first (it tells its
master it quit).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import msgpack
import zmq

from bench import PROJECT_ROOT
from bench.cli.console import say
from bench.clients.payloads import write_payload_file
from bench.load.locust import DEFAULT_MASTER_PORT
from bench.load.peer_auth import (
    DEFAULT_SECRET_FILE,
    LEVEL,
    LEVEL_QUERY,
    MAC_KEY,
    REFUSALS_ENV,
    SECRET_ENV,
    SESSION_ENV,
    SecretError,
    read_secret,
    scenario_digest,
    scenario_file,
    sign,
    signed_by,
)
from bench.load.scenarios import PAYLOADS_ENV, REQUEST_LOG_ENV, STEPS_ENV
from bench.targets.cores import available_cores, core_list
from bench.targets.manifest import Deployment, project_pythonpath
from shared_model.model import MODEL_NAMES, load_model

EXIT_FAILED = 1
PROBE_TIMEOUT_S = 2.0
RETRY_INTERVAL_S = 0.5
# While the master cannot be reached, say so once per this many seconds (not every retry).
UNREACHABLE_NOTICE_S = 30.0
# After a level, the master that ran it takes a moment to exit; it answers "busy" to a level
# query meanwhile. Waiting for it to go (bounded: the next master may already listen on the same
# port, and an SSH tunnel's end always accepts) saves asking it again and again.
OLD_MASTER_EXIT_WAIT_S = 5.0
# A Locust worker given SIGTERM shuts down (and tells its master); one still there is killed.
STOP_GRACE_S = 5.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare this command's options on its subparser."""
    parser.add_argument(
        "--master", required=True, metavar="HOST", help="the runner's host (its Locust master)"
    )
    parser.add_argument(
        "--master-port", type=int, default=DEFAULT_MASTER_PORT, metavar="P",
        help=f"the master's port: the runner's --master-port (default {DEFAULT_MASTER_PORT})",
    )  # fmt: skip
    parser.add_argument(
        "--once", action="store_true", help="serve one load level, then exit with its outcome"
    )
    parser.add_argument(
        "--cores", type=core_list, metavar="LIST",
        help="cores to pin the Locust worker to, e.g. 0-3 or 0,2 (default: all)",
    )  # fmt: skip
    parser.add_argument(
        "--model", choices=MODEL_NAMES,
        help="the model the measured deployment serves (default: $SHARED_MODEL_NAME, else "
        "iris-logreg): its answers are what this worker expects",
    )  # fmt: skip
    parser.add_argument(
        "--secret-file", type=Path, metavar="FILE",
        help=f"the runner's worker secret (without it: ${SECRET_ENV}, else {DEFAULT_SECRET_FILE})",
    )  # fmt: skip


def run(args: argparse.Namespace, deployments: list[Deployment]) -> int:
    """Serve level after level (or one, with --once); Ctrl-C propagates as KeyboardInterrupt."""
    del deployments  # the master names the scenario; this host needs no deployment
    cores = args.cores or available_cores()
    secret = read_secret(args.secret_file)  # no secret, no worker: said before anything starts
    model = load_model(name=args.model)  # a tampered artifact stops the worker before it starts
    # Private (mode 0700): nothing another user of this host plants there reaches the worker.
    with tempfile.TemporaryDirectory(prefix="bench-worker-") as folder:
        payload_file = Path(folder) / "payloads.json"
        write_payload_file(model, payload_file)
        say(
            f"Locust worker for master {args.master}:{args.master_port}, cores "
            f"{','.join(map(str, cores))}, answers of model {model.metadata['name']}; "
            "Ctrl-C stops it"
        )
        host = Master(args.master, args.master_port, secret, Path(folder))
        return serve_levels(host, payload_file, cores, args.once)


@dataclass(frozen=True)
class Master:
    """The master this worker serves, the secret it proves, and its private temp folder."""

    host: str
    port: int
    secret: str
    private_dir: Path


@dataclass(frozen=True)
class Level:
    scenario: str
    digest: str
    session: str


def serve_levels(master: Master, payload_file: Path, cores: Sequence[int], once: bool) -> int:
    """One Locust worker per load run, for ever (or for one run: its outcome as exit code)."""
    level = 0
    while True:
        # Between levels the master is away for a moment: no need to say so at once.
        wait_for_master(master.host, master.port, quiet_s=UNREACHABLE_NOTICE_S * (level > 0))
        found = ask_level(master)
        if found is None:  # no answer yet, or a master done with its level
            time.sleep(RETRY_INTERVAL_S)
            continue
        level += 1
        problem = code_mismatch(found)
        if problem:
            say(f"refusing level {level}: {problem}")
            return EXIT_FAILED
        code = run_locust_worker(master, found, payload_file, cores)
        say(
            f"level {level} ended ({found.scenario})"
            + (f" with Locust exit code {code}" if code else "")
        )
        if once:
            return 0 if code == 0 else EXIT_FAILED
        wait_until_gone(master.host, master.port, OLD_MASTER_EXIT_WAIT_S)


def ask_level(master: Master, timeout_s: float = PROBE_TIMEOUT_S) -> Level | None:
    """The scenario the master runs, asked over its own port in Locust's message format (without
    importing locust, which would patch this process with gevent); None while it takes no
    worker. Raises SecretError when the master refuses this worker's secret."""
    nonce = secrets.token_hex(16)
    identity = f"bench-query-{nonce}"
    query = (
        LEVEL_QUERY,
        {"nonce": nonce, MAC_KEY: sign(master.secret, LEVEL_QUERY, nonce)},
        identity,
    )
    context = zmq.Context()
    sock = context.socket(zmq.DEALER)
    try:
        sock.setsockopt(zmq.LINGER, 0)
        sock.setsockopt(zmq.IDENTITY, identity.encode())
        sock.connect(f"tcp://{master.host}:{master.port}")
        sock.send(msgpack.dumps(query))
        if not sock.poll(int(timeout_s * 1000)):
            return None
        kind, data, _ = msgpack.loads(sock.recv(), raw=False)
    except (zmq.ZMQError, ValueError, TypeError, msgpack.ExtraData):
        return None
    finally:
        sock.close()
        context.term()
    if kind != LEVEL or not isinstance(data, dict):
        return None
    if "refused" in data:
        raise SecretError(
            f"the master at {master.host}:{master.port} refused this worker: {data['refused']}"
        )
    if "busy" in data:
        return None
    found = Level(str(data.get("scenario")), str(data.get("digest")), str(data.get("session")))
    if not signed_by(
        master.secret, data.get(MAC_KEY), LEVEL, nonce, found.scenario, found.digest, found.session
    ):
        raise SecretError(
            f"the answer from {master.host}:{master.port} is not signed with this worker's secret"
        )
    return found


def code_mismatch(level: Level) -> str | None:
    """Why this checkout must not run the master's level, or None when its code is the same."""
    try:
        scenario_file(level.scenario)
    except ValueError as exc:
        return str(exc)
    here = scenario_digest(level.scenario)
    if here != level.digest:
        return (
            f"this checkout's scenario code differs from the master's (digest {here[-12:]} here, "
            f"{level.digest[-12:]} there): check out the runner's commit on this host"
        )
    return None


def wait_for_master(host: str, port: int, quiet_s: float = 0.0) -> None:
    """Return once something listens on host:port; while nothing does, say why after `quiet_s`,
    then once per UNREACHABLE_NOTICE_S."""
    noticed = time.monotonic() + quiet_s - UNREACHABLE_NOTICE_S
    while (error := unreachable(host, port)) is not None:
        if time.monotonic() - noticed >= UNREACHABLE_NOTICE_S:
            say(f"Locust master {host}:{port} not reachable ({error}); retrying")
            noticed = time.monotonic()
        time.sleep(RETRY_INTERVAL_S)


def wait_until_gone(host: str, port: int, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while unreachable(host, port) is None and time.monotonic() < deadline:
        time.sleep(0.1)


def unreachable(host: str, port: int) -> str | None:
    """Why a TCP connection to host:port fails, or None when it succeeds."""
    try:
        with socket.create_connection((host, port), timeout=PROBE_TIMEOUT_S):
            return None
    except OSError as exc:
        return exc.strerror or str(exc) or type(exc).__name__


def run_locust_worker(
    master: Master, level: Level, payload_file: Path, cores: Sequence[int]
) -> int:
    """One Locust worker on this checkout's locustfile, for one level: its exit code once its
    master has quit."""
    env = {
        **os.environ,
        "PYTHONPATH": project_pythonpath(),
        PAYLOADS_ENV: str(payload_file),
        SECRET_ENV: master.secret,
        SESSION_ENV: level.session,
        "TMPDIR": str(master.private_dir),
    }
    for name in (REQUEST_LOG_ENV, STEPS_ENV, REFUSALS_ENV):  # the master's business
        env.pop(name, None)
    argv = [
        sys.executable, "-m", "locust", "-f", str(scenario_file(level.scenario)), "--worker",
        "--master-host", master.host, "--master-port", str(master.port), "--loglevel", "WARNING",
    ]  # fmt: skip
    # Its own session, so that stopping its process group reaches whatever it started.
    process = subprocess.Popen(
        argv,
        cwd=PROJECT_ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        preexec_fn=lambda: os.sched_setaffinity(0, cores),
    )
    try:
        return process.wait()
    finally:
        stop(process)


def stop(process: subprocess.Popen) -> None:
    """SIGTERM (Locust then tells its master it quit), SIGKILL if it lingers."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=STOP_GRACE_S)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
