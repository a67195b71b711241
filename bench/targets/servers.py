"""Start a deployment as its own process group, wait until it answers, and stop all of it."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from bench.cli.console import spawning
from bench.targets.bind import ALLOWED_HOSTS_ENV, BIND_ENV, Bind, current
from bench.targets.cores import available_cores
from bench.targets.manifest import Deployment, project_pythonpath
from bench.targets.stacks import StackError

HOST = "127.0.0.1"
SETTLE_IDLE_CPU = 10.0  # % of one core, whole process tree, over SETTLE_WINDOW_S
SETTLE_WINDOW_S = 0.25
SETTLE_TIMEOUT_S = 30.0


class DeploymentError(RuntimeError):
    """A deployment could not be started, or stopped answering."""


@dataclass
class RunningDeployment:
    deployment: Deployment
    config: str
    process: subprocess.Popen
    port: int
    log_path: Path
    started_at: float  # time.monotonic() just before spawning
    cores: tuple[int, ...]
    host: str = HOST  # where this machine connects to it (bench.targets.bind.Bind.connect_host)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def tree(self) -> list[psutil.Process]:
        """The server process and every process below it (workers, threads' owners)."""
        try:
            root = psutil.Process(self.pid)
            return [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


class _NeverExits:
    """The stand-in process of a deployment this harness did not start."""

    pid = None
    returncode = None

    def poll(self) -> None:
        return None


@dataclass
class ExternalDeployment:
    """A deployment already running elsewhere (`run --target URL`): the runner measures it but
    never starts, stops or samples it (its processes are not on this machine)."""

    deployment: Deployment
    base_url: str
    config: str = "default"
    process: _NeverExits = field(default_factory=_NeverExits)

    @property
    def port(self) -> int:
        parsed = urllib.parse.urlsplit(self.base_url)
        return parsed.port or (443 if parsed.scheme == "https" else 80)

    def tree(self) -> list[psutil.Process]:
        return []

    def log_tail(self, lines: int = 20) -> str:
        return "(the target's log is on its own machine)"


def port_in_use(port: int, host: str = HOST) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex((host, port)) == 0


def port_owner(port: int) -> str:
    with contextlib.suppress(psutil.AccessDenied):
        for conn in psutil.net_connections(kind="tcp"):
            if conn.laddr and conn.laddr.port == port and conn.status == psutil.CONN_LISTEN:
                if conn.pid:
                    with contextlib.suppress(psutil.Error):
                        proc = psutil.Process(conn.pid)
                        return f"pid {conn.pid} ({' '.join(proc.cmdline()[:4])})"
                return "another process"
    return "another process"


def start(
    deployment: Deployment,
    config: str = "default",
    *,
    port: int | None = None,
    cores: Sequence[int] | None = None,
    log_path: Path,
    extra_env: dict[str, str] | None = None,
    bind: Bind | None = None,
) -> RunningDeployment:
    """Spawn the deployment pinned to `cores`; it is not yet known to be healthy.

    It listens on `bind` (default: the command's, bench.targets.bind.current(), loopback unless
    set)."""
    port = port or deployment.port
    try:
        deployment.stack.check_installed()
    except StackError as exc:
        raise DeploymentError(f"{deployment.name}: {exc}") from exc
    bind = bind or current()
    host = bind.connect_host
    if port_in_use(port, host):
        raise DeploymentError(
            f"{deployment.name}: port {port} on {host} is already in use by {port_owner(port)}; "
            "stop it or pick another port with --port"
        )
    cores = tuple(cores or available_cores())
    env = server_env(deployment, config, port, len(cores), bind, extra_env)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    return _spawn(deployment, config, port, cores, env, log_path, host)


def server_env(
    deployment: Deployment,
    config: str,
    port: int,
    cores: int,
    bind: Bind,
    extra_env: Mapping[str, str] | None = None,
    inherited: Mapping[str, str] = os.environ,
) -> dict[str, str]:
    """The environment of a server: this process's, less any BIND_HOST or ALLOWED_HOSTS it
    inherited, plus the deployment's settings and `bind`'s address and hosts, which nothing
    else may override."""
    return {
        **{k: v for k, v in inherited.items() if k not in (BIND_ENV, ALLOWED_HOSTS_ENV)},
        "PYTHONPATH": project_pythonpath(),
        "PYTHONUNBUFFERED": "1",
        "PORT": str(port),
        **deployment.environment(config, port, cores),
        # A fresh secret per start: never a key in the repository.
        **{name: secrets.token_urlsafe(32) for name in deployment.secrets},
        **(extra_env or {}),
        **bind.env(),
    }


@spawning(lambda running: stop(running))
def _spawn(
    deployment: Deployment,
    config: str,
    port: int,
    cores: tuple[int, ...],
    env: dict[str, str],
    log_path: Path,
    host: str = HOST,
) -> RunningDeployment:
    log = log_path.open("ab")
    started_at = time.monotonic()
    try:
        process = subprocess.Popen(
            deployment.argv(config, port, len(cores)),
            cwd=deployment.folder,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so stop() reaches every worker
            preexec_fn=lambda: os.sched_setaffinity(0, cores),
        )
    except OSError as exc:
        raise DeploymentError(
            f"{deployment.name}: cannot start {deployment.command[0]}: {exc}"
        ) from exc
    finally:
        log.close()
    return RunningDeployment(deployment, config, process, port, log_path, started_at, cores, host)


def wait_healthy(running: RunningDeployment, timeout_s: float | None = None) -> float:
    """Poll the health URL until it answers 200; return seconds since spawn."""
    deployment = running.deployment
    timeout_s = timeout_s or deployment.startup_timeout_s
    deadline = time.monotonic() + timeout_s
    url = running.base_url + deployment.health_path
    while time.monotonic() < deadline:
        if running.process.poll() is not None:
            raise DeploymentError(
                f"{deployment.name} exited with code {running.process.returncode} during start-up. "
                f"Last lines of {running.log_path}:\n{running.log_tail()}"
            )
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=1) as response:
            if response.status == 200:
                return time.monotonic() - running.started_at
        time.sleep(0.05)
    raise DeploymentError(
        f"{deployment.name} did not answer {url} within {timeout_s:.0f} s. "
        f"Last lines of {running.log_path}:\n{running.log_tail()}"
    )


def wait_until_idle(running: RunningDeployment, timeout_s: float = SETTLE_TIMEOUT_S) -> float:
    """Wait until the server's processes use under SETTLE_IDLE_CPU % of a core; return seconds.

    gunicorn is healthy as soon as one worker answers while the others may still be importing
    the app: a probe sent then would count a booting worker as one that cannot take a request.
    """
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        procs = running.tree()
        before = {p.pid: _cpu_seconds(p) for p in procs}
        time.sleep(SETTLE_WINDOW_S)
        used = sum(_cpu_seconds(p) - before[p.pid] for p in procs)
        if used / SETTLE_WINDOW_S * 100 < SETTLE_IDLE_CPU:
            break
    return time.monotonic() - started


def _cpu_seconds(proc: psutil.Process) -> float:
    try:
        times = proc.cpu_times()
    except psutil.Error:
        return 0.0  # gone: it adds nothing
    return times.user + times.system


def stop(running: RunningDeployment, grace_s: float = 10) -> None:
    """SIGTERM the process group, then SIGKILL whatever is left, including escaped children."""
    tree = running.tree()
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(running.pid, signal.SIGTERM)
    _, alive = psutil.wait_procs(tree, timeout=grace_s)
    # The group may outlive its root (whose tree is then unknown): kill the group too.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(running.pid, signal.SIGKILL)
    for proc in alive:
        with contextlib.suppress(psutil.Error):
            proc.kill()
    psutil.wait_procs(alive, timeout=5)
    with contextlib.suppress(subprocess.TimeoutExpired):
        running.process.wait(timeout=1)


@contextlib.contextmanager
def serving(
    deployment: Deployment, config: str = "default", **kwargs
) -> Iterator[RunningDeployment]:
    """Start, wait until healthy, yield, and stop in every case (error, Ctrl-C)."""
    running = start(deployment, config, **kwargs)
    try:
        wait_healthy(running)
        wait_until_idle(running)
        yield running
    finally:
        stop(running)
