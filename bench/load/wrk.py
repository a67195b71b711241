"""wrk, the independent HTTP load generator: the engine's second generator (bench/load/window.py
hands it a LoadSpec whose generator is "wrk").

wrk (C, event loop, no answer checking) POSTs the same one-row JSON bodies Locust sends
(bench/load/lua/api_single.lua cycles through them) over as many connections as Locust has
users, pinned to the load generator's cores. Each step is a warm-up run at the same load, then
the measured run, with the server tree sampled throughout; wrk reports a summary (its Lua done()
hook prints it as JSON), not per-request records. Windows are whole seconds (wrk's -d).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bench.load.scenarios import BATCH_SIZES
from bench.load.spec import LoadResult, LoadSpec, WindowResult
from bench.measure.metrics import Window
from bench.measure.sampler import TreeSampler, cpu_percent
from bench.store.rules import WRK_SCENARIO

if TYPE_CHECKING:
    pass

SCENARIO = WRK_SCENARIO
WRK_SCRIPT = Path(__file__).resolve().parent / "lua" / "api_single.lua"
JSON_MARKER = "crosscheck-json "  # the line the Lua script's done() prints
# wrk's figures under the tidy table's metric names, with their units.
FIGURES = {
    "throughput": "1/s",
    "latency_p50": "ms",
    "latency_p90": "ms",
    "latency_p99": "ms",
    "latency_max": "ms",
    # The server's busy share during the window: a load generator that cannot keep the server
    # busy shows here, whichever tool it is.
    "server_cpu": "%",
}
# A slow answer is a slow answer, not an error: wrk's default (2 s) would count it as a timeout.
WRK_REQUEST_TIMEOUT_S = 10
WRK_GRACE_S = 30  # beyond its window, before wrk counts as hung


class WrkError(RuntimeError):
    """wrk could not measure (crashed, hung, or printed no figures)."""


class WrkMissing(ValueError):
    """wrk is not installed."""


@dataclass(frozen=True)
class WrkResult:
    """One wrk window, as its done() hook reported it."""

    requests: int  # completed, whatever their status
    duration_s: float
    non_2xx: int
    socket_errors: dict[str, int]  # connect, read, write, timeout
    latency_ms: dict[str, float]  # p50, p90, p99, p999, max, mean

    @property
    def throughput(self) -> float:
        """2xx answers per second, as Locust's throughput counts successful interactions."""
        return (self.requests - self.non_2xx) / self.duration_s

    @property
    def socket_error_count(self) -> int:
        return sum(self.socket_errors.values())

    def repetition(self) -> dict[str, float]:
        """This window's figures under the crosscheck's metric names."""
        return {
            "throughput": self.throughput,
            **{f"latency_{k}": v for k, v in self.latency_ms.items() if f"latency_{k}" in FIGURES},
            "non_2xx": float(self.non_2xx),
            "socket_errors": float(self.socket_error_count),
        }


def wrk_path() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise WrkMissing("wrk is not installed: install it with `sudo apt-get install wrk`")
    return path


def wrk_command(
    base_url: str, connections: int, window_s: float, bodies_file: Path, threads: int = 1
) -> list[str]:
    # wrk refuses fewer connections than threads.
    threads = max(1, min(threads, connections))
    return [
        wrk_path(), f"-t{threads}", f"-c{connections}", f"-d{max(1, round(window_s))}s",
        "--latency", "--timeout", f"{WRK_REQUEST_TIMEOUT_S}s", "-s", str(WRK_SCRIPT),
        base_url, "--", str(bodies_file), "/api/predict",
    ]  # fmt: skip


