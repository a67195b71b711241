"""`python -m bench soak`: one deployment under steady load for minutes; RSS growth and errors.

The load is a sequence of consecutive Locust runs, one per window (a minute unless --window says
otherwise; the first after a warm-up) rather than one long run: each minute's throughput, errors
and latency then come from a whole, flushed per-request log, and the progress printed after each
minute is exact. Between two runs the server idles for Locust's start-up (a second or two), and
each run opens new connections (new sessions, for Streamlit); soak.json records each gap. The
server's process tree is sampled every second through the whole soak, gaps included.

Results: <results>/soak/<UTC stamp>-<name>-<config>/
  soak.json   written once, at the end (SOAK_KEYS below; status complete | interrupted | failed)
  rss.csv     every sample of the server's tree (RSS_COLUMNS)
  raw/        each minute's per-request log (wNNN.requests.csv) and Locust's output
  server.log  the deployment's output
"""

from __future__ import annotations

import argparse
import csv
import io
import math
import platform
import subprocess
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from bench import RESULTS_DIR
from bench.cli.console import raise_if_interrupted, say, table
from bench.clients.payloads import write_payload_file
from bench.load.locust import LocustRun, kill_locust, start_locust
from bench.load.scenarios import INTERACTIONS
from bench.measure.metrics import (
    Request,
    Window,
    failure_kinds,
    latency_percentiles,
    level_metrics,
    read_request_log,
    recorded_window,
)
from bench.measure.sampler import Sample, TreeSampler
from bench.run import environment, lock
from bench.run.runner import new_run_dir, pinned_to
from bench.store.schema import atomic_write_text, write_json
from bench.targets.manifest import Deployment, ManifestError, select
from bench.targets.servers import (
    DeploymentError,
    RunningDeployment,
    split_cores,
    start,
    stop,
    wait_healthy,
    wait_until_idle,
)
from shared_model.model import LoadedModel, load_model

SCHEMA_VERSION = 1
DEFAULT_MINUTES = 10.0
DEFAULT_USERS = 32
DEFAULT_WARMUP_S = 10.0
DEFAULT_WINDOW_S = 60.0
SAMPLE_INTERVAL_S = 1.0
EXIT_FAILED = 1
RSS_COLUMNS = ("at", "elapsed_s", "rss_mib", "cpu_s", "threads", "processes")
SOAK_KEYS = (
    "schema_version", "kind", "soak_id", "status", "reason", "started_at", "finished_at",
    "wall_s", "deployment", "scenario", "users", "planned", "measured_s", "rss", "totals",
    "minutes", "files", "model", "machine", "python", "git", "pinning", "load",
)  # fmt: skip


class SoakFailed(RuntimeError):
    """The soak cannot go on: the server died or a minute's load could not be recorded."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare this command's options on its subparser."""
    parser.add_argument("name", help="deployment name, e.g. flask, django, streamlit")
    parser.add_argument(
        "--config", default="default", help="server configuration from its manifest"
    )
    parser.add_argument(
        "--minutes", type=positive_float, default=DEFAULT_MINUTES,
        help=f"recorded load, in minutes (default {DEFAULT_MINUTES:g}; fractions allowed)",
    )  # fmt: skip
    parser.add_argument(
        "--users", type=positive_int, default=DEFAULT_USERS,
        help=f"concurrent closed-loop users (default {DEFAULT_USERS})",
    )  # fmt: skip
    parser.add_argument("--scenario", help="scenario (default: the deployment's first)")
    parser.add_argument(
        "--warmup", type=non_negative_float, default=DEFAULT_WARMUP_S, metavar="SECONDS",
        help=f"unrecorded load before the first minute (default {DEFAULT_WARMUP_S:g} s)",
    )  # fmt: skip
    parser.add_argument(
        "--window", type=positive_float, default=DEFAULT_WINDOW_S, metavar="SECONDS",
        help=f"length of each recorded window, one Locust run each (default {DEFAULT_WINDOW_S:g})",
    )  # fmt: skip
    parser.add_argument("--port", type=port_number, help="port (default: the manifest's)")
    parser.add_argument("--wait", action="store_true", help="wait for a running benchmark to end")
    parser.add_argument(
        "--results", type=Path, default=RESULTS_DIR,
        help=f"results folder; the soak goes to its soak/ folder (default {RESULTS_DIR})",
    )  # fmt: skip


def parsed(kind: type[int] | type[float], text: str) -> float:
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not {'an integer' if kind is int else 'a number'}: {text!r}"
        ) from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"not a finite number: {text!r}")
    return value


