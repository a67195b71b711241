"""What run.json says of a run before it measures anything: plan, machine, packages, deployments."""

from __future__ import annotations

import platform
from datetime import UTC, datetime
from typing import Any

from bench.run import environment
from bench.run.context import Run
from bench.run.passes import DEFAULT_WORKERS, scaling_passes, variant_passes
from bench.run.plan import Plan
from bench.store.run_info import RUN_INFO_VERSION as SCHEMA_VERSION
from bench.targets.cores import AUTO_RULE
from bench.targets.manifest import SCENARIOS, Deployment
from bench.targets.stacks import stack_packages, stack_records


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
            "chosen": run.cores_chosen,
        },
        "load": {
            "generator": f"locust {packages.get('locust', '?')}",
            "locust_processes": (
                f"distributed: 1 master, {run.locust_workers} local and "
                f"{run.remote_workers} remote workers (remote CPU not sampled)"
                if run.locust_workers or run.remote_workers
                else "one process per load run, stepping through its levels"
            ),
            "locust_workers": run.locust_workers,
            "locust_workers_requested": str(run.locust_workers_requested),
            "locust_workers_rule": AUTO_RULE,
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
        # Offered, but left out by the plan (another stack's `scenarios`).
        "not_planned": [s for s in d.scenarios if s not in plan.scenarios_for(d)],
        "configs": {name: d.configs[name].description for name in plan.configs_for(d)},
        "diagnostic_configs": [name for name in plan.configs_for(d) if d.configs[name].diagnostic],
        "work_configs": [name for name in plan.configs_for(d) if d.configs[name].work],
        # Passes beside the main ones (bench/run/passes.py): worker counts and other model variants.
        "scaling_configs": [p.label for p in scaling_passes(plan, d, "", server_cores)],
        "workers_env": d.workers_env,
        # The worker count its default configuration runs (its workers_1 figures, where the
        # scaling passes skip that count).
        "default_workers": DEFAULT_WORKERS if d.workers_env else None,
        "model_variants": sorted({p.model for p in variant_passes(plan, d)}),
        "notes": d.notes,
        "verified": False,
        "verify_failures": [],
        "levels_failed": [],
    }
