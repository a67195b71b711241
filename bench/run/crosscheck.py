"""`python -m bench crosscheck`: wrk against the REST scenario of each deployment, compared
with Locust's figures of a stored run.

Locust is the benchmark's load generator; wrk (C, event loop, no answer checking) is an
independent second opinion on the same servers. For each deployment of the stored run that has
the api_single scenario, each configuration and each user level of that run, wrk opens as many
connections as Locust had users and POSTs the same one-row JSON bodies
(bench/load/lua/api_single.lua
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
import json
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import RESULTS_DIR
from bench.cli.console import raise_if_interrupted, say
from bench.clients.payloads import write_payload_file
from bench.load.scenarios import BATCH_SIZES
from bench.load.wrk import (
    SCENARIO,
    WrkError,
    WrkMissing,
    wrk_path,
    wrk_version,
)
from bench.measure.agreement import (
    DISAGREEMENT,
    Comparison,
    Level,
    compare,
    locust_repetitions,
    render_table,
)
from bench.run import lock
from bench.run.context import rotated
from bench.run.wrk_check import (
    DEFAULT_WARMUP_S,
    DEFAULT_WINDOW_S,
    Settings,
    measure_level,
    measurement,
    say_wrk,
    write_results,
)
from bench.store.table import Row, read_rows
from bench.targets.cores import CoreError, from_args
from bench.targets.cores import add_arguments as add_core_arguments
from bench.targets.manifest import Deployment, select
from bench.targets.pinning import pinned_to
from bench.targets.servers import RunningDeployment, serving
from shared_model.model import load_model

EXIT_FAILED, EXIT_USAGE = 1, 2


class CrosscheckError(ValueError):
    """Bad input: no such run, no such deployment, nothing to measure."""


# ---- request bodies ------------------------------------------------------------------------


def stored_payloads(run_dir: Path, model: str, fresh: Path) -> Path:
    """The payload file Locust used in that run (raw/payloads-<model>.json, or raw/payloads.json
    in runs stored before model variants), else the same pools anew in `fresh`."""
    for stored in (run_dir / "raw" / f"payloads-{model}.json", run_dir / "raw" / "payloads.json"):
        if stored.is_file():
            try:
                json.loads(stored.read_text())[str(BATCH_SIZES[SCENARIO])]
            except (OSError, ValueError, KeyError) as exc:
                raise CrosscheckError(f"{stored}: no one-row request bodies: {exc}") from exc
            return stored
    write_payload_file(load_model(name=model), fresh)
    return fresh


# ---- the stored run's Locust figures and the comparison -----------------------------------


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
    measurements: list[dict[str, Any]] = []
    loadgen = settings.cores.loadgen
    with tempfile.TemporaryDirectory(prefix="bench-crosscheck-") as tmp, pinned_to(loadgen):
        payloads = stored_payloads(run.run_dir, run.model, Path(tmp) / "payloads.json")
        for config, levels in work.items():
            measurements += measure_config(config, levels, settings, payloads, run.run_dir)
    wrk: dict[Level, list[dict[str, float]]] = defaultdict(list)
    for m in measurements:
        wrk[Level(m["deployment"], m["config"], m["users"])].append(m["figures"])
    return compare(wrk, locust_repetitions(run.rows, run.model)), measurements


def measure_config(
    config: str,
    levels: list[tuple[Deployment, list[int]]],
    settings: Settings,
    payloads: Path,
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
                    cores=settings.cores.server,
                    log_path=run_dir / "logs" / f"crosscheck-{d.name}-{config}.log",
                )
            )
        for n, (rep, users, d) in enumerate(turns, start=1):
            raise_if_interrupted()
            say(f"[{n}/{len(turns)}] rep {rep}  {d.name}/{config}  {users} connections")
            prefix = run_dir / "raw" / f"crosscheck-{d.name}-{config}-u{users}-r{rep}"
            figures = measure_level(
                running[d.name], users, settings, payloads, settings.cores.loadgen, prefix
            )
            say_wrk(figures)
            measurements.append(measurement(d.name, config, users, rep, figures))
    return measurements


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
    add_core_arguments(parser)


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
    cores = from_args(args)
    loadgen_cores = cores.loadgen
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
        cores=cores,
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
    except (CrosscheckError, WrkMissing, CoreError) as exc:
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


# ---- inside a run --------------------------------------------------------------------------