def positive_float(text: str) -> float:
    value = parsed(float, text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, not {text}")
    return value


def non_negative_float(text: str) -> float:
    value = parsed(float, text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {text}")
    return value


def positive_int(text: str) -> int:
    value = int(parsed(int, text))
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {text}")
    return value


def port_number(text: str) -> int:
    port = int(parsed(int, text))
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 1 to 65535, not {text}")
    return port


def run(args: argparse.Namespace, deployments: list[Deployment]) -> int:
    """Run the command; return the process exit code (an interruption propagates)."""
    [deployment] = select(deployments, [args.name])
    scenario = args.scenario or deployment.scenarios[0]
    check_choices(deployment, args.config, scenario)
    model = load_model()  # a tampered artifact stops the soak before anything starts
    with lock.exclusive(wait=args.wait):
        machine = environment.machine()  # before pinning, which hides cores from this process
        server_cores, loadgen_cores = split_cores()
        with pinned_to(loadgen_cores):
            soak = Soak(
                deployment=deployment,
                config=args.config,
                scenario=scenario,
                users=args.users,
                port=args.port or deployment.port,
                warmup_s=args.warmup,
                windows_s=window_lengths(args.minutes * 60, args.window),
                folder=new_run_dir(args.results / "soak", f"{deployment.name}-{args.config}"),
                server_cores=server_cores,
                loadgen_cores=loadgen_cores,
            )
            soak.info = soak_info(soak, machine, args.minutes, model)
            return soak_deployment(soak, model)


def check_choices(deployment: Deployment, config: str, scenario: str) -> None:
    if config not in deployment.configs:
        raise ManifestError(
            f"{deployment.name} has no config {config!r}; it has {sorted(deployment.configs)}"
        )
    if scenario not in deployment.scenarios:
        raise ManifestError(
            f"{deployment.name} does not support scenario {scenario!r}; "
            f"it supports {list(deployment.scenarios)}"
        )


def window_lengths(total_s: float, window_s: float = DEFAULT_WINDOW_S) -> list[float]:
    """Consecutive windows of `window_s` covering `total_s`; a remainder under a quarter of a
    window joins the last one (a 3 s "minute" would say nothing)."""
    if total_s <= 0 or window_s <= 0:
        raise ValueError(f"a soak and its windows last more than 0 s, not {total_s}, {window_s}")
    full, remainder = divmod(total_s, window_s)
    windows = [window_s] * int(full)
    if remainder >= window_s / 4 or not windows:
        windows.append(remainder)
    else:
        windows[-1] += remainder
    return windows


@dataclass
class Minute:
    """One recorded window: its metrics and the latencies of its successful interactions."""

    index: int
    window: Window
    request_log: Path
    metrics: dict[str, Any]
    ok_ms: np.ndarray
    requests: int
    kinds: dict[str, int]


@dataclass
class Soak:
    deployment: Deployment
    config: str
    scenario: str
    users: int
    port: int
    warmup_s: float
    windows_s: list[float]
    folder: Path
    server_cores: tuple[int, ...]
    loadgen_cores: tuple[int, ...]
    info: dict[str, Any] = field(default_factory=dict)
    minutes: list[Minute] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)
    # When the recorded load began: the first window's start, or before it is known, the first
    # Locust's spawn plus the warm-up.
    measured_from: float | None = None
    started: float = field(default_factory=time.monotonic)

    @property
    def payload_file(self) -> Path:
        return self.folder / "raw" / "payloads.json"


def soak_info(
    soak: Soak, machine: dict[str, Any], minutes: float, model: LoadedModel
) -> dict[str, Any]:
    d, packages = soak.deployment, environment.packages()
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": "soak",
        "soak_id": soak.folder.name,
        "status": "running",
        "reason": "",
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "deployment": {
            "name": d.name,
            "display_name": d.display_name,
            "framework": d.framework,
            "framework_version": packages.get(d.framework, "?"),
            "server": d.server,
            "server_version": packages.get(d.server, "?"),
            "config": soak.config,
            "config_description": d.configs[soak.config].description,
            "port": soak.port,
        },
        "scenario": soak.scenario,
        "users": soak.users,
        "planned": {
            "minutes": minutes,
            "warmup_s": soak.warmup_s,
            "windows_s": soak.windows_s,
            "sample_interval_s": SAMPLE_INTERVAL_S,
        },
        "model": {k: model.metadata.get(k) for k in ("name", "version", "sha256")},
        "machine": machine,
        "python": platform.python_version(),
        "git": environment.git_state(),
        "pinning": {
            "server_cores": list(soak.server_cores),
            "loadgen_cores": list(soak.loadgen_cores),
            "method": "sched_setaffinity",
        },
        "load": {
            "generator": f"locust {packages.get('locust', '?')}",
            "users": "closed loop, no think time",
            "spawn": "all users within 1 s",
            "windows": "one Locust run per window; the server idles in the gaps between them",
        },
    }


