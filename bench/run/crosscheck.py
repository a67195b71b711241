"""`python -m bench crosscheck`: wrk against the REST scenario of each deployment, compared
with Locust's figures of a stored run.

Locust is the benchmark's load generator; wrk (C, event loop, no answer checking) is an
independent second opinion on the same servers. For each deployment of the stored run that has
the api_single scenario, each configuration and each user level of that run, wrk opens as many
connections as Locust had users and POSTs the same one-row JSON bodies (bench/load/wrk/api_single.lua
cycles through them). Each deployment is started once per configuration, pinned to the server
cores as the runner does; all of a configuration's deployments run side by side (on their own
ports, the idle ones idle) so that the measurements interleave: repetition by repetition, level
by level, the deployments take turns, each repetition starting with another one, so that the
machine's drift favours none. Every measured window follows a warm-up at the same load. wrk runs
pinned to the load generator's cores with one thread by default (Locust is one process).

    python -m bench crosscheck [--run DIR] [--only NAME ...] [--configs NAME ...]
        [--levels N ...] [--repetitions N] [--window S] [--warmup S] [--threads 1]
        [--port BASE] [--wait]

Defaults: the latest run, every deployment of it with api_single, config "default", the run's
user levels, window and warm-up. Exit code 0; 1 if wrk saw errors or failed; 2 for bad input
(or wrk not installed); 130 on Ctrl-C, which stops wrk and the servers and writes nothing.

Written into the run folder, atomically, when every measurement has finished:

  crosscheck.csv   tidy: deployment, config, users, tool, metric, value, unit
                   tool "wrk":    throughput (1/s, 2xx answers per second), latency_p50,
                                  latency_p90, latency_p99, latency_max (ms), server_cpu (%,
                                  the server tree's, sampled during the window): medians over the
                                  clean repetitions; repetitions, flagged_repetitions,
                                  non_2xx, socket_errors (count, sums over all repetitions)
                   tool "locust": the same figures, where the stored run has them: medians
                                  over its clean repetitions; repetitions,
                                  flagged_repetitions, failures (sum)
                   tool "wrk/locust": throughput, latency_p50 (unit "ratio"): wrk's median
                                  over Locust's; disagrees (bool): 1 when either ratio is more
                                  than DISAGREEMENT (10 %) away from 1
                   A figure that could not be taken has no row (never a zero).
  crosscheck.json  the settings (wrk version, cores, window, warm-up, threads, repetitions)
                   and every wrk measurement, repetition by repetition

A repetition with errors (wrk: a non-2xx answer or a socket error; Locust: any failure) is
flagged and left out of the medians, never averaged in; the table says so. wrk checks the status
of each answer, not the prediction in it (its Lua has no JSON parser); Locust checks both.
Windows are whole seconds (wrk's -d).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import math
import os
import shutil
import signal
import statistics
import subprocess
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

from bench import RESULTS_DIR
from bench.cli.console import raise_if_interrupted, say, table
from bench.clients.payloads import request_pool
from bench.load.scenarios import BATCH_SIZES
from bench.measure.sampler import TreeSampler, cpu_percent
from bench.run import lock
from bench.run.runner import pinned_to, rotated
from bench.store.schema import Row, atomic_write_text, read_rows, write_json
from bench.targets.manifest import Deployment, select
from bench.targets.servers import DeploymentError, RunningDeployment, serving, split_cores
from shared_model.model import load_model

SCENARIO = "api_single"
WRK_SCRIPT = Path(__file__).resolve().parent.parent / "load" / "wrk" / "api_single.lua"
JSON_MARKER = "crosscheck-json "  # the line the Lua script's done() prints
DISAGREEMENT = 0.10
COMPARED = ("throughput", "latency_p50")
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
# Counted, not medianed: any of them flags its repetition.
WRK_ERRORS = ("non_2xx", "socket_errors")
LOCUST_ERRORS = ("failures",)
CSV_COLUMNS = ("deployment", "config", "users", "tool", "metric", "value", "unit")
# A slow answer is a slow answer, not an error: wrk's default (2 s) would count it as a timeout.
WRK_REQUEST_TIMEOUT_S = 10
WRK_GRACE_S = 30  # beyond its window, before wrk counts as hung
DEFAULT_WINDOW_S, DEFAULT_WARMUP_S = 10.0, 3.0
EXIT_FAILED, EXIT_USAGE = 1, 2


class CrosscheckError(ValueError):
    """Bad input: no such run, no such deployment, nothing to measure."""


class WrkError(RuntimeError):
    """wrk could not measure (crashed, hung, or printed no figures)."""


class WrkMissing(CrosscheckError):
    """wrk is not installed."""


class Level(NamedTuple):
    deployment: str
    config: str
    users: int


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


@dataclass(frozen=True)
class Comparison:
    level: Level
    wrk: dict[str, float]  # summarise() of wrk's repetitions
    locust: dict[str, float]  # summarise() of the stored run's repetitions
    ratios: dict[str, float] = field(default_factory=dict)  # wrk / Locust, metrics of COMPARED

    @property
    def disagrees(self) -> list[str]:
        return [m for m, r in self.ratios.items() if abs(r - 1) > DISAGREEMENT]

    @property
    def flagged(self) -> bool:
        return bool(self.wrk.get("flagged_repetitions") or self.locust.get("flagged_repetitions"))


@dataclass(frozen=True)
class Settings:
    configs: tuple[str, ...] = ("default",)
    levels: tuple[int, ...] | None = None  # None: the stored run's
    repetitions: int = 3
    window_s: float = DEFAULT_WINDOW_S
    warmup_s: float = DEFAULT_WARMUP_S
    threads: int = 1
    ports: dict[str, int] = field(default_factory=dict)  # deployment -> port; else the manifest's


# ---- wrk ----------------------------------------------------------------------------------


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
    """The figures of the JSON line that bench/load/wrk/api_single.lua's done() prints."""
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


