"""`python -m bench soak`: one deployment under steady load for minutes; RSS growth and errors.

The load is one Locust run through the engine (bench/load/window.py) whose steps are
consecutive windows at the same users (a minute each unless --window says otherwise; the
first after a warm-up): each window's throughput, errors and latency come from the one
per-request log, cut at the window's boundaries, and a line is printed as each window ends.
The users (and their connections or Streamlit sessions) stay through the whole soak. The
server's process tree is sampled every second through the whole soak.

Results: <results>/soak/<UTC stamp>-<name>-<config>/
  soak.json   written once, at the end (SOAK_KEYS below; status complete | interrupted | failed)
  rss.csv     every sample of the server's tree (RSS_COLUMNS)
  raw/        the per-request log (load.requests.csv), the window boundaries and Locust's output
  server.log  the deployment's output
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np

from bench.cli.console import say
from bench.clients.payloads import write_payload_file
from bench.load.scenarios import INTERACTIONS
from bench.load.spec import LoadSpec, WindowResult, WindowRule
from bench.load.window import run_load
from bench.measure.metrics import (
    failure_kinds,
    level_metrics,
)
from bench.measure.rss_trend import mib
from bench.measure.sampler import Sample, TreeSampler
from bench.run import environment, lock
from bench.run.soak_arguments import add_arguments  # noqa: F401 - the command's options
from bench.run.soak_model import (
    EXIT_FAILED,
    SAMPLE_INTERVAL_S,
    Minute,
    Soak,
    SoakFailed,
    window_lengths,
)
from bench.run.soak_record import finish, soak_info
from bench.store.runs import new_run_dir
from bench.targets.cores import from_args
from bench.targets.manifest import Deployment, ManifestError, select
from bench.targets.pinning import pinned_to
from bench.targets.servers import DeploymentError, RunningDeployment, serving
from shared_model.model import LoadedModel, load_model


def run(args: argparse.Namespace, deployments: list[Deployment]) -> int:
    """Run the command; return the process exit code (an interruption propagates)."""
    [deployment] = select(deployments, [args.name])
    scenario = args.scenario or deployment.scenarios[0]
    check_choices(deployment, args.config, scenario)
    model = load_model()  # a tampered artifact stops the soak before anything starts
    cores = from_args(args)
    with lock.exclusive(wait=args.wait):
        machine = environment.machine()  # before pinning, which hides cores from this process
        with pinned_to(cores.loadgen):
            soak = Soak(
                deployment=deployment,
                config=args.config,
                scenario=scenario,
                users=args.users,
                port=args.port or deployment.port,
                warmup_s=args.warmup,
                windows_s=window_lengths(args.minutes * 60, args.window),
                folder=new_run_dir(args.results / "soak", f"{deployment.name}-{args.config}"),
                server_cores=cores.server,
                loadgen_cores=cores.loadgen,
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


def soak_deployment(soak: Soak, model: LoadedModel) -> int:
    """Start the deployment, load it window after window, and store what was measured in every
    case: complete, failed (exit 1) or interrupted (the KeyboardInterrupt propagates)."""
    (soak.folder / "raw").mkdir()
    write_payload_file(model, soak.payload_file)
    status, reason = "failed", ""
    server = {"port": soak.port, "cores": soak.server_cores, "log_path": soak.folder / "server.log"}
    try:
        say(f"starting {soak.deployment.display_name} ({soak.config}) on port {soak.port} ...")
        with (
            serving(soak.deployment, soak.config, **server) as running,
            TreeSampler(running.tree, interval_s=SAMPLE_INTERVAL_S) as sampler,
        ):
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
    finally:  # the server is stopped by now, whatever happened
        finish(soak, status, reason)
    return 0 if status == "complete" else EXIT_FAILED


def load_windows(soak: Soak, running: RunningDeployment, sampler: TreeSampler) -> None:
    """One load run through the engine: a step per window, all at the soak's users, the first
    after the warm-up; each window's progress line as soon as it ends."""
    planned = len(soak.windows_s)
    spec = LoadSpec(
        scenario=soak.scenario,
        base_url=running.base_url,
        steps=(soak.users,) * planned,
        warmup_s=soak.warmup_s,
        rule=WindowRule.fixed(soak.window_s),
        cores=soak.loadgen_cores,
        payload_file=soak.payload_file,
        out_prefix=soak.folder / "raw" / "load",
        # A Streamlit session's first run loads the model: set-up may take up to a start-up.
        setup_s=soak.deployment.startup_timeout_s,
        warm_each_step=False,
    )
    result = run_load(spec, running, on_window=lambda w: say(progress_line(soak, w, planned)))
    log = spec.out_prefix.with_suffix(".requests.csv")
    for window in result.windows:
        server = sampler.between(window.window.start, window.window.end)
        soak.minutes.append(minute_of(window.step + 1, window, server, log))
    if soak.minutes:
        soak.measured_from = soak.minutes[0].window.start
    if result.interrupted:  # the windows that finished are stored; the signal goes on
        raise KeyboardInterrupt
    if result.failed:
        raise SoakFailed(result.failure)


def minute_of(index: int, window: WindowResult, server: list[Sample], request_log: Path) -> Minute:
    requests = window.requests
    done = [r for r in requests if window.window.holds(r.end)]
    ok_ms = np.array([r.ms for r in done if r.ok and r.name in INTERACTIONS])
    metrics = level_metrics(requests, window.window, server, window.loadgen)
    kinds = failure_kinds(requests, window.window)
    return Minute(index, window.window, request_log, metrics, ok_ms, len(done), kinds)


def progress_line(soak: Soak, window: WindowResult, planned: int) -> str:
    """A window's line as soon as it ends, from Locust's own counts (its latency figures come
    from the log at the end of the soak) and the server's samples so far."""
    seconds, counts = window.window.seconds, window.summary
    rate = counts.get("interactions", math.nan) / seconds if seconds > 0 else math.nan
    start = soak.measured_from or window.window.start
    measured = [s for s in soak.samples if s.processes and s.at >= start]
    rss = "RSS ?"
    if measured:
        now, growth = (
            mib(measured[-1].rss_bytes),
            mib(measured[-1].rss_bytes - measured[0].rss_bytes),
        )
        rss = f"RSS {now:.1f} MiB ({growth:+.1f} since the warm-up)"
    soak.measured_from = start
    left_s = sum(soak.windows_s[window.step + 1 :])
    return (
        f"[{window.step + 1}/{planned}] {rate:.1f}/s  failed {counts.get('failures', 0):.0f}  "
        f"{rss}   ~{int(left_s // 60)} min {int(left_s % 60):02d} s left"
    )
