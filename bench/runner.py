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
from bench.cli_util import raise_if_interrupted, say
from bench.collect import (
    failure_kinds,
    level_metrics,
    read_request_log,
    recorded_window,
)
from bench.inspect import CodeSizeError, build_inspections, code_size, inspect_packages
from bench.loadgen import kill_locust, start_locust, wait_locust
from bench.manifest import SCENARIOS, Deployment
from bench.payloads import canonical_instances, write_payload_file
from bench.plan import Plan
from bench.probes import probe_tampered_model, run_probes
from bench.process import (
    DeploymentError,
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
    LEVEL_METRICS,
    PER_DEPLOYMENT_METRICS,
    SCHEMA_VERSION,
    Row,
    atomic_write_text,
    point_latest,
    write_json,
    write_rows,
)
from bench.sampler import TreeSampler
from bench.streamlit_client import StreamlitProtocolError, StreamlitSession
from bench.verify import CheckResult, verify
from shared_model.model import LoadedModel, load_model, predict

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
    levels_done: int = 0
    levels_total: int = 0
    measure_started: float = 0.0
    started: float = field(default_factory=time.monotonic)

    @property
    def run_id(self) -> str:
        return self.run_dir.name

    @property
    def payload_file(self) -> Path:
        return self.run_dir / "raw" / "payloads.json"

    def add(
        self, d: Deployment, config: str, scenario: str, users: int, rep: int, metrics: dict
    ) -> None:
        units = {**LEVEL_METRICS, **PER_DEPLOYMENT_METRICS}
        self.rows += [
            Row(self.run_id, d.name, config, scenario, users, rep, name, value, units.get(name, ""))
            for name, value in metrics.items()
        ]
        write_rows(self.run_dir / "results.csv", self.rows)

    def deployment_info(self, d: Deployment) -> dict[str, Any]:
        return self.info["deployments"][d.name]

    def fail_level(
        self, d: Deployment, config: str, scenario: str, users: int, rep: int, why: str
    ) -> None:
        say(f"    level failed: {why}")
        self.deployment_info(d)["levels_failed"].append(
            {
                "config": config,
                "scenario": scenario,
                "users": users,
                "repetition": rep,
                "reason": why,
            }
        )
        self.save_info()

    def save_info(self) -> None:
        write_json(self.run_dir / "run.json", self.info)


def new_run_dir(results_dir: Path, profile: str) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    for n in range(100):
        run_dir = results_dir / (f"{stamp}-{profile}" + (f"-{n}" if n else ""))
        with contextlib.suppress(FileExistsError):
            run_dir.mkdir(parents=True)
            return run_dir
    raise RuntimeError(f"cannot create a run folder in {results_dir}")


def run_benchmark(
    plan: Plan,
    deployments: list[Deployment],
    results_dir: Path = RESULTS_DIR,
    corrupt_expected: bool = False,
    wait_for_lock: bool = False,
) -> tuple[Path, str]:
    """Run the plan; return the run folder and its status (complete, partial, interrupted)."""
    with lock.exclusive(wait=wait_for_lock):
        machine = environment.machine()  # before pinning, which hides cores from this process
        server_cores, loadgen_cores = split_cores()
        with pinned_to(loadgen_cores):
            run = Run(
                plan,
                deployments,
                load_model(),
                new_run_dir(results_dir, plan.profile),
                server_cores,
                loadgen_cores,
            )
            run.info = run_info(run, machine)
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
    write_payload_file(run.model, run.payload_file, corrupt_expected)
    point_latest(run.run_dir.parent, run.run_dir)
    try:
        verified = verify_and_probe(run)
        measure(run, verified)
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
        run.save_info()
        say(f"results: {run.run_dir} ({run.info['status']})")
    return run.run_dir, run.info["status"]


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
            "users": "closed loop, no think time",
            "spawn": "all users within 1 s",
        },
        "deployments": {d.name: deployment_entry(d, run.plan, packages) for d in run.deployments},
        "notes": [],
    }