# ---- request bodies ------------------------------------------------------------------------


def api_single_bodies(run_dir: Path, model: str) -> list[str]:
    """The bodies Locust posted in that run (raw/payloads-<model>.json, or raw/payloads.json
    in runs stored before model variants), else the same pool anew, encoded as the locustfiles
    encode them."""
    batch = str(BATCH_SIZES[SCENARIO])
    stored = run_dir / "raw" / f"payloads-{model}.json"
    if not stored.is_file():
        stored = run_dir / "raw" / "payloads.json"
    if stored.is_file():
        try:
            pool = json.loads(stored.read_text())[batch]
        except (OSError, ValueError, KeyError) as exc:
            raise CrosscheckError(f"{stored}: no {batch}-row request bodies: {exc}") from exc
    else:
        pool = request_pool(load_model(name=model), int(batch))
    return [json.dumps(item["body"]) for item in pool]


def write_bodies(bodies: Iterable[str], path: Path) -> Path:
    """One body per line, for the Lua script (JSON from json.dumps holds no newline)."""
    path.write_text("".join(f"{body}\n" for body in bodies))
    return path


# ---- the stored run's Locust figures and the comparison -----------------------------------


def locust_repetitions(rows: Iterable[Row], model: str) -> dict[Level, list[dict[str, float]]]:
    """The stored api_single figures, by level, one dict per repetition."""
    wanted = {*FIGURES, *LOCUST_ERRORS}
    by_rep: dict[tuple[Level, int], dict[str, float]] = defaultdict(dict)
    for row in rows:
        # Runs stored before the model column existed served one model.
        if row.scenario != SCENARIO or getattr(row, "model", model) != model:
            continue
        if row.metric in wanted:
            level = Level(row.deployment, row.config, row.users)
            by_rep[level, row.repetition][row.metric] = row.value
    levels: dict[Level, list[dict[str, float]]] = defaultdict(list)
    for (level, _), figures in sorted(by_rep.items()):
        levels[level].append(figures)
    return dict(levels)


