"""`python -m bench run`: verify, inspect, then measure every deployment on interleaved
repetitions, and store the results (bench/results.py) for the report.

Order of work: verify each deployment (a failure keeps it from being measured) and probe it;
then repetition 1 of every deployment, configuration, scenario and level, then repetition 2,
and so on (the machine's speed drifts, so frameworks are compared only within interleaved
repetitions); then cold starts, also interleaved. Server and Locust are pinned to disjoint cores.
"""

from __future__ import annotations

import contextlib
import csv
import io
import math
import os
import platform
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import requests

from bench import RESULTS_DIR, environment, lock
from bench.answers import same_predictions
from bench.bind import Bind, binding, lines_to_say
from bench.cli_util import raise_if_interrupted, say
from bench.collect import (
    failure_kinds,
    level_metrics,
    read_request_logs,
    recorded_window,
)
from bench.floor import measure_floor
from bench.inspect import CodeSizeError, build_inspections, code_size, inspect_packages
from bench.loadgen import kill_locust, start_locust, wait_locust
from bench.manifest import SCENARIOS, Deployment
from bench.passes import CALIBRATION, Pass, passes, scaling_passes, variant_passes
from bench.payloads import canonical_instances, write_payload_file
from bench.peer_auth import read_refusals
from bench.plan import Plan
from bench.probes import probe_tampered_model, run_probes
from bench.process import (
    DeploymentError,
    ExternalDeployment,
    RunningDeployment,
    serving,
    split_cores,
    start,
    stop,
    wait_healthy,
    wait_until_idle,
)
from bench.results import (
    CODE_SIZE,
    COLD_START,
    FLOOR,
    LEVEL_METRICS,
    OPEN_LOOP,
    PER_DEPLOYMENT_METRICS,
    SCHEMA_VERSION,
    SLO,
    SLO_METRICS,
    Row,
    atomic_write_text,
    new_run_dir,
    point_latest,
    write_json,
    write_rows,
)
from bench.sampler import TreeSampler
from bench.scenarios import (
    BATCH_SIZES,
    CHECK_ANSWERS_ENV,
    INCOMPLETE_LOG_EXIT_CODE,
    OPEN_LOOP_SCENARIOS,
)
from bench.slo import Slo, SloResult, Trial, TrialError, run_open_loop_trial, search_max_rate
from bench.stacks import stack_packages, stack_records
from bench.streamlit_client import StreamlitProtocolError, StreamlitSession
from bench.validity import run_validity
from bench.verify import CheckResult, verify
from shared_model.model import LoadedModel, load_model, predict

TARGET_NOTE = (
    "Measured at {url}, a deployment this run did not start: no server CPU or memory, no cold "
    "start, no probes, no in-process floor, and only the deployment's main configuration as it "
    "runs there (no model variants or worker counts)."
)
VERIFY_COLUMNS = ("deployment", "config", "check", "status", "reason", "http_status")
# The load scenario whose request each floor batch size matches.
FLOOR_SCENARIOS = {BATCH_SIZES["api_single"]: "api_single", BATCH_SIZES["api_batch"]: "api_batch"}
# Locust's start-up and shutdown and server restarts around each window: the first guess of the
# time left, replaced by the measured time per level once one has finished.
LEVEL_OVERHEAD_S = 4.0


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
    # Workers on other hosts (python -m bench worker) that the master waits for, and where the
    # master listens for them.
    remote_workers: int = 0
    master_bind: str = "127.0.0.1"
    master_port: int | None = None
    worker_secret: str | None = None  # what remote workers prove (bench/peer_auth.py)
    target: str | None = None  # a deployment running elsewhere: measured, not started
    levels_done: int = 0
    levels_total: int = 0
    measure_started: float = 0.0
    started: float = field(default_factory=time.monotonic)

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
        units = {**LEVEL_METRICS, **PER_DEPLOYMENT_METRICS, **SLO_METRICS}
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
        write_json(self.run_dir / "run.json", self.info)