def soak_deployment(soak: Soak, model: LoadedModel) -> int:
    """Start the deployment, load it window after window, and store what was measured in every
    case: complete, failed (exit 1) or interrupted (the KeyboardInterrupt propagates)."""
    (soak.folder / "raw").mkdir()
    write_payload_file(model, soak.payload_file)
    status, reason = "failed", ""
    running: RunningDeployment | None = None
    try:
        say(f"starting {soak.deployment.display_name} ({soak.config}) on port {soak.port} ...")
        running = start(
            soak.deployment,
            soak.config,
            port=soak.port,
            cores=soak.server_cores,
            log_path=soak.folder / "server.log",
        )
        wait_healthy(running)
        wait_until_idle(running)
        with TreeSampler(running.tree, interval_s=SAMPLE_INTERVAL_S) as sampler:
            soak.samples = sampler.samples
            load_windows(soak, running, sampler)
        status = "complete"
    except KeyboardInterrupt:
        status, reason = "interrupted", "stopped by a signal before the planned end"
        raise
    except (SoakFailed, DeploymentError) as exc:
        reason = str(exc)
        say(f"error: {reason}")
    except Exception as exc:
        reason = f"{type(exc).__name__}: {exc}"
        raise
    finally:
        if running is not None:
            stop(running)
        finish(soak, status, reason)
    return 0 if status == "complete" else EXIT_FAILED


def load_windows(soak: Soak, running: RunningDeployment, sampler: TreeSampler) -> None:
    planned = len(soak.windows_s)
    for index, window_s in enumerate(soak.windows_s, start=1):
        raise_if_interrupted()
        warmup_s = soak.warmup_s if index == 1 else 0.0
        try:
            minute = load_window(soak, running, sampler, index, warmup_s, window_s)
        except KeyboardInterrupt:
            discard_window(window_prefix(soak, index))  # Locust killed mid-write: not a result
            raise
        soak.minutes.append(minute)
        if index == 1:
            soak.measured_from = minute.window.start
        say(progress_line(soak, minute, planned))


def load_window(
    soak: Soak,
    running: RunningDeployment,
    sampler: TreeSampler,
    index: int,
    warmup_s: float,
    window_s: float,
) -> Minute:
    d = soak.deployment
    prefix = window_prefix(soak, index)
    # A Streamlit session's first run loads the model: set-up may take up to a start-up.
    max_run_time = d.startup_timeout_s + warmup_s + window_s + 5
    if index == 1:  # until the first window's start is known from its log
        soak.measured_from = time.time() + warmup_s
    locust = start_locust(
        soak.scenario, running.base_url, soak.users, warmup_s, window_s, max_run_time, prefix,
        soak.loadgen_cores, soak.payload_file,
    )  # fmt: skip
    try:
        with TreeSampler(locust.tree) as loadgen:
            wait_for_locust(locust, timeout_s=max_run_time + 30)
            load_ended = time.time()
    except subprocess.TimeoutExpired:
        raise SoakFailed(f"window {index}: Locust did not stop after its run time") from None
    finally:
        kill_locust(locust)
    if running.process.poll() is not None:
        raise SoakFailed(
            f"the server exited (code {running.process.returncode}) during window {index}: "
            + running.log_tail(3)
        )
    try:
        requests = read_request_log(locust.request_log)
        window = recorded_window(requests, warmup_s, window_s)
    except (OSError, ValueError) as exc:
        raise SoakFailed(
            f"window {index}: no request log: {exc}; see {locust.output_log}"
        ) from None
    if load_ended < window.end:
        raise SoakFailed(f"window {index}: Locust stopped before the window ended")
    server = sampler.between(window.start, window.end)
    return minute_of(
        index,
        requests,
        window,
        server,
        loadgen.between(window.start, window.end),
        locust.request_log,
    )