def summarise(
    repetitions: list[dict[str, float]], error_metrics: Sequence[str]
) -> dict[str, float]:
    """Medians over the clean repetitions; errors summed over all, and their repetitions counted."""
    clean = [r for r in repetitions if not any(r.get(m, 0) for m in error_metrics)]
    summary = {
        "repetitions": float(len(repetitions)),
        "flagged_repetitions": float(len(repetitions) - len(clean)),
        **{m: float(sum(r.get(m, 0) for r in repetitions)) for m in error_metrics},
    }
    for metric in FIGURES:
        values = [r[metric] for r in clean if metric in r and not math.isnan(r[metric])]
        if values:
            summary[metric] = statistics.median(values)
    return summary


def compare(
    wrk: dict[Level, list[dict[str, float]]], locust: dict[Level, list[dict[str, float]]]
) -> list[Comparison]:
    """One comparison per level wrk measured: medians of both tools and their ratios."""
    comparisons = []
    for level in sorted(wrk):
        wrk_summary = summarise(wrk[level], WRK_ERRORS)
        locust_summary = summarise(locust.get(level, []), LOCUST_ERRORS)
        ratios = {
            m: wrk_summary[m] / locust_summary[m]
            for m in COMPARED
            if m in wrk_summary and locust_summary.get(m)
        }
        comparisons.append(Comparison(level, wrk_summary, locust_summary, ratios))
    return comparisons