def run_benchmark(
    plan: Plan,
    deployments: list[Deployment],
    results_dir: Path = RESULTS_DIR,
    corrupt_expected: bool = False,
    wait_for_lock: bool = False,
    locust_workers: int = 0,
    target: str | None = None,
    remote_workers: int = 0,
    master_bind: str = "127.0.0.1",
    master_port: int | None = None,
    worker_secret: str | None = None,
    bind: Bind | None = None,
) -> tuple[Path, str]:
    """Run the plan; return the run folder and its status (complete, partial, interrupted).

    locust_workers: 0 runs one Locust process per level; N runs Locust's distributed mode, a
    master and N worker processes, all on the load generator's cores; remote_workers more
    workers on other hosts connect to the master at master_bind:master_port. target: the base URL of
    the one deployment given, already running elsewhere; it is verified and loaded, but not
    started, stopped, sampled, probed or cold-started, and only its main pass is measured.
    bind: where the servers it starts listen (default 127.0.0.1), recorded in run.json."""
    if target and len(deployments) != 1:
        raise ValueError("--target measures one deployment: name it with --only NAME")
    bind = bind or Bind()
    with lock.exclusive(wait=wait_for_lock), binding(bind):
        machine = environment.machine()  # before pinning, which hides cores from this process
        if not machine["bytecode_precompiled"]:
            say(environment.BYTECODE_WARNING)
        server_cores, loadgen_cores = split_cores()
        with pinned_to(loadgen_cores):
            run = Run(
                plan,
                deployments,
                load_model(),
                new_run_dir(results_dir, plan.profile),
                server_cores,
                loadgen_cores,
                locust_workers=locust_workers,
                target=target.rstrip("/") if target else None,
                remote_workers=remote_workers,
                master_bind=master_bind,
                master_port=master_port,
                worker_secret=worker_secret,
            )
            run.info = run_info(run, machine)
            run.info["bind"] = bind.record()
            run.info["notes"] += lines_to_say(bind)
            if run.target:
                run.info["target"] = run.target
                run.info["notes"].append(TARGET_NOTE.format(url=run.target))
            return _run(run, corrupt_expected)


@contextlib.contextmanager
def pinned_to(cores: tuple[int, ...]) -> Iterator[None]:
    """Keep this process (the runner's sampling threads) off the server's cores, and give the
    caller its cores back afterwards."""
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, cores)
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


