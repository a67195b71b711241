"""Run one Locust load window as a subprocess, pinned to the load generator's cores."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil

from bench import PROJECT_ROOT
from bench.manifest import project_pythonpath
from bench.scenarios import PAYLOADS_ENV, REQUEST_LOG_ENV, WINDOW_ENV

SCENARIO_DIR = Path(__file__).resolve().parent / "scenarios"


@dataclass
class LocustRun:
    process: subprocess.Popen
    request_log: Path
    output_log: Path

    def tree(self) -> list[psutil.Process]:
        try:
            root = psutil.Process(self.process.pid)
            return [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []


def locustfile(scenario: str) -> Path:
    return SCENARIO_DIR / f"{scenario}.py"


def start_locust(
    scenario: str,
    host: str,
    users: int,
    warmup_s: float,
    window_s: float,
    max_run_time_s: float,
    out_prefix: Path,
    cores: Sequence[int],
    payload_file: Path,
    extra_env: Mapping[str, str] | None = None,
) -> LocustRun:
    """Start `locust --headless` for one level; all users start within a second.

    Locust stops itself when the window after the first interaction is over; max_run_time_s
    only bounds a run whose users never get going.
    """
    request_log = out_prefix.with_suffix(".requests.csv")
    output_log = out_prefix.with_suffix(".locust.log")
    env = {
        **os.environ,
        "PYTHONPATH": project_pythonpath(),
        REQUEST_LOG_ENV: str(request_log),
        PAYLOADS_ENV: str(payload_file),
        WINDOW_ENV: f"{warmup_s},{window_s}",
        **(extra_env or {}),
    }
    argv = [
        sys.executable, "-m", "locust", "-f", str(locustfile(scenario)), "--headless",
        "--host", host, "--users", str(users), "--spawn-rate", str(users),
        "--run-time", f"{max_run_time_s:.0f}s",
        "--csv", str(out_prefix), "--only-summary", "--loglevel", "WARNING",
    ]  # fmt: skip
    with output_log.open("wb") as log:
        process = subprocess.Popen(
            argv,
            cwd=PROJECT_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=lambda: os.sched_setaffinity(0, cores),
        )
    return LocustRun(process, request_log, output_log)


def wait_locust(run: LocustRun, timeout_s: float) -> int:
    """Wait for Locust to end by itself; kill it (and say so) if it overstays."""
    try:
        return run.process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        kill_locust(run)
        raise


def kill_locust(run: LocustRun) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(run.process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        run.process.wait(timeout=5)