def parse_wrk_output(stdout: str) -> WrkResult:
    """The figures of the JSON line that bench/load/lua/api_single.lua's done() prints."""
    lines = [line for line in stdout.splitlines() if line.startswith(JSON_MARKER)]
    if not lines:
        raise WrkError(
            f"wrk printed no figures (no line starting with {JSON_MARKER.strip()!r}); "
            f"it must run with {WRK_SCRIPT.name}. Its output: {stdout.strip()[-300:]!r}"
        )
    try:
        data = json.loads(lines[-1][len(JSON_MARKER) :])
        errors = data["errors"]
        result = WrkResult(
            requests=int(data["requests"]),
            duration_s=float(data["duration_us"]) / 1e6,
            non_2xx=int(data["non_2xx"]),
            socket_errors={k: int(errors[k]) for k in ("connect", "read", "write", "timeout")},
            latency_ms={k: float(v) / 1000 for k, v in data["latency_us"].items()},
        )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise WrkError(f"cannot read wrk's figures from {lines[-1]!r}: {exc}") from exc
    if result.duration_s <= 0:
        raise WrkError(f"wrk reports a run of {result.duration_s} s: {lines[-1]!r}")
    return result


def measure_wrk(
    base_url: str,
    connections: int,
    window_s: float,
    bodies_file: Path,
    cores: Sequence[int],
    threads: int = 1,
) -> WrkResult:
    """Run wrk for one window against base_url (any port), pinned to `cores`."""
    argv = wrk_command(base_url, connections, window_s, bodies_file, threads)
    process = subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # Ctrl-C reaches us, and we stop it
        preexec_fn=lambda: os.sched_setaffinity(0, cores),
    )
    try:
        stdout, stderr = process.communicate(timeout=window_s + WRK_GRACE_S)
    except subprocess.TimeoutExpired:
        raise WrkError(f"wrk did not end {WRK_GRACE_S} s after its {window_s} s window") from None
    finally:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)
    if process.returncode != 0:
        why = (stderr.strip() or stdout.strip())[-300:]
        raise WrkError(f"wrk exited with code {process.returncode}: {why}")
    return parse_wrk_output(stdout)


def wrk_version() -> str:
    result = subprocess.run([wrk_path(), "-v"], capture_output=True, text=True, check=False)
    first = (result.stdout or result.stderr).strip().splitlines()
    return first[0].split(" Copyright")[0] if first else "wrk (version unknown)"


def write_bodies(bodies: Iterable[str], path: Path) -> Path:
    """One body per line, for the Lua script (JSON from json.dumps holds no newline)."""
    path.write_text("".join(f"{body}\n" for body in bodies))
    return path


def bodies_file(spec: LoadSpec) -> Path:
    """The one-row bodies of the spec's payload file, one per line, for the Lua script."""
    pools = json.loads(spec.payload_file.read_text())
    pool = pools[str(BATCH_SIZES[SCENARIO])]
    path = spec.out_prefix.with_suffix(".bodies.txt")
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_bodies((json.dumps(item["body"]) for item in pool), path)


def run_wrk(spec: LoadSpec, target, on_window=None) -> LoadResult:
    """The engine's wrk generator: each step a warm-up run, then a fixed window (the rule's
    max_s); a wrk failure or a server that exited ends the result with its reason."""
    started = time.monotonic()
    result = LoadResult(spec)
    bodies = bodies_file(spec)
    for index, connections in enumerate(spec.steps):
        try:
            window = wrk_window(spec, target, index, connections, bodies)
        except WrkError as exc:
            result.failure = str(exc)
            break
        if target.process.poll() is not None:
            result.failure = f"the server exited during wrk's load: {target.log_tail(3)}"
            break
        result.windows.append(window)
        if on_window is not None:
            on_window(window)
    result.wall_s = time.monotonic() - started
    return result


def wrk_window(spec: LoadSpec, target, index: int, connections: int, bodies: Path) -> WindowResult:
    if spec.warmup_s > 0:
        measure_wrk(spec.base_url, connections, spec.warmup_s, bodies, spec.cores)
    with TreeSampler(target.tree) as server:
        begun = time.time()
        measured = measure_wrk(spec.base_url, connections, spec.rule.max_s, bodies, spec.cores)
        ended = time.time()
    # wrk's start-up and exit fall outside its window: take the samples' middle stretch.
    samples = server.samples[1:-1] if len(server.samples) > 4 else server.samples
    return WindowResult(
        step=index,
        users=connections,
        window=Window(begun, ended),
        ended="capped",
        steady=True,
        server=samples,
        summary={**measured.repetition(), "server_cpu": cpu_percent(samples)},
    )