def _run(run: Run, corrupt_expected: bool) -> tuple[Path, str]:
    for sub in ("raw", "logs"):
        (run.run_dir / sub).mkdir()
    run.save_info()
    write_payload_files(run, corrupt_expected)
    try:
        verified = verify_and_probe(run)
        measure(run, verified)
        measure_slo(run, verified)
        measure_cold_starts(run, verified)
        failed = any(
            run.deployment_info(d)["levels_failed"] or not run.deployment_info(d)["verified"]
            for d in run.deployments
        )
        run.info["status"] = "partial" if failed else "complete"
    except BaseException:
        run.info["status"] = "interrupted"
        raise
    finally:
        run.info["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        run.info["wall_s"] = round(time.monotonic() - run.started, 1)
        run.info["validity"] = run_validity(run.rows, run.info)
        run.save_info()
        say(f"results: {run.run_dir} ({run.info['status']}, {run.info['validity']['verdict']})")
        for reason in run.info["validity"]["reasons"]:
            say(f"  not valid: {reason}")
    # Only a run that finished (complete or partial) gets here: an interrupted one must not
    # hide the last finished run from `make report` and `make crosscheck`.
    point_latest(run.run_dir.parent, run.run_dir)
    return run.run_dir, run.info["status"]


def write_payload_files(run: Run, corrupt_expected: bool) -> None:
    variants = run.plan.model_variants.models if run.plan.model_variants else ()
    for name in dict.fromkeys((run.model_name, *variants)):
        model = run.model if name == run.model_name else load_model(name=name)
        write_payload_file(model, run.payload_file(name), corrupt_expected)


def run_info(run: Run, machine: dict[str, Any]) -> dict[str, Any]:
    packages = environment.packages()
    return {
        "schema_version": SCHEMA_VERSION,
        "run_id": run.run_id,
        "status": "running",
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "profile": run.plan.profile,
        "plan": run.plan.as_dict(),
        "machine": machine,
        "python": platform.python_version(),
        "packages": packages,
        "git": environment.git_state(),
        "model": {
            k: run.model.metadata[k]
            for k in ("name", "version", "sha256", "test_accuracy", "estimator", "dataset")
        },
        "pinning": {
            "server_cores": list(run.server_cores),
            "loadgen_cores": list(run.loadgen_cores),
            "method": "sched_setaffinity",
        },
        "load": {
            "generator": f"locust {packages.get('locust', '?')}",
            "locust_processes": (
                f"distributed: 1 master, {run.locust_workers} local and "
                f"{run.remote_workers} remote workers (remote CPU not sampled)"
                if run.locust_workers or run.remote_workers
                else "one process per level"
            ),
            "users": "closed loop, no think time",
            "spawn": "all users within 1 s",
        },
        "stacks": stack_records([d.stack for d in run.deployments], packages),
        "deployments": {
            d.name: deployment_entry(
                d, run.plan, stack_packages(d.stack, packages), len(run.server_cores)
            )
            for d in run.deployments
        },
        "notes": [],
    }


def deployment_entry(
    d: Deployment, plan: Plan, packages: dict[str, str], server_cores: int
) -> dict[str, Any]:
    return {
        "display_name": d.display_name,
        "role": d.role,
        # The stack it was served from (run.json "stacks") and the deployment it is a variant of
        # there: "flask-2022" has stack "2022" and base "flask"; today's are their own base.
        "stack": d.stack.name,
        "base": d.base_name,
        "framework": d.framework,
        "framework_version": packages.get(d.framework, "?"),
        "server": d.server,
        "server_version": packages.get(d.server, "?"),
        "extensions": dict(d.extensions),
        "host_check": d.host_check,
        "scenarios": list(d.scenarios),
        "not_applicable": [s for s in SCENARIOS if s not in d.scenarios],
        "configs": {name: d.configs[name].description for name in plan.configs_for(d)},
        "diagnostic_configs": [name for name in plan.configs_for(d) if d.configs[name].diagnostic],
        # Passes beside the main ones (bench/passes.py): worker counts and other model variants.
        "scaling_configs": [p.label for p in scaling_passes(plan, d, "", server_cores)],
        "workers_env": d.workers_env,
        "model_variants": sorted({p.model for p in variant_passes(plan, d)}),
        "notes": d.notes,
        "verified": False,
        "verify_failures": [],
        "levels_failed": [],
    }


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


def verify_and_probe(run: Run) -> list[Deployment]:
    """Verify every deployment and probe the ones that pass; store inspections and code size."""
    say("inspecting the installed frameworks ...")
    packages = inspect_packages(run.deployments)
    probes: dict[str, dict[str, Any]] = {}
    tampered: dict[str, Any] = {}
    verified = []
    for d in run.deployments:
        raise_if_interrupted()
        record_code_size(run, d)
        say(f"verifying {d.display_name} ...")
        entry = run.deployment_info(d)
        try:
            if run.target:
                results = verify(ExternalDeployment(d, run.target), run.model)
            else:
                results = first_start(run, d, probes)
        except DeploymentError as exc:
            results = []
            entry["verify_failures"].append(
                {"check": "start and answer health", "reason": str(exc)}
            )
        run.verify_rows += [
            {
                "deployment": r.deployment,
                "config": "default",
                "check": r.check,
                "status": r.status,
                "reason": r.reason,
                "http_status": "" if r.http_status is None else str(r.http_status),
            }
            for r in results
        ]
        entry["verify_failures"] += [
            {"check": r.check, "reason": r.reason} for r in results if not r.passed
        ]
        entry["verified"] = not entry["verify_failures"]
        say(
            f"  {sum(r.passed for r in results)}/{len(results)} checks passed"
            + ("" if entry["verified"] else " -> not measured")
        )
        if entry["verified"]:
            verified.append(d)
            if d.role == CALIBRATION or run.target:  # nothing to probe, or not ours to restart
                continue
            probes.setdefault(d.name, {}).update(probe_other_configs(run, d))
            if run.plan.tampered_model_probe:
                say(f"  probing {d.name} with a tampered model artifact ...")
                folder = run.run_dir / "probes" / d.name / "tampered"
                result = noted(
                    run, f"{d.name} tampered-model probe", partial(probe_tampered_model, d, folder)
                )
                if result is not None:
                    tampered[d.name] = result
    write_verify_csv(run)
    write_json(run.run_dir / "inspections.json", build_inspections(packages, probes, tampered))
    run.save_info()
    return verified


def record_code_size(run: Run, d: Deployment) -> None:
    try:
        run.add(d, "default", CODE_SIZE, 0, 0, code_size(d))
    except CodeSizeError as exc:
        run.info["notes"].append(f"code size of {d.name} not measured: {exc}")


def probe_other_configs(run: Run, d: Deployment) -> dict[str, Any]:
    """Concurrency and security probes of the configurations besides the default (which
    first_start probed), one server start each."""
    results = {}
    for config in run.plan.probe_configs_for(d):
        if config == "default":
            continue
        say(f"  probing {d.name}/{config} (concurrency, security) ...")
        result = noted(run, f"{d.name}/{config} probes", partial(probe_config, run, d, config))
        if result is not None:
            results[config] = result
    return results


def probe_config(run: Run, d: Deployment, config: str) -> dict[str, Any]:
    logs = log_path(run, d, config, "probe")
    with serving(d, config, cores=run.server_cores, log_path=logs) as running:
        return run_probes(running, run.model, run.run_dir / "probes" / d.name / config)


def first_start(run: Run, d: Deployment, probes: dict[str, Any]) -> list[CheckResult]:
    """Spawn the deployment (its first cold-start sample), verify it while it runs, and if it
    passes, probe its default configuration on the same server."""
    running = start(d, cores=run.server_cores, log_path=log_path(run, d, "default", "verify"))
    try:
        if d.role == CALIBRATION:  # its constant answer is no prediction to wait for
            wait_healthy(running)
        else:
            seconds = first_correct_prediction(running, run.model)
            run.add(d, "default", COLD_START, 0, 1, {"cold_start_s": seconds})
            say(f"  cold start {seconds:.2f} s")
        results = verify(running, run.model)
        if all(r.passed for r in results) and d.role != CALIBRATION:
            say(f"  probing {d.name}/default (concurrency, security) ...")
            folder = run.run_dir / "probes" / d.name / "default"
            result = noted(
                run, f"{d.name}/default probes", partial(run_probes, running, run.model, folder)
            )
            if result is not None:
                probes.setdefault(d.name, {})["default"] = result
        return results
    finally:
        stop(running)


def write_verify_csv(run: Run) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, list(VERIFY_COLUMNS), lineterminator="\n")
    writer.writeheader()
    writer.writerows(run.verify_rows)
    atomic_write_text(run.run_dir / "verify.csv", buffer.getvalue())