def csv_text(comparisons: Iterable[Comparison]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for c in comparisons:
        for tool, figures in (("wrk", c.wrk), ("locust", c.locust)):
            if not figures.get("repetitions"):
                continue  # Locust never measured this level: no rows rather than zeros
            for metric, value in figures.items():
                writer.writerow([*c.level, tool, metric, _number(value), _unit(metric)])
        for metric, ratio in c.ratios.items():
            writer.writerow([*c.level, "wrk/locust", metric, _number(ratio), "ratio"])
        if c.ratios:
            writer.writerow([*c.level, "wrk/locust", "disagrees", int(bool(c.disagrees)), "bool"])
    return buffer.getvalue()


def _unit(metric: str) -> str:
    return FIGURES.get(metric) or ("s" if metric == "window" else "count")


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(round(value, 4))


def render_table(comparisons: Sequence[Comparison]) -> str:
    rows = []
    for c in comparisons:
        w, lo, r = c.wrk, c.locust, c.ratios
        rows.append(
            (
                *c.level,
                _cell(w.get("throughput"), ".1f"),
                _cell(lo.get("throughput"), ".1f"),
                _cell(r.get("throughput"), ".2f"),
                _cell(w.get("latency_p50"), ".2f"),
                _cell(lo.get("latency_p50"), ".2f"),
                _cell(r.get("latency_p50"), ".2f"),
                note(c),
            )
        )
    headers = ["deployment", "config", "users", "wrk /s", "Locust /s", "ratio"]
    headers += ["wrk p50 ms", "Locust p50 ms", "ratio", "note"]
    return table(headers, rows)


def _cell(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def note(c: Comparison) -> str:
    notes = []
    if c.wrk.get("flagged_repetitions"):
        notes.append(
            f"WRK ERRORS in {c.wrk['flagged_repetitions']:.0f}/{c.wrk['repetitions']:.0f} reps "
            f"({c.wrk['non_2xx']:.0f} non-2xx, {c.wrk['socket_errors']:.0f} socket; left out)"
        )
    if c.locust.get("flagged_repetitions"):
        notes.append(
            f"Locust failures in {c.locust['flagged_repetitions']:.0f}"
            f"/{c.locust['repetitions']:.0f} reps (left out)"
        )
    if not c.locust.get("repetitions"):
        notes.append("no Locust figures at this level")
    if c.disagrees:
        notes.append(f"DIFFER > {DISAGREEMENT:.0%}: " + ", ".join(c.disagrees))
    return "; ".join(notes)


# ---- measuring -----------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredRun:
    run_dir: Path
    rows: list[Row]
    info: dict[str, Any]

    @property
    def model(self) -> str:
        return str((self.info.get("model") or {}).get("name") or "iris-logreg")

    @property
    def plan(self) -> dict[str, Any]:
        return self.info.get("plan") or {}


def load_run(run_dir: Path) -> StoredRun:
    run_dir = run_dir.resolve()
    try:
        rows = read_rows(run_dir / "results.csv")
        info = json.loads((run_dir / "run.json").read_text())
    except (OSError, ValueError) as exc:
        raise CrosscheckError(f"{run_dir} is not a readable stored run: {exc}") from exc
    return StoredRun(run_dir, rows, info)


def stored_levels(run: StoredRun) -> dict[tuple[str, str], list[int]]:
    """(deployment, config) -> the user levels of its stored api_single figures."""
    levels: dict[tuple[str, str], set[int]] = defaultdict(set)
    for level in locust_repetitions(run.rows, run.model):
        levels[level.deployment, level.config].add(level.users)
    return {key: sorted(users) for key, users in levels.items()}


def choose_deployments(
    discovered: list[Deployment], only: list[str] | None, run: StoredRun
) -> list[Deployment]:
    if only:
        chosen = select(discovered, only)
        without = [d.name for d in chosen if SCENARIO not in d.scenarios]
        if without:
            raise CrosscheckError(f"{without} have no {SCENARIO} scenario (no REST API)")
        return chosen
    in_run = {deployment for deployment, _ in stored_levels(run)}
    chosen = [d for d in discovered if SCENARIO in d.scenarios and d.name in in_run]
    if not chosen:
        raise CrosscheckError(f"{run.run_dir} has no {SCENARIO} figures of a known deployment")
    return chosen


def plan_levels(
    deployments: list[Deployment], run: StoredRun, settings: Settings
) -> dict[str, list[tuple[Deployment, list[int]]]]:
    """config -> (deployment, levels to measure); what cannot be measured is said and skipped."""
    stored = stored_levels(run)
    work: dict[str, list[tuple[Deployment, list[int]]]] = {}
    for config in settings.configs:
        for d in deployments:
            if config not in d.configs:
                say(f"skipping {d.name}/{config}: its manifest has no such config")
                continue
            levels = list(settings.levels or stored.get((d.name, config), []))
            if not levels:
                say(f"skipping {d.name}/{config}: no stored {SCENARIO} levels (give --levels)")
                continue
            work.setdefault(config, []).append((d, levels))
    if not work:
        raise CrosscheckError("nothing to measure: see the lines above")
    return work


def crosscheck(
    run: StoredRun, work: dict[str, list[tuple[Deployment, list[int]]]], settings: Settings
) -> tuple[list[Comparison], list[dict[str, Any]]]:
    """Measure every planned level (plan_levels) with wrk; return the comparisons and every
    measurement."""
    server_cores, loadgen_cores = split_cores()
    measurements: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-crosscheck-") as tmp, pinned_to(loadgen_cores):
        bodies = write_bodies(api_single_bodies(run.run_dir, run.model), Path(tmp) / "bodies.txt")
        for config, levels in work.items():
            measurements += measure_config(
                config, levels, settings, bodies, server_cores, loadgen_cores, run.run_dir
            )
    wrk: dict[Level, list[dict[str, float]]] = defaultdict(list)
    for m in measurements:
        wrk[Level(m["deployment"], m["config"], m["users"])].append(m["figures"])
    return compare(wrk, locust_repetitions(run.rows, run.model)), measurements


def measure_config(
    config: str,
    levels: list[tuple[Deployment, list[int]]],
    settings: Settings,
    bodies: Path,
    server_cores: tuple[int, ...],
    loadgen_cores: tuple[int, ...],
    run_dir: Path,
) -> list[dict[str, Any]]:
    """Start every deployment of this config once, then take turns at each level."""
    deployments = [d for d, _ in levels]
    users_of = {d.name: us for d, us in levels}
    turns = [
        (rep, users, d)
        for rep in range(1, settings.repetitions + 1)
        for users in sorted({u for _, us in levels for u in us})
        for d in rotated([d for d in deployments if users in users_of[d.name]], rep - 1)
    ]
    measurements = []
    with contextlib.ExitStack() as servers:
        running: dict[str, RunningDeployment] = {}
        for d in deployments:
            say(f"starting {d.name}/{config} ...")
            running[d.name] = servers.enter_context(
                serving(
                    d,
                    config,
                    port=settings.ports.get(d.name, d.port),
                    cores=server_cores,
                    log_path=run_dir / "logs" / f"crosscheck-{d.name}-{config}.log",
                )
            )
        for n, (rep, users, d) in enumerate(turns, start=1):
            raise_if_interrupted()
            say(f"[{n}/{len(turns)}] rep {rep}  {d.name}/{config}  {users} connections")
            result, server_cpu = measure_level(
                running[d.name], users, settings, bodies, loadgen_cores
            )
            figures = {**result.repetition(), "server_cpu": server_cpu}
            say(
                f"    wrk {figures['throughput']:.1f}/s  p50 {figures['latency_p50']:.2f} ms"
                f"  p99 {figures['latency_p99']:.2f} ms  server CPU {server_cpu:.0f}%"
                + (
                    f"  ERRORS: {result.non_2xx} non-2xx, {result.socket_errors}"
                    if figures["non_2xx"] or figures["socket_errors"]
                    else ""
                )
            )
            measurements.append(
                {
                    "deployment": d.name,
                    "config": config,
                    "users": users,
                    "repetition": rep,
                    "figures": figures,
                    "requests": result.requests,
                    "duration_s": result.duration_s,
                    "socket_errors": result.socket_errors,
                    "latency_ms": result.latency_ms,
                }
            )
    return measurements


def measure_level(
    running: RunningDeployment,
    users: int,
    settings: Settings,
    bodies: Path,
    loadgen_cores: Sequence[int],
) -> tuple[WrkResult, float]:
    """A warm-up at the same load, then the measured window, with the server tree's CPU."""
    if settings.warmup_s > 0:
        measure_wrk(
            running.base_url, users, settings.warmup_s, bodies, loadgen_cores, settings.threads
        )
    if running.process.poll() is not None:
        raise DeploymentError(
            f"{running.deployment.name} exited (code {running.process.returncode}): "
            + running.log_tail(3)
        )
    with TreeSampler(running.tree) as server:
        result = measure_wrk(
            running.base_url, users, settings.window_s, bodies, loadgen_cores, settings.threads
        )
    # wrk's start-up and exit fall outside its window: take the samples' middle stretch.
    samples = server.samples[1:-1] if len(server.samples) > 4 else server.samples
    return result, cpu_percent(samples)


def write_results(
    run_dir: Path,
    comparisons: list[Comparison],
    measurements: list[dict[str, Any]],
    settings: Settings,
) -> None:
    server_cores, loadgen_cores = split_cores()
    info = {
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "tool": wrk_version(),
        "script": f"bench/load/wrk/{WRK_SCRIPT.name}",
        "pinning": {"server_cores": list(server_cores), "loadgen_cores": list(loadgen_cores)},
        "threads": settings.threads,
        "window_s": settings.window_s,
        "warmup_s": settings.warmup_s,
        "repetitions": settings.repetitions,
        "measurements": measurements,
    }
    write_json(run_dir / "crosscheck.json", info)
    atomic_write_text(run_dir / "crosscheck.csv", csv_text(comparisons))


# ---- command line --------------------------------------------------------------------------


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return value


def _seconds(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of seconds") from None
    if not 0 <= value <= 3600:
        raise argparse.ArgumentTypeError(f"{value} s is outside 0 to 3600 s")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare this command's options on its subparser."""
    parser.add_argument(
        "--run", type=Path, default=RESULTS_DIR / "latest", help="stored run (default: latest)"
    )
    parser.add_argument("--only", nargs="+", metavar="NAME", help="deployments to measure")
    parser.add_argument(
        "--configs", nargs="+", default=["default"], metavar="NAME", help="(default: default)"
    )
    parser.add_argument(
        "--levels", nargs="+", type=_positive_int, metavar="USERS",
        help="connection counts (default: the run's api_single user levels)",
    )  # fmt: skip
    parser.add_argument(
        "--repetitions", type=_positive_int, help="(default: the run's, at least 1)"
    )
    parser.add_argument("--window", type=_seconds, help="seconds measured (default: the run's)")
    parser.add_argument("--warmup", type=_seconds, help="seconds of warm-up (default: the run's)")
    parser.add_argument(
        "--threads", type=_positive_int, default=1, help="wrk threads (default 1, like Locust)"
    )
    parser.add_argument(
        "--port", type=_positive_int, metavar="BASE",
        help="ports BASE, BASE+1, ... (default: each manifest's)",
    )  # fmt: skip
    parser.add_argument("--wait", action="store_true", help="wait for a running benchmark to end")


def settings_from(
    args: argparse.Namespace, run: StoredRun, deployments: list[Deployment]
) -> Settings:
    window = args.window if args.window is not None else run.plan.get("window_s")
    warmup = args.warmup if args.warmup is not None else run.plan.get("warmup_s")
    window = float(window or DEFAULT_WINDOW_S)
    if window < 1:
        raise CrosscheckError(f"the window must be at least 1 s, not {window}")
    ports = {d.name: args.port + i for i, d in enumerate(deployments)} if args.port else {}
    if any(p > 65535 for p in ports.values()):
        raise CrosscheckError(f"--port {args.port}: ports beyond 65535")
    loadgen_cores = split_cores()[1]
    if args.threads > len(loadgen_cores):
        raise CrosscheckError(
            f"--threads {args.threads} exceeds the load generator's {len(loadgen_cores)} "
            f"core(s) {list(loadgen_cores)}"
        )
    return Settings(
        configs=tuple(args.configs),
        levels=tuple(sorted(set(args.levels))) if args.levels else None,
        repetitions=args.repetitions or int(run.plan.get("repetitions") or 3),
        window_s=window,
        warmup_s=float(DEFAULT_WARMUP_S if warmup is None else warmup),
        threads=args.threads,
        ports=ports,
    )


def run(args: argparse.Namespace, deployments: list[Deployment]) -> int:
    """Run the command; return the process exit code."""
    try:
        wrk_path()
        stored = load_run(args.run)
        chosen = choose_deployments(deployments, args.only, stored)
        settings = settings_from(args, stored, chosen)
        work = plan_levels(chosen, stored, settings)
        with lock.exclusive(wait=args.wait):
            say(f"crosscheck of {stored.run_dir.name} with {wrk_version()}")
            comparisons, measurements = crosscheck(stored, work, settings)
            write_results(stored.run_dir, comparisons, measurements, settings)
    except CrosscheckError as exc:  # WrkMissing included
        say(f"error: {exc}")
        return EXIT_USAGE
    except WrkError as exc:
        say(f"error: {exc}")
        return EXIT_FAILED
    print(render_table(comparisons))
    differing = [c for c in comparisons if c.disagrees]
    if differing:
        say(
            f"\nwrk and Locust differ by more than {DISAGREEMENT:.0%} at {len(differing)} of "
            f"{len(comparisons)} levels: "
            + ", ".join(f"{c.level.deployment}/{c.level.config}/{c.level.users}" for c in differing)
        )
    say(f"written: {stored.run_dir / 'crosscheck.csv'} and crosscheck.json")
    return EXIT_FAILED if any(c.wrk.get("flagged_repetitions") for c in comparisons) else 0