def wait_for_locust(locust: LocustRun, timeout_s: float) -> None:
    """Wait for Locust to end by itself, looking for a signal every second: CPython drops the
    handler's KeyboardInterrupt when it lands in a fork hook (Locust's spawn) or a finalizer,
    and a window may last minutes."""
    deadline = time.monotonic() + timeout_s
    while True:
        raise_if_interrupted()
        try:
            locust.process.wait(timeout=1)
            return
        except subprocess.TimeoutExpired:
            if time.monotonic() > deadline:
                raise


def window_prefix(soak: Soak, index: int) -> Path:
    return soak.folder / "raw" / f"w{index:03d}"


def discard_window(prefix: Path) -> None:
    for path in prefix.parent.glob(f"{prefix.name}[._]*.csv"):
        path.unlink(missing_ok=True)


def minute_of(
    index: int,
    requests: list[Request],
    window: Window,
    server: list[Sample],
    loadgen: list[Sample],
    request_log: Path,
) -> Minute:
    done = [r for r in requests if window.holds(r.end)]
    ok_ms = np.array([r.ms for r in done if r.ok and r.name in INTERACTIONS])
    metrics = level_metrics(requests, window, server, loadgen)
    return Minute(
        index, window, request_log, metrics, ok_ms, len(done), failure_kinds(requests, window)
    )


@dataclass(frozen=True)
class RssTrend:
    start_mib: float
    end_mib: float
    growth_mib: float
    growth_percent: float
    # Least squares over every sample. Successive samples are correlated, so the standard error
    # is a lower bound on the slope's uncertainty.
    slope_mib_per_hour: float | None
    slope_stderr_mib_per_hour: float | None
    samples: int
    span_s: float


def rss_trend(samples: Sequence[Sample]) -> RssTrend | None:
    """RSS of the server's tree from the first sample to the last, and its least-squares slope.

    Samples of a dead tree (no process) are left out; None when no sample is left.
    """
    alive = [s for s in samples if s.processes > 0]
    if not alive:
        return None
    first, last = alive[0], alive[-1]
    start_mib, end_mib = mib(first.rss_bytes), mib(last.rss_bytes)
    slope = stderr = None
    if len(alive) >= 3 and last.at > first.at:
        fit = stats.linregress(
            [(s.at - first.at) / 3600 for s in alive], [mib(s.rss_bytes) for s in alive]
        )
        slope, stderr = float(fit.slope), float(fit.stderr)
    return RssTrend(
        start_mib=start_mib,
        end_mib=end_mib,
        growth_mib=end_mib - start_mib,
        growth_percent=100 * (end_mib - start_mib) / start_mib if start_mib else math.nan,
        slope_mib_per_hour=slope,
        slope_stderr_mib_per_hour=stderr,
        samples=len(alive),
        span_s=last.at - first.at,
    )


def mib(n_bytes: float) -> float:
    return float(n_bytes) / 2**20


def measured_samples(soak: Soak) -> list[Sample]:
    """The samples of the recorded load: after the warm-up, up to the last complete window's end
    (or, when the soak was cut short, up to the last sample)."""
    if soak.measured_from is None:
        return []
    complete = len(soak.minutes) == len(soak.windows_s)
    until = soak.minutes[-1].window.end if complete else math.inf
    return [s for s in soak.samples if soak.measured_from <= s.at <= until]


def totals(minutes: Sequence[Minute]) -> dict[str, Any]:
    seconds = sum(m.window.seconds for m in minutes)
    requests = sum(m.requests for m in minutes)
    failures = sum(m.metrics["failures"] for m in minutes)
    kinds: dict[str, int] = {}
    for m in minutes:
        for kind, count in m.kinds.items():
            kinds[kind] = kinds.get(kind, 0) + count
    ok_ms = np.concatenate([m.ok_ms for m in minutes]) if minutes else np.array([])
    return {
        "requests": requests,
        "interactions": int(sum(m.metrics["interactions"] for m in minutes)),
        "failures": int(failures),
        "error_rate": failures / requests if requests else None,
        "failure_kinds": kinds,
        "throughput": ok_ms.size / seconds if seconds else None,
        **latency_percentiles(ok_ms),
    }


def minute_entry(soak: Soak, minute: Minute, previous: Minute | None) -> dict[str, Any]:
    return {
        "index": minute.index,
        "start": minute.window.start,
        "end": minute.window.end,
        "gap_s": minute.window.start - previous.window.end if previous else None,
        "request_log": str(minute.request_log.relative_to(soak.folder)),
        "requests": minute.requests,
        "failure_kinds": minute.kinds,
        **minute.metrics,
    }