def measure(run: Run, deployments: list[Deployment]) -> None:
    plan = run.plan
    passes_of = {
        d.name: passes(plan, d, run.model_name, len(run.server_cores))[: 1 if run.target else None]
        for d in deployments
    }
    order = {rep: rotated(deployments, rep - 1) for rep in range(1, plan.repetitions + 1)}
    run.levels_total = sum(
        p.levels_count for ds in order.values() for d in ds for p in passes_of[d.name]
    )
    run.measure_started = time.monotonic()
    for rep, ds in order.items():
        if not run.target:
            measure_floor_rows(run, rep)
        for d in ds:
            for p in passes_of[d.name]:
                measure_deployment(run, p, rep)


def measure_floor_rows(run: Run, rep: int) -> None:
    """The in-process floor of every model variant, once per repetition (it drifts with the
    machine as the load levels do), pinned to the server's cores."""
    variants = run.plan.model_variants.models if run.plan.model_variants else ()
    for model in dict.fromkeys((run.model_name, *variants)):
        raise_if_interrupted()
        say(f"in-process floor of {model} (repetition {rep}) ...")
        floor = noted(run, f"floor of {model}", partial(measure_floor, model, run.server_cores))
        for batch_size, figures in (floor or {}).items():
            scenario = FLOOR_SCENARIOS.get(batch_size)
            if scenario is None:
                continue
            for call in ("predict", "validate_and_predict"):
                metrics = {
                    f"latency_{stat}": figures[f"{call}_{stat}_ms"]
                    for stat in ("p10", "p90", "mean")
                }
                metrics["latency_p50"] = figures[f"{call}_median_ms"]
                run.rows += [
                    Row(run.run_id, FLOOR, call, scenario, 0, rep, name, value, "ms", model)
                    for name, value in metrics.items()
                ]
    write_rows(run.run_dir / "results.csv", run.rows)


def rotated(items: list[Deployment], by: int) -> list[Deployment]:
    """Each repetition starts with another deployment, so none always runs first."""
    if not items:
        return items
    by %= len(items)
    return items[by:] + items[:by]


