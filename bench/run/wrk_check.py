"""wrk beside Locust: the cross-check's settings, its load specification through the engine, and its
results, for the stored-run command and inside a run."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.cli.console import say
from bench.load.spec import WRK, LoadSpec, WindowRule, Workers
from bench.load.window import Target, run_load
from bench.load.wrk import (
    SCENARIO,
    WRK_SCRIPT,
    WrkError,
    wrk_version,
)
from bench.measure.agreement import Comparison, Level, compare, csv_text, locust_repetitions
from bench.run.context import Run
from bench.run.passes import Pass
from bench.run.plan import WrkCrosscheck
from bench.store.crosscheck import write_crosscheck_info
from bench.store.files import atomic_write_text
from bench.store.table import Row
from bench.targets.cores import CoreSplit, available_cores, choose_cores
from bench.targets.servers import RunningDeployment

DEFAULT_WINDOW_S, DEFAULT_WARMUP_S = 10.0, 3.0


@dataclass(frozen=True)
class Settings:
    configs: tuple[str, ...] = ("default",)
    levels: tuple[int, ...] | None = None  # None: the stored run's
    repetitions: int = 3
    window_s: float = DEFAULT_WINDOW_S
    warmup_s: float = DEFAULT_WARMUP_S
    threads: int = 1
    ports: dict[str, int] = field(default_factory=dict)  # deployment -> port; else the manifest's
    cores: CoreSplit = field(default_factory=lambda: choose_cores(available_cores()))


def say_wrk(figures: dict[str, float]) -> None:
    say(
        f"    wrk {figures['throughput']:.1f}/s  p50 {figures['latency_p50']:.2f} ms"
        f"  p99 {figures['latency_p99']:.2f} ms  server CPU {figures['server_cpu']:.0f}%"
        + (
            f"  ERRORS: {figures['non_2xx']:.0f} non-2xx, {figures['socket_errors']:.0f} socket"
            if figures["non_2xx"] or figures["socket_errors"]
            else ""
        )
    )


def measurement(
    deployment: str, config: str, users: int, rep: int, figures: dict[str, float]
) -> dict[str, Any]:
    """One wrk window as crosscheck.json keeps it."""
    return {
        "deployment": deployment,
        "config": config,
        "users": users,
        "repetition": rep,
        "figures": figures,
    }


def measure_level(
    running: RunningDeployment,
    users: int,
    settings: Settings,
    payloads: Path,
    loadgen_cores: Sequence[int],
    out_prefix: Path,
) -> dict[str, Any]:
    """A warm-up at the same load, then the measured window, through the engine."""
    spec = wrk_spec(running.base_url, (users,), settings, payloads, loadgen_cores, out_prefix)
    result = run_load(spec, running)
    if result.failed or not result.windows:
        raise WrkError(f"{running.deployment.name}: {result.failure or 'no wrk window'}")
    return result.windows[0].summary


def wrk_spec(
    base_url: str,
    levels: tuple[int, ...],
    settings: Settings,
    payloads: Path,
    loadgen_cores: Sequence[int],
    out_prefix: Path,
) -> LoadSpec:
    """wrk at each level: `settings.warmup_s`, then a fixed window of `settings.window_s`."""
    return LoadSpec(
        scenario=SCENARIO,
        base_url=base_url,
        steps=levels,
        warmup_s=settings.warmup_s,
        rule=WindowRule.fixed(settings.window_s),
        cores=tuple(loadgen_cores),
        payload_file=payloads,
        out_prefix=out_prefix,
        workers=Workers(local=settings.threads),
        generator=WRK,
    )


def write_results(
    run_dir: Path,
    comparisons: list[Comparison],
    measurements: list[dict[str, Any]],
    settings: Settings,
) -> None:
    info = {
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "tool": wrk_version(),
        "script": f"bench/load/lua/{WRK_SCRIPT.name}",
        "pinning": settings.cores.record(),
        "threads": settings.threads,
        "window_s": settings.window_s,
        "warmup_s": settings.warmup_s,
        "repetitions": settings.repetitions,
        "measurements": measurements,
    }
    write_crosscheck_info(run_dir / "crosscheck.json", info)
    atomic_write_text(run_dir / "crosscheck.csv", csv_text(comparisons))


def plan_settings(check: WrkCrosscheck, cores: CoreSplit, threads: int = 1) -> Settings:
    """The run's wrk settings: `threads` as many as Locust has processes, on the run's cores."""
    return Settings(
        configs=check.configs,
        repetitions=check.repetitions,
        window_s=check.window_s,
        warmup_s=check.warmup_s,
        threads=threads,
        cores=cores,
    )


def checks_pass(check: WrkCrosscheck | None, scenario: str, rep: int, main_pass: bool) -> bool:
    """Whether this scenario of this pass gets wrk's load too, in this repetition."""
    return check is not None and scenario == SCENARIO and rep <= check.repetitions and main_pass


