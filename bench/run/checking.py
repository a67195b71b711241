"""Before anything is measured: verify every deployment, probe the ones that pass, store the
inspections and code sizes."""

from __future__ import annotations

import csv
import io
from functools import partial
from typing import Any

from bench.checks.inspections import CodeSizeError, build_inspections, code_size, inspect_packages
from bench.checks.probes import run_probes
from bench.checks.probes_tampered import probe_tampered_model
from bench.checks.verify import CheckResult, verify
from bench.cli.console import raise_if_interrupted, say
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
    inspections = build_inspections(packages, probes, tampered)
    write_inspections(run.run_dir / "inspections.json", inspections)
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
