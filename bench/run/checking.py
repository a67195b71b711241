"""Before anything is measured: verify every deployment, probe the ones that pass, store the
inspections and code sizes."""

from __future__ import annotations

import csv
import io
from functools import partial
from typing import Any

from bench.checks.browser_timing import time_browser_sessions
from bench.checks.inspections import CodeSizeError, build_inspections, code_size, inspect_packages
from bench.checks.probes import run_probes
from bench.checks.probes_tampered import probe_tampered_model
from bench.checks.verify import CheckResult, verify
from bench.cli.console import raise_if_interrupted, say
from bench.clients import clients_for
from bench.run.cold_starts import first_correct_prediction
from bench.run.context import Run, log_path, noted
from bench.run.passes import CALIBRATION
from bench.store.files import atomic_write_text
from bench.store.inspections import write_inspections
from bench.store.table import CODE_SIZE, COLD_START
from bench.targets.manifest import Deployment
from bench.targets.servers import (
    DeploymentError,
    ExternalDeployment,
    RunningDeployment,
    serving,
    start,
    stop,
    wait_healthy,
)

VERIFY_COLUMNS = ("deployment", "config", "check", "status", "reason", "http_status")


def verify_and_probe(run: Run) -> list[Deployment]:
    """Verify every deployment and probe the ones that pass; store inspections and code size."""
    say("inspecting the installed frameworks ...")
    packages = inspect_packages(run.deployments)
    probes: dict[str, dict[str, Any]] = {}
    tampered: dict[str, Any] = {}
    timings: dict[str, list[dict[str, Any]]] = {}
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
                results = first_start(run, d, probes, timings)
        except DeploymentError as exc:
            results = []
            entry["verify_failures"].append(
                {"check": "start and answer health", "reason": str(exc)}
            )
        run.verify_rows += verify_rows(results, "default")
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
            if run.target:  # not ours to restart
                continue
            if others := probe_other_configs(run, d):
                probes.setdefault(d.name, {}).update(others)
            if d.role == CALIBRATION:  # a constant answer: no model to tamper with
                continue
            if run.plan.tampered_model_probe:
                say(f"  probing {d.name} with a tampered model artifact ...")
                folder = run.run_dir / "probes" / d.name / "tampered"
                result = noted(
                    run, f"{d.name} tampered-model probe", partial(probe_tampered_model, d, folder)
                )
                if result is not None:
                    tampered[d.name] = result
    write_verify_csv(run)
    inspections = build_inspections(packages, probes, tampered, timings)
    write_inspections(run.run_dir / "inspections.json", inspections)
    run.save_info()
    return verified


def record_code_size(run: Run, d: Deployment) -> None:
    try:
        run.add(d, "default", CODE_SIZE, 0, 0, code_size(d))
    except CodeSizeError as exc:
        run.info["notes"].append(f"code size of {d.name} not measured: {exc}")


def probe_other_configs(run: Run, d: Deployment) -> dict[str, Any]:
    """The configurations besides the default (which first_start checked), one server start
    each: a work configuration, which changes what the deployment does per request, verified
    against the contract as the default is; each probed, but the null target's (its constant
    answer has nothing to probe)."""
    results = {}
    for config in run.plan.probe_configs_for(d):
        if config == "default" or (d.role == CALIBRATION and not d.configs[config].work):
            continue
        say(f"  checking {d.name}/{config} ...")
        result = noted(run, f"{d.name}/{config} checks", partial(probe_config, run, d, config))
        if result is not None:
            results[config] = result
    return results


def probe_config(run: Run, d: Deployment, config: str) -> dict[str, Any] | None:
    logs = log_path(run, d, config, "probe")
    with serving(d, config, cores=run.server_cores, log_path=logs) as running:
        if d.configs[config].work:
            results = verify(running, run.model)
            run.verify_rows += verify_rows(results, config)
            passed = sum(r.passed for r in results)
            say(f"  {d.name}/{config}: {passed}/{len(results)} checks passed")
        if d.role == CALIBRATION:
            return None
        return run_probes(running, run.model, run.run_dir / "probes" / d.name / config)


def verify_rows(results: list[CheckResult], config: str) -> list[dict[str, str]]:
    return [
        {
            "deployment": r.deployment,
            "config": config,
            "check": r.check,
            "status": r.status,
            "reason": r.reason,
            "http_status": "" if r.http_status is None else str(r.http_status),
        }
        for r in results
    ]


def first_start(
    run: Run, d: Deployment, probes: dict[str, Any], timings: dict[str, Any]
) -> list[CheckResult]:
    """Spawn the deployment (its first cold-start sample), verify it while it runs, and if it
    passes, probe its default configuration on the same server, and time real browsers on it
    where the plan asks."""
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
                answer = result.get("answer") or {}
                run.deployment_info(d)["keeps_connections"] = answer.get("kept_alive")
            if browsers_timed(run, d):
                timed = noted(run, f"{d.name} browser timing", partial(time_browsers, run, running))
                if timed is not None:
                    timings[d.name] = timed
        return results
    finally:
        stop(running)


def browsers_timed(run: Run, d: Deployment) -> bool:
    """The plan times browsers, on today's stack, for a deployment a browser reaches through a
    websocket (Streamlit)."""
    websocket = any(c.websocket for c in clients_for(d).values())
    return run.plan.browser is not None and run.plan.stack_plan(d) is None and websocket


def time_browsers(run: Run, running: RunningDeployment) -> list[dict[str, Any]]:
    """Real browsers, then the protocol client, at each number of sessions the plan names."""
    plan = run.plan.browser
    assert plan is not None
    found = []
    for sessions in plan.sessions:
        say(f"  timing {sessions} chromium session(s) beside the protocol client ...")
        found.append(time_browser_sessions(running.base_url, sessions, plan.interactions))
    return found


def write_verify_csv(run: Run) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, list(VERIFY_COLUMNS), lineterminator="\n")
    writer.writeheader()
    writer.writerows(run.verify_rows)
    atomic_write_text(run.run_dir / "verify.csv", buffer.getvalue())