def deployment_entry(d: Deployment, plan: Plan, packages: dict[str, str]) -> dict[str, Any]:
    return {
        "display_name": d.display_name,
        "role": d.role,
        "framework": d.framework,
        "framework_version": packages.get(d.framework, "?"),
        "server": d.server,
        "server_version": packages.get(d.server, "?"),
        "scenarios": list(d.scenarios),
        "not_applicable": [s for s in SCENARIOS if s not in d.scenarios],
        "configs": {name: d.configs[name].description for name in plan.configs_for(d)},
        "diagnostic_configs": [name for name in plan.configs_for(d) if d.configs[name].diagnostic],
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
        seconds = first_correct_prediction(running, run.model)
        run.add(d, "default", COLD_START, 0, 1, {"cold_start_s": seconds})
        say(f"  cold start {seconds:.2f} s")
        results = verify(running, run.model)
        if all(r.passed for r in results):
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
    writer = csv.DictWriter(
        buffer, ["deployment", "config", "check", "status", "reason"], lineterminator="\n"
    )
    writer.writeheader()
    writer.writerows(run.verify_rows)
    atomic_write_text(run.run_dir / "verify.csv", buffer.getvalue())


def measure(run: Run, deployments: list[Deployment]) -> None:
    plan = run.plan
    work = [
        (rep, d, config)
        for rep in range(1, plan.repetitions + 1)
        for d in rotated(deployments, rep - 1)
        for config in plan.configs_for(d)
    ]
    run.levels_total = sum(len(d.scenarios) * len(plan.levels_for(d, c)) for _, d, c in work)
    run.measure_started = time.monotonic()
    for rep, d, config in work:
        measure_deployment(run, d, config, rep)


def rotated(items: list[Deployment], by: int) -> list[Deployment]:
    """Each repetition starts with another deployment, so none always runs first."""
    if not items:
        return items
    by %= len(items)
    return items[by:] + items[:by]


def measure_deployment(run: Run, d: Deployment, config: str, rep: int) -> None:
    running: RunningDeployment | None = None
    try:
        for scenario in d.scenarios:
            for users in run.plan.levels_for(d, config):
                raise_if_interrupted()
                run.levels_done += 1
                progress(run, d, config, scenario, users, rep)
                if running is None or running.process.poll() is not None:
                    running = restart(run, d, config, rep, running)
                    if running is None:
                        run.fail_level(
                            d,
                            config,
                            scenario,
                            users,
                            rep,
                            "the deployment could not be (re)started",
                        )
                        continue
                measure_level(run, running, scenario, users, rep)
    finally:
        if running is not None:
            stop(running)


def restart(
    run: Run, d: Deployment, config: str, rep: int, previous: RunningDeployment | None
) -> RunningDeployment | None:
    if previous is not None:
        stop(previous)
    running = None
    try:
        running = start(
            d, config, cores=run.server_cores, log_path=log_path(run, d, config, f"r{rep}")
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
    run: Run, running: RunningDeployment, scenario: str, users: int, rep: int
) -> None:
    plan, d, config = run.plan, running.deployment, running.config
    prefix = run.run_dir / "raw" / f"{d.name}-{config}-{scenario}-u{users}-r{rep}"
    # Set-up (a Streamlit session's first run loads the model) may take up to a start-up.
    max_run_time = d.startup_timeout_s + plan.warmup_s + plan.window_s + 5
    locust = start_locust(
        scenario, running.base_url, users, plan.warmup_s, plan.window_s, max_run_time, prefix,
        run.loadgen_cores, run.payload_file,
    )  # fmt: skip
    try:
        with TreeSampler(running.tree) as server, TreeSampler(locust.tree) as loadgen:
            wait_locust(locust, timeout_s=max_run_time + 30)
            load_ended = time.time()
    except subprocess.TimeoutExpired:
        run.fail_level(d, config, scenario, users, rep, "Locust did not stop after its run time")
        return
    finally:
        kill_locust(locust)
    if running.process.poll() is not None:
        run.fail_level(
            d,
            config,
            scenario,
            users,
            rep,
            f"the server exited (code {running.process.returncode}) during the level: "
            + running.log_tail(3),
        )
        return
    try:
        requests_ = read_request_log(locust.request_log)
        window = recorded_window(requests_, plan.warmup_s, plan.window_s)
    except (OSError, ValueError) as exc:
        run.fail_level(
            d, config, scenario, users, rep, f"no request log: {exc}; see {locust.output_log.name}"
        )
        return
    raise_if_interrupted()  # before the level is stored: an interrupted level is not kept
    # Locust quits just after the window by itself; ending before it means its run-time cap
    # cut the load short. (The last logged answer may end well before the window does when
    # each interaction takes as long as the window: that is slow, not short.)
    if load_ended < window.end:
        why = "Locust stopped before the window ended (its run-time cap)"
        run.fail_level(d, config, scenario, users, rep, why)
        return
    metrics = level_metrics(
        requests_,
        window,
        server.between(window.start, window.end),
        loadgen.between(window.start, window.end),
    )
    run.add(d, config, scenario, users, rep, metrics)
    kinds = failure_kinds(requests_, window)
    say(
        f"    {metrics['throughput']:.1f}/s  p50 {metrics['latency_p50']:.1f} ms"
        f"  p99 {metrics['latency_p99']:.1f} ms  server CPU {metrics['server_cpu']:.0f}%"
        f"  Locust CPU {metrics['loadgen_cpu']:.0f}%"
        + (f"  failures {kinds}" if kinds else "")
        + ("  [load-generator bound]" if metrics["loadgen_bound"] else "")
    )


def progress(run: Run, d: Deployment, config: str, scenario: str, users: int, rep: int) -> None:
    finished = run.levels_done - 1
    per_level = (
        (time.monotonic() - run.measure_started) / finished
        if finished
        else run.plan.warmup_s + run.plan.window_s + LEVEL_OVERHEAD_S
    )
    left_s = (run.levels_total - finished) * per_level
    say(
        f"[{run.levels_done}/{run.levels_total}] rep {rep}/{run.plan.repetitions}  "
        f"{d.name}/{config}  {scenario}  {users} users   "
        f"~{int(left_s // 60)} min {int(left_s % 60):02d} s of load left"
    )


def measure_cold_starts(run: Run, deployments: list[Deployment]) -> None:
    """Samples 2 and up (the first start, at verification, was sample 1), interleaved."""
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