def measure_deployment(run: Run, p: Pass, rep: int) -> None:
    if run.target:
        for scenario in p.scenarios:
            for users in p.levels:
                raise_if_interrupted()
                run.levels_done += 1
                progress(run, p, scenario, users, rep)
                measure_level(
                    run, ExternalDeployment(p.deployment, run.target), p, scenario, users, rep
                )
        return
    running: RunningDeployment | None = None
    try:
        for scenario in p.scenarios:
            for users in p.levels:
                raise_if_interrupted()
                run.levels_done += 1
                progress(run, p, scenario, users, rep)
                if running is None or running.process.poll() is not None:
                    running = restart(run, p, rep, running)
                    if running is None:
                        why = "the deployment could not be (re)started"
                        run.fail_level(p.deployment, p.label, scenario, users, rep, why, p.model)
                        continue
                measure_level(run, running, p, scenario, users, rep)
    finally:
        if running is not None:
            stop(running)


def restart(
    run: Run, p: Pass, rep: int, previous: RunningDeployment | None
) -> RunningDeployment | None:
    if previous is not None:
        stop(previous)
    running = None
    suffix = "" if p.model == run.model_name else f"-{p.model}"
    try:
        running = start(
            p.deployment,
            p.config,
            cores=run.server_cores,
            log_path=log_path(run, p.deployment, p.label, f"r{rep}{suffix}"),
            extra_env=p.server_env,
        )
        wait_healthy(running)
        # gunicorn answers health as soon as one worker is up; the others may still be loading.
        wait_until_idle(running)
    except DeploymentError as exc:
        say(f"    {exc}")
        if running is not None:
            stop(running)
        return None
    return running


def measure_level(
    run: Run,
    running: RunningDeployment | ExternalDeployment,
    p: Pass,
    scenario: str,
    users: int,
    rep: int,
) -> None:
    plan, d, config = run.plan, running.deployment, p.label
    fail = partial(run.fail_level, d, config, scenario, users, rep, model=p.model)
    model_part = "" if p.model == run.model_name else f"-{p.model}"
    prefix = run.run_dir / "raw" / f"{d.name}-{config}{model_part}-{scenario}-u{users}-r{rep}"
    # Set-up (a Streamlit session's first run loads the model) may take up to a start-up.
    max_run_time = d.startup_timeout_s + plan.warmup_s + plan.window_s + 5
    # The null target answers a constant: the load generator reads it but cannot check it.
    locust_env = {CHECK_ANSWERS_ENV: "0"} if d.role == CALIBRATION else {}
    locust = start_locust(
        scenario, running.base_url, users, plan.warmup_s, plan.window_s, max_run_time, prefix,
        run.loadgen_cores, run.payload_file(p.model), extra_env=locust_env,
        locust_workers=run.locust_workers, remote_workers=run.remote_workers,
        master_bind_host=run.master_bind, master_port=run.master_port,
        worker_secret=run.worker_secret,
    )  # fmt: skip
    try:
        with TreeSampler(running.tree) as server, TreeSampler(locust.tree) as loadgen:
            code = wait_locust(locust, max_run_time + 30, between=raise_if_interrupted)
            load_ended = time.time()
    except subprocess.TimeoutExpired:
        fail("Locust did not stop after its run time")
        return
    finally:
        kill_locust(locust)
        refused = record_refusals(run, locust.refusals_log, prefix.name)
    if refused:
        fail(f"the Locust master refused {len(refused)} peer message(s): {refused[0]['reason']}")
        return
    if code == INCOMPLETE_LOG_EXIT_CODE:
        fail(f"a Locust worker's last request-log lines never reached the master; see {prefix}*")
        return
    if running.process.poll() is not None:
        code = running.process.returncode
        tail = running.log_tail(3) or "(its log is empty)"
        fail(f"the server exited (code {code}) during the level: {tail}")
        return
    try:
        requests_ = read_request_logs(locust.request_logs)
        window = recorded_window(requests_, plan.warmup_s, plan.window_s)
    except (OSError, ValueError) as exc:
        fail(f"no request log: {exc}; see {', '.join(log.name for log in locust.output_logs)}")
        return
    raise_if_interrupted()  # before the level is stored: an interrupted level is not kept
    # Locust quits just after the window by itself; ending before it means its run-time cap
    # cut the load short. (The last logged answer may end well before the window does when
    # each interaction takes as long as the window: that is slow, not short.)
    if load_ended < window.end:
        fail("Locust stopped before the window ended (its run-time cap)")
        return
    metrics = level_metrics(
        requests_,
        window,
        [] if run.target else server.between(window.start, window.end),
        loadgen.between(window.start, window.end),
        # Workers sharing fewer cores than their number cannot exceed those cores together.
        loadgen_processes=max(1, min(run.locust_workers, len(run.loadgen_cores))),
    )
    run.add(d, config, scenario, users, rep, metrics, p.model)
    kinds = failure_kinds(requests_, window)
    say(
        f"    {metrics['throughput']:.1f}/s  p50 {metrics['latency_p50']:.1f} ms"
        f"  p99 {metrics['latency_p99']:.1f} ms  server CPU {metrics['server_cpu']:.0f}%"
        f"  Locust CPU {metrics['loadgen_cpu']:.0f}%"
        + (f"  failures {kinds}" if kinds else "")
        + ("  [load-generator bound]" if metrics["loadgen_bound"] else "")
    )


