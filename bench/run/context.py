"""What every part of a run shares: the plan, the deployments, the folder, the rows so far
and run.json."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.cli.console import say
from bench.load.spec import Workers
from bench.run.plan import Plan
from bench.store.run_info import write_run_info
from bench.store.table import (
    CROSSCHECK_METRICS,
    LEVEL_METRICS,
    PER_DEPLOYMENT_METRICS,
    SLO_METRICS,
    Row,
    write_rows,
)
from bench.targets.cores import CoreSplit
from bench.targets.manifest import Deployment
from shared_model.model import LoadedModel

# The phases a run's time is counted in (run.json "phases_s").
PHASES = (
    "verification, probes and inspections",
    "in-process floor",
    "server starts",
    "closed-loop load (Locust)",
    "SLO search",
    "wrk cross-check",
    "cold starts",
)


@dataclass
class Run:
    plan: Plan
    deployments: list[Deployment]
    model: LoadedModel
    run_dir: Path
    server_cores: tuple[int, ...]
    loadgen_cores: tuple[int, ...]
    rows: list[Row] = field(default_factory=list)
    verify_rows: list[dict[str, str]] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)
    locust_workers: int = 0  # 0: one Locust process; N: a master and N workers
    locust_workers_requested: int | str = 0  # what --locust-workers asked for ("auto" or N)
    cores_chosen: str = ""  # how the cores were split (bench.targets.cores.CoreSplit.chosen)
    # Workers on other hosts (python -m bench worker) that the master waits for, and where the
    # master listens for them.
    remote_workers: int = 0
    master_bind: str = "127.0.0.1"
    master_port: int | None = None
    worker_secret: str | None = None  # what remote workers prove (bench/load/peer_auth.py)
    target: str | None = None  # a deployment running elsewhere: measured, not started
    # Seconds spent in each phase of the run (PHASES), for run.json and the closing table.
    phases: dict[str, float] = field(default_factory=dict)
    # The wrk cross-check's windows so far (bench/run/wrk_check.py), for crosscheck.csv.
    wrk_measurements: list[dict[str, Any]] = field(default_factory=list)
    levels_done: int = 0
    levels_total: int = 0
    measure_started: float = 0.0
    started: float = field(default_factory=time.monotonic)

    @property
    def workers(self) -> Workers:
        return Workers(
            local=self.locust_workers,
            remote=self.remote_workers,
            master_bind=self.master_bind,
            master_port=self.master_port,
            secret=self.worker_secret,
        )

    @property
    def cores(self) -> CoreSplit:
        return CoreSplit(self.server_cores, self.loadgen_cores, self.cores_chosen)

    @property
    def run_id(self) -> str:
        return self.run_dir.name

    @property
    def model_name(self) -> str:
        return str(self.model.metadata["name"])

    def payload_file(self, model: str | None = None) -> Path:
        """Request bodies with the answers of `model` (default: the main one)."""
        name = model or self.model_name
        return self.run_dir / "raw" / f"payloads-{name}.json"

    def add(
        self,
        d: Deployment,
        config: str,
        scenario: str,
        users: int,
        rep: int,
        metrics: dict,
        model: str | None = None,
    ) -> None:
        units = {**LEVEL_METRICS, **CROSSCHECK_METRICS, **PER_DEPLOYMENT_METRICS, **SLO_METRICS}
        model = model or self.model_name
        self.rows += [
            Row(self.run_id, d.name, config, scenario, users, rep, name, value, units.get(name, ""),
                model)
            for name, value in metrics.items()
        ]  # fmt: skip
        write_rows(self.run_dir / "results.csv", self.rows)

    def deployment_info(self, d: Deployment) -> dict[str, Any]:
        return self.info["deployments"][d.name]

    def fail_level(
        self,
        d: Deployment,
        config: str,
        scenario: str,
        users: int,
        rep: int,
        why: str,
        model: str | None = None,
    ) -> None:
        say(f"    level failed: {why}")
        self.deployment_info(d)["levels_failed"].append(
            {
                "config": config,
                "scenario": scenario,
                "users": users,
                "repetition": rep,
                "model": model or self.model_name,
                "reason": why,
            }
        )
        self.save_info()

    def save_info(self) -> None:
        write_run_info(self.run_dir / "run.json", self.info)


@contextlib.contextmanager
def timed(run: Run, phase: str) -> Iterator[None]:
    """Count the time inside towards `phase` (one of PHASES)."""
    started = time.monotonic()
    try:
        yield
    finally:
        run.phases[phase] = run.phases.get(phase, 0.0) + time.monotonic() - started


def phase_table(run: Run, wall_s: float) -> str:
    """Where the run's minutes went, phase by phase."""
    shown = {name: run.phases.get(name, 0.0) for name in PHASES}
    shown["other (set-up, payloads, writing)"] = max(0.0, wall_s - sum(shown.values()))
    width = max(map(len, shown))
    lines = [f"  {name:<{width}}  {seconds / 60:5.1f} min  {seconds / wall_s:4.0%}"
             for name, seconds in shown.items() if wall_s > 0]  # fmt: skip
    return "where the minutes went:\n" + "\n".join(lines)


def noted(run: Run, what: str, action: Callable[[], Any]) -> Any:
    """Run a probe or inspection; one that breaks is noted in the run, and the run goes on."""
    try:
        return action()
    except Exception as exc:  # a broken probe must not cost the measurements
        run.info["notes"].append(f"{what} failed: {type(exc).__name__}: {exc}")
        say(f"  {what} failed: {exc}")
        return None


def log_path(run: Run, d: Deployment, config: str, label: str) -> Path:
    return run.run_dir / "logs" / f"{d.name}-{config}-{label}.log"


def rotated(items: list[Deployment], by: int) -> list[Deployment]:
    """Each repetition starts with another deployment, so none always runs first."""
    if not items:
        return items
    by %= len(items)
    return items[by:] + items[:by]
