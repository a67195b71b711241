"""`python -m bench worker --master HOST`: Locust workers on a load-generator host other than
the runner's, level after level.

    python -m bench worker --master HOST [--master-port 5557] [--once] [--cores 0-3]
        [--model NAME]

The runner's host (HOST) starts one Locust master per load level; it expects this host's worker
among its own (`python -m bench run --remote-workers M --master-bind 0.0.0.0 --master-port P`).
A Locust worker exits when its master quits, so this command starts one worker process per
level: it waits until the master's port answers, starts `locust --worker -f -` (the master
sends its locustfile; that locustfile imports bench.*, found in this host's own checkout),
waits for it to end with the level, waits for that master to be gone, and starts the next.

The worker sends the lines of its per-request log to the master with its stats reports, so the
runner's log holds this host's requests too (bench/scenarios/support.py). Its request bodies
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
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from bench import PROJECT_ROOT
from bench.cli_util import say
from bench.loadgen import DEFAULT_MASTER_PORT
from bench.manifest import Deployment, project_pythonpath
from bench.payloads import write_payload_file
from bench.process import available_cores
from bench.scenarios import PAYLOADS_ENV, REQUEST_LOG_ENV, WINDOW_ENV
from shared_model.model import MODEL_NAMES, load_model

EXIT_FAILED = 1
PROBE_TIMEOUT_S = 2.0
RETRY_INTERVAL_S = 0.5
# While the master cannot be reached, say so once per this many seconds (not every retry).
UNREACHABLE_NOTICE_S = 30.0
# After a level, the master that ran it takes a moment to exit. A worker started meanwhile could
# be handed that master's locustfile; waiting for it to go (bounded: the next master may already
# listen on the same port) avoids that.
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


def core_list(text: str) -> list[int]:
    """'0-3' or '0,2' (or both: '0-1,4') as a sorted list of core numbers."""
    cores: set[int] = set()
    try:
        for part in filter(None, (p.strip() for p in text.split(","))):
            first, dash, last = part.partition("-")
            cores.update(range(int(first), int(last if dash else first) + 1))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected cores such as 0-3 or 0,2, not {text!r}"
        ) from None
    if not cores:
        raise argparse.ArgumentTypeError(f"no core in {text!r}")
    return sorted(cores)


def run(args: argparse.Namespace, deployments: list[Deployment]) -> int:
    """Serve level after level (or one, with --once); Ctrl-C propagates as KeyboardInterrupt."""
    del deployments  # the master names the target; this host needs no deployment
    cores = args.cores or available_cores()
    model = load_model(name=args.model)  # a tampered artifact stops the worker before it starts
    with tempfile.TemporaryDirectory(prefix="bench-worker-") as folder:
        payload_file = Path(folder) / "payloads.json"
        write_payload_file(model, payload_file)
        say(
            f"Locust worker for master {args.master}:{args.master_port}, cores "
            f"{','.join(map(str, cores))}, answers of model {model.metadata['name']}; "
            "Ctrl-C stops it"
        )
        return serve_levels(args.master, args.master_port, payload_file, cores, args.once)


def serve_levels(host: str, port: int, payload_file: Path, cores: Sequence[int], once: bool) -> int:
    """One Locust worker per level, for ever (or for one level: its outcome as exit code)."""
    level = 0
    while True:
        # Between levels the master is away for a moment: no need to say so at once.
        wait_for_master(host, port, quiet_s=UNREACHABLE_NOTICE_S * (level > 0))
        level += 1
        code = run_locust_worker(host, port, payload_file, cores)
        say(f"level {level} ended" + (f" with Locust exit code {code}" if code else ""))
        if once:
            return 0 if code == 0 else EXIT_FAILED
        wait_until_gone(host, port, OLD_MASTER_EXIT_WAIT_S)


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


def run_locust_worker(host: str, port: int, payload_file: Path, cores: Sequence[int]) -> int:
    """One Locust worker, for one level: its exit code once its master has quit."""
    env = {**os.environ, "PYTHONPATH": project_pythonpath(), PAYLOADS_ENV: str(payload_file)}
    for name in (REQUEST_LOG_ENV, WINDOW_ENV):  # the master's business
        env.pop(name, None)
    argv = [
        sys.executable, "-m", "locust", "-f", "-", "--worker",
        "--master-host", host, "--master-port", str(port), "--loglevel", "WARNING",
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