def record_refusals(run: Run, path: Path | None, level: str) -> list[dict[str, str]]:
    """What the level's master refused, kept in run.json (refused_peers, which make the run
    INVALID; a worker of another level, told to quit, only as a note). Returns the refusals."""
    entries = read_refusals(path)
    run.info["notes"] += [
        f"{level}: a worker left over from another level ({e['peer']}) was told to quit"
        for e in entries
        if e["kind"] == "stale"
    ]
    refused = [e for e in entries if e["kind"] != "stale"]
    if refused:
        run.info.setdefault("refused_peers", []).extend({**e, "level": level} for e in refused)
    return refused


def progress(run: Run, p: Pass, scenario: str, users: int, rep: int) -> None:
    finished = run.levels_done - 1
    per_level = (
        (time.monotonic() - run.measure_started) / finished
        if finished
        else run.plan.warmup_s + run.plan.window_s + LEVEL_OVERHEAD_S
    )
    left_s = (run.levels_total - finished) * per_level
    say(
        f"[{run.levels_done}/{run.levels_total}] rep {rep}/{run.plan.repetitions}  "
        f"{p.deployment.name}/{p.label}"
        + ("" if p.model == run.model_name else f" [{p.model}]")
        + f"  {scenario}  {users} users   "
        f"~{int(left_s // 60)} min {int(left_s % 60):02d} s of load left"
    )


def measure_slo(run: Run, deployments: list[Deployment]) -> None:
    """For each deployment, configuration and scenario the plan names: the highest open-loop
    arrival rate whose p99 latency (from the schedule) stays under the bound, confirmed by a
    repeat trial (bench/slo.py). One server start per search."""
    plan = run.plan.slo
    if plan is None:
        return
    for d in deployments:
        if d.role == CALIBRATION or not run.plan.searches_slo(d):
            continue
        configs = ["default"] if run.target else [c for c in plan.configs if c in d.configs]
        for config in configs:
            for scenario in (s for s in d.scenarios if s in plan.bounds_ms):
                raise_if_interrupted()
                if scenario not in OPEN_LOOP_SCENARIOS:
                    continue
                bound = plan.bounds_ms[scenario]
                say(f"SLO search: {d.name}/{config} {scenario}, p99 <= {bound:g} ms")
                noted(run, f"{d.name}/{config} {scenario} SLO search",
                      partial(search_slo, run, d, config, scenario))  # fmt: skip


def search_slo(run: Run, d: Deployment, config: str, scenario: str) -> None:
    plan = run.plan.slo
    assert plan is not None
    slo = Slo(plan.bounds_ms[scenario], min_interactions=plan.trial_minimum(scenario))
    logs = log_path(run, d, config, f"slo-{scenario}")
    server = (
        contextlib.nullcontext(ExternalDeployment(d, run.target))
        if run.target
        else serving(d, config, cores=run.server_cores, log_path=logs)
    )
    with server as running:
        step = iter(range(1, 1000))

        def measure_rate(rate: float) -> Trial:
            raise_if_interrupted()
            # Enough interactions for a p99 at low rates: the window grows to hold them.
            window_s = max(plan.window_s, 1.2 * slo.min_interactions / rate)
            prefix = run.run_dir / "raw" / f"{d.name}-{config}-{scenario}-open-t{next(step)}"
            try:
                trial = run_open_loop_trial(
                    OPEN_LOOP_SCENARIOS[scenario], running.base_url, rate, plan.warmup_s,
                    window_s, prefix, run.loadgen_cores, run.payload_file(),
                    setup_s=d.startup_timeout_s,
                )  # fmt: skip
            except TrialError as exc:
                # A harness failure, not the server missing its SLO: the search is not measured
                # (measure_slo notes it in the run) rather than read as a miss.
                raise TrialError(f"no measurement at {rate:.1f}/s: {exc}") from exc
            say(f"    {rate:.1f}/s: p99 {trial.p99_ms:.1f} ms, {trial.interactions} due, "
                f"{trial.failures} failed, {trial.late_sends} sent late")  # fmt: skip
            return trial

        result = search_max_rate(
            measure_rate, slo, plan.start_rates[scenario], max_steps=plan.max_steps
        )
    store_slo(run, d, config, scenario, slo, result)