def finish(soak: Soak, status: str, reason: str) -> None:
    """Write rss.csv and soak.json (each atomically) and print the summary."""
    samples = measured_samples(soak)
    trend = rss_trend(samples)
    info = soak.info
    info.update(
        status=status,
        reason=reason,
        finished_at=datetime.now(UTC).isoformat(timespec="seconds"),
        wall_s=round(time.monotonic() - soak.started, 1),
        measured_s=sum(m.window.seconds for m in soak.minutes),
        rss={
            **(asdict(trend) if trend else {f.name: None for f in fields(RssTrend)}),
            "from": samples[0].at if samples else None,
            "to": samples[-1].at if samples else None,
        },
        totals=totals(soak.minutes),
        minutes=[
            minute_entry(soak, m, soak.minutes[i - 1] if i else None)
            for i, m in enumerate(soak.minutes)
        ],
        files={"rss_samples": "rss.csv", "server_log": "server.log", "raw": "raw/"},
    )
    atomic_write_text(soak.folder / "rss.csv", rss_csv(soak.samples, soak.measured_from))
    write_json(soak.folder / "soak.json", json_safe({k: info.get(k) for k in SOAK_KEYS}))
    say(summary(soak, trend, info["totals"]))
    say(f"results: {soak.folder} ({status})")


def json_safe(value: Any) -> Any:
    """NaN and infinities are not JSON: they become null."""
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, np.generic):
        return json_safe(value.item())
    return value


def rss_csv(samples: Sequence[Sample], measured_from: float | None) -> str:
    """Every sample; elapsed_s counts from the end of the warm-up (negative during it)."""
    origin = measured_from if measured_from is not None else (samples[0].at if samples else 0)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(RSS_COLUMNS)
    for s in samples:
        writer.writerow(
            [f"{s.at:.3f}", f"{s.at - origin:.3f}", f"{mib(s.rss_bytes):.3f}", f"{s.cpu_s:.3f}",
             s.threads, s.processes]
        )  # fmt: skip
    return buffer.getvalue()


def progress_line(soak: Soak, minute: Minute, planned: int) -> str:
    m = minute.metrics
    measured = [s for s in soak.samples if s.processes and s.at >= (soak.measured_from or 0)]
    rss = "RSS ?"
    if measured:
        now, growth = (
            mib(measured[-1].rss_bytes),
            mib(measured[-1].rss_bytes - measured[0].rss_bytes),
        )
        rss = f"RSS {now:.1f} MiB ({growth:+.1f} since the warm-up)"
    bound = "  [load-generator bound]" if m["loadgen_bound"] else ""
    left_s = sum(soak.windows_s[minute.index :])
    return (
        f"[{minute.index}/{planned}] {m['throughput']:.1f}/s  p99 {m['latency_p99']:.1f} ms  "
        f"errors {int(m['failures'])}/{minute.requests}  {rss}  "
        f"server CPU {m['server_cpu']:.0f}%{bound}   "
        f"~{int(left_s // 60)} min {int(left_s % 60):02d} s left"
    )


def summary(soak: Soak, trend: RssTrend | None, total: dict[str, Any]) -> str:
    d = soak.deployment
    head = f"\nsoak of {d.display_name} ({soak.config}), {soak.scenario}, {soak.users} users"
    rows = [
        (
            m.index,
            f"{m.metrics['throughput']:.1f}",
            f"{m.metrics['latency_p99']:.1f}",
            f"{int(m.metrics['failures'])}",
            f"{m.metrics['server_rss_max']:.1f}",
        )
        for m in soak.minutes
    ]
    lines = [head]
    if rows:
        lines.append(table(["window", "throughput/s", "p99 ms", "errors", "RSS max MiB"], rows))
    if total["requests"]:
        lines.append(
            f"requests {total['requests']}, errors {total['failures']} "
            f"({100 * total['error_rate']:.3f} %), throughput {total['throughput']:.1f}/s, "
            f"p99 {total['latency_p99']:.1f} ms"
        )
    if trend is not None:
        slope = (
            f"{trend.slope_mib_per_hour:+.1f} ± {trend.slope_stderr_mib_per_hour:.1f} MiB/hour"
            if trend.slope_mib_per_hour is not None
            else "too few samples for a slope"
        )
        lines.append(
            f"RSS {trend.start_mib:.1f} -> {trend.end_mib:.1f} MiB "
            f"({trend.growth_mib:+.1f} MiB, {trend.growth_percent:+.1f} %), slope {slope} "
            f"over {trend.samples} samples"
        )
    return "\n".join(lines)
