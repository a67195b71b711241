"""The "packages" part of inspections.json: everything static about each deployment's framework,
inspected by the interpreter of the stack that serves the deployment."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from bench import PROJECT_ROOT
from bench.checks.deployment_checks import run_checks
from bench.checks.inspections.code_size import CodeSizeError, code_files
from bench.checks.inspections.commands import CLI_TIMEOUT_S
from bench.checks.inspections.components import COMPONENT_LOOKUPS, components_of
from bench.checks.inspections.distribution import dependents_of, extras_of, installed, license_of
from bench.checks.inspections.scaffold import scaffold, scaffold_result
from bench.checks.inspections.servers import server_stack
from bench.checks.provenance import provenance
from bench.cli.json_command import json_from
from bench.targets.manifest import Deployment, project_pythonpath
from bench.targets.stacks import StackError

# What another stack's interpreter runs as `python -m COMMAND_MODULE NAME`: its __main__.py
# calls main().
COMMAND_MODULE = "bench.checks.inspections"


def inspect_package(deployment: Deployment) -> dict[str, Any]:
    """Everything static about one deployment's framework; see the package docstring."""
    dist = installed(deployment.framework)
    if dist is None:
        return _not_installed(deployment)
    license_name, license_source = license_of(dist)
    components, evidence = components_of(dist)
    return {
        "framework": deployment.framework,
        "distribution": dist.name,
        "version": dist.version,
        "license": license_name,
        "license_source": license_source,
        "requires": list(dist.requires),
        "extras": extras_of(dist),
        "dependents_installed": dependents_of(dist),
        "components": components,
        "component_evidence": evidence,
        "scaffold": scaffold(dist),
        "server_stack": server_stack(deployment),
        "provenance": provenance(dist.name, _app_files(deployment), dist.packages),
        "checks": run_checks(deployment),
    }


def _app_files(deployment: Deployment) -> list[Path]:
    try:
        return code_files(deployment)
    except CodeSizeError:
        return []  # the code-size row says why


def _not_installed(deployment: Deployment) -> dict[str, Any]:
    why = f"distribution {deployment.framework!r} is not installed: nothing to inspect"
    return {
        "framework": deployment.framework,
        "distribution": None,
        "version": None,
        "license": None,
        "license_source": why,
        "requires": [],
        "extras": {},
        "dependents_installed": [],
        "components": {
            **dict.fromkeys(COMPONENT_LOOKUPS, False),
            "database_backends": [],
        },
        "component_evidence": dict.fromkeys([*COMPONENT_LOOKUPS, "database_backends"], why),
        "scaffold": scaffold_result(None, False, 0, why),
        "server_stack": server_stack(deployment),
        "provenance": None,
        "checks": {},
    }


def inspect_packages(deployments: list[Deployment]) -> dict[str, dict]:
    """inspect_package() for every deployment, keyed by deployment name: a deployment served from
    another stack is inspected by that stack's interpreter, so that what is read (metadata,
    source, command-line tools, the framework's own checks) is that stack's installed packages."""
    return {
        d.name: inspect_package(d) if d.stack.environment is None else _inspect_on_stack(d)
        for d in deployments
    }


def _inspect_on_stack(deployment: Deployment) -> dict[str, Any]:
    deployment.stack.check_installed()
    env = {**os.environ, "PYTHONPATH": project_pythonpath()}
    argv = [deployment.stack.python, "-m", COMMAND_MODULE, deployment.name]
    what = f"inspecting {deployment.name} in {deployment.stack.python}"
    return json_from(argv, what, StackError, 10 * CLI_TIMEOUT_S, cwd=PROJECT_ROOT, env=env)


def main(argv: list[str]) -> int:
    """`python -m bench.checks.inspections NAME`: inspect_package() of one deployment, as JSON."""
    from bench.targets.manifest import discover, select

    [deployment] = select(discover(), argv)
    print(json.dumps(inspect_package(deployment)))
    return 0