def store_slo(
    run: Run, d: Deployment, config: str, scenario: str, slo: Slo, result: SloResult
) -> None:
    for index, trial in enumerate(result.trials, start=1):
        metrics = {
            "offered_rate": trial.rate,
            "latency_p99": trial.p99_ms,
            "interactions": float(trial.interactions),
            "failures": float(trial.failures),
            "late_sends": float(trial.late_sends),
            "met_slo": float(trial.met),
        }
        run.add(d, config, f"{OPEN_LOOP}{scenario}", 0, index, metrics)
    summary = {
        "slo_max_rate": math.nan if result.rate is None else result.rate,
        "slo_p99_bound": slo.p99_ms,
        "slo_confirmed": float(result.confirmed),
        "slo_trials": float(len(result.trials)),
    }
    run.add(d, config, f"{SLO}{scenario}", 0, 0, summary)
    run.deployment_info(d).setdefault("slo_stops", {})[f"{config}/{scenario}"] = str(
        result.stopped.value
    )
    shown = "none" if result.rate is None else f"{result.rate:.1f}/s"
    say(f"  max rate under the SLO: {shown} ({'confirmed' if result.confirmed else 'unconfirmed'})")


def measure_cold_starts(run: Run, deployments: list[Deployment]) -> None:
    """Samples 2 and up (the first start, at verification, was sample 1), interleaved."""
    deployments = [
        d
        for d in deployments
        if d.role != CALIBRATION and not run.target and run.plan.cold_starts_of(d) > 1
    ]
    for sample in range(2, run.plan.cold_starts + 1):
        for d in rotated(deployments, sample - 1):
            raise_if_interrupted()
            say(f"cold start {sample}/{run.plan.cold_starts}: {d.name}")
            running = None
            try:
                logs = log_path(run, d, "default", f"cold-{sample}")
                running = start(d, cores=run.server_cores, log_path=logs)
                seconds = first_correct_prediction(running, run.model)
            except DeploymentError as exc:
                run.fail_level(d, "default", COLD_START, 0, sample, str(exc))
                continue
            finally:
                if running is not None:
                    stop(running)
            say(f"    {seconds:.2f} s")
            run.add(d, "default", COLD_START, 0, sample, {"cold_start_s": seconds})


def first_correct_prediction(running: RunningDeployment, model: LoadedModel) -> float:
    """Seconds from spawn until the deployment gives a correct prediction to a real client."""
    row = canonical_instances(model)[0]
    expected = predict(model, [row])
    attempt = (
        streamlit_prediction if "ui_session" in running.deployment.scenarios else api_prediction
    )
    classes = model.classes
    deadline = running.started_at + running.deployment.startup_timeout_s
    while time.monotonic() < deadline:
        if running.process.poll() is not None:
            raise DeploymentError(
                f"{running.deployment.name} exited during start-up: {running.log_tail(3)}"
            )
        with contextlib.suppress(
            OSError, requests.RequestException, StreamlitProtocolError, ValueError, KeyError
        ):
            if same_predictions(attempt(running, row, classes), expected, tolerance=0.0):
                return time.monotonic() - running.started_at
        time.sleep(0.02)
    timeout = running.deployment.startup_timeout_s
    raise DeploymentError(
        f"{running.deployment.name} gave no correct prediction within {timeout:.0f} s"
    )


def api_prediction(
    running: RunningDeployment, row: dict[str, float], classes: list[str]
) -> list[dict]:
    response = requests.post(
        running.base_url + "/api/predict", json={"instances": [row]}, timeout=5
    )
    return response.json()["predictions"]


def streamlit_prediction(
    running: RunningDeployment, row: dict[str, float], classes: list[str]
) -> list[dict]:
    with StreamlitSession(running.base_url, timeout_s=30) as session:
        session.connect()
        run = session.submit(row, "Predict")
    label = run.prediction_label
    return [{"label": label, "class_id": classes.index(label), "probabilities": run.json_bodies[0]}]