def measure_in_run(
    settings: Settings,
    target: Target,
    name: str,
    config: str,
    levels: tuple[int, ...],
    rep: int,
    payloads: Path,
    out_prefix: Path,
) -> tuple[list[dict[str, Any]], str | None]:
    """wrk at the pass's levels on its warm server: the measurements, and why it stopped early."""
    spec = wrk_spec(target.base_url, levels, settings, payloads, settings.cores.loadgen, out_prefix)
    say(f"  wrk cross-check: {', '.join(str(n) for n in levels)} connections")
    result = run_load(spec, target)
    found = []
    for window in result.windows:
        say_wrk(window.summary)
        found.append(measurement(name, config, window.users, rep, window.summary))
    return found, result.failure


def write_in_run(
    run_dir: Path, rows: Iterable[Row], model: str, measurements: list[dict[str, Any]],
    settings: Settings,
) -> list[Comparison]:  # fmt: skip
    """crosscheck.csv and crosscheck.json of the run's own wrk windows beside its Locust ones."""
    wrk: dict[Level, list[dict[str, float]]] = defaultdict(list)
    for m in measurements:
        wrk[Level(m["deployment"], m["config"], m["users"])].append(m["figures"])
    locust = locust_repetitions(rows, model)
    # Locust's repetitions that wrk measured too: the two are compared over the same ones.
    compared = {level: reps[: settings.repetitions] for level, reps in locust.items()}
    comparisons = compare(wrk, compared)
    write_results(run_dir, comparisons, measurements, settings)
    return comparisons


def run_settings(run: Run) -> Settings | None:
    """The plan's cross-check on the run's cores, with as many wrk threads as Locust has load
    processes (bench/targets/cores.py)."""
    if run.plan.crosscheck is None:
        return None
    threads = max(1, min(run.locust_workers, len(run.loadgen_cores)))
    return plan_settings(run.plan.crosscheck, run.cores, threads)


def crosscheck_scenario(run: Run, target: Target, p: Pass, scenario: str, rep: int) -> None:
    """wrk right after Locust on the pass's warm server, where the plan asks for it."""
    check = run.plan.crosscheck
    main = p.label == p.config and p.model == run.model_name
    if check is None or not checks_pass(check, scenario, rep, main and p.config in check.configs):
        return
    prefix = run.run_dir / "raw" / f"wrk-{p.deployment.name}-{p.label}-r{rep}"
    found, failure = measure_in_run(
        run_settings(run), target, p.deployment.name, p.label, p.levels, rep,
        run.payload_file(), prefix,
    )  # fmt: skip
    run.wrk_measurements += found
    if failure:
        run.info["notes"].append(f"wrk cross-check of {prefix.name} stopped: {failure}")


def write_run_crosscheck(run: Run) -> None:
    """crosscheck.csv and .json, and each compared level's verdict in results.csv
    (`wrk_disagrees`, in the repetitions wrk measured), so that the report and the run's
    validity read whether the harness agreed with wrk."""
    if (settings := run_settings(run)) is None or not run.wrk_measurements:
        return
    comparisons = write_in_run(
        run.run_dir, run.rows, run.model_name, run.wrk_measurements, settings
    )
    by_name = {d.name: d for d in run.deployments}
    for c in comparisons:
        if "throughput" not in c.ratios or c.level.deployment not in by_name:
            continue
        d = by_name[c.level.deployment]
        disagrees = {"wrk_disagrees": float("throughput" in c.disagrees)}
        for rep in range(1, settings.repetitions + 1):
            run.add(d, c.level.config, SCENARIO, c.level.users, rep, disagrees)
