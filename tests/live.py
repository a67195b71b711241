"""What the live tests share, so that they hold on any machine.

- Ports come from the OS (`free_port`), never a fixed number that another program may hold.
- A wait polls for its condition with a deadline (`wait_until`), never a fixed sleep; a process
  it watches may end at any moment, and that ends the wait with a clear failure, not a psutil
  traceback.
- A process that has exited, or is a zombie, or whose pid is gone is "not alive" (`alive`).
- `ServerPool` starts deployments once, side by side, for the tests that only read from them.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import psutil
import pytest

from bench.load.locust import free_port
from bench.targets.manifest import Deployment
from bench.targets.servers import RunningDeployment, start, stop, wait_healthy, wait_until_idle

POLL_S = 0.05
# The manifests' start-up timeouts are for a quiet machine; beside other tests it starts slower.
STARTUP_TIMEOUT_S = 120.0


def own_lock_env(folder: Path) -> dict[str, str]:
    """The environment of a bench command that takes a bench lock of its own (the lock lives
    in the temp folder when there is no XDG_RUNTIME_DIR): it runs on ports no other test uses,
    so it need not wait for them."""
    tmp = folder / "tmp"
    tmp.mkdir(exist_ok=True)
    env = {**os.environ, "TMPDIR": str(tmp)}
    env.pop("XDG_RUNTIME_DIR", None)
    return env


def descendants(pid: int) -> list[psutil.Process]:
    """The processes below `pid` now; none if it has gone."""
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []


def alive(proc: psutil.Process | subprocess.Popen) -> bool:
    """Whether the process still runs; gone, exited, zombie or unreadable all count as not."""
    if isinstance(proc, subprocess.Popen):
        if proc.poll() is not None:
            return False
        try:
            proc = psutil.Process(proc.pid)
        except psutil.Error:
            return False
    with contextlib.suppress(psutil.Error):
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    return False


def still_alive(
    procs: Iterable[psutil.Process | subprocess.Popen], timeout_s: float = 15.0
) -> list[psutil.Process | subprocess.Popen]:
    """Wait until none of `procs` is alive; return those still alive at the deadline."""
    procs = list(procs)
    deadline = time.monotonic() + timeout_s
    while (left := [p for p in procs if alive(p)]) and time.monotonic() < deadline:
        time.sleep(POLL_S)
    return left


def wait_until(
    condition: Callable[[], Any],
    timeout_s: float,
    what: str,
    watched: psutil.Process | subprocess.Popen | None = None,
) -> Any:
    """Poll `condition` until it is truthy and return its value.

    Fails with `what` at the deadline, or as soon as `watched` is no longer alive (the process
    the condition is about ended first: a wait must not outlast it, nor trip over it). An error
    a condition raises because its process just ended counts as "not yet".
    """
    deadline = time.monotonic() + timeout_s
    while True:
        with contextlib.suppress(psutil.Error, FileNotFoundError, ConnectionRefusedError):
            if value := condition():
                return value
        if watched is not None and not alive(watched):
            pytest.fail(f"{what}: the process it waited on ended first")
        if time.monotonic() >= deadline:
            pytest.fail(f"{what}: not within {timeout_s:.0f} s")
        time.sleep(POLL_S)


class ServerPool:
    """Deployments started on demand, each once, on ports the OS picks, stopped at close().

    `warm()` starts several at the same time (their imports overlap on the cores), then waits
    for each. Only for tests that read from a server: one that changes or stops it starts its
    own.
    """

    def __init__(
        self,
        deployments: Iterable[Deployment],
        log_dir: Path,
        extra_env: Mapping[str, str] | None = None,
    ) -> None:
        self.deployments = {d.name: d for d in deployments}
        self.log_dir = log_dir
        self.extra_env = dict(extra_env or {})
        self.running: dict[tuple[str, str], RunningDeployment] = {}
        self.seen: list[psutil.Process] = []

    def warm(
        self,
        names: Iterable[str],
        config: str = "default",
        cores: Mapping[str, Sequence[int]] | None = None,
    ) -> None:
        """Start those of `names` not yet running (on `cores[name]`, default all), then wait."""
        new = [n for n in names if (n, config) not in self.running]
        started = {n: self._start(n, config, (cores or {}).get(n)) for n in new}
        for name, running in started.items():
            self._ready(running, name, config)

    def get(self, name: str, config: str = "default") -> RunningDeployment:
        self.warm([name], config)
        running = self.running[(name, config)]
        if running.process.poll() is not None:
            pytest.fail(f"{name}/{config} exited (code {running.process.returncode})")
        return running

    def _start(self, name: str, config: str, cores: Sequence[int] | None) -> RunningDeployment:
        log = self.log_dir / f"{name}-{config}.log"
        running = start(
            self.deployments[name], config, port=free_port(), cores=cores, log_path=log,
            extra_env=self.extra_env,
        )  # fmt: skip
        self.running[(name, config)] = running
        return running

    def _ready(self, running: RunningDeployment, name: str, config: str) -> None:
        try:
            wait_healthy(running, STARTUP_TIMEOUT_S)
            wait_until_idle(running)
        except BaseException:
            self.close()
            raise
        self.seen += running.tree()

    def close(self) -> list[psutil.Process]:
        """Stop every server; return any of their processes still alive afterwards."""
        for running in self.running.values():
            stop(running)
        self.running.clear()
        return still_alive(self.seen, timeout_s=10)
