"""Checks a deployment's manifest declares for what only its own framework can answer.

A manifest's `checks` table names scripts in the deployment's folder (Django's
`sql_injection = "checks/sql_injection.py"`). Each runs once, in its own process with this
interpreter, starts no server, and prints one JSON object as its last line; that object is
stored in inspections.json as packages.NAME.checks.CHECK. A script that fails, hangs or prints
no JSON is stored as {"error": why}, never raised: an inspection must not stop a run.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from bench.targets.manifest import Deployment

CHECK_TIMEOUT_S = 60


def run_checks(deployment: Deployment) -> dict[str, dict[str, Any]]:
    return {name: run_check(deployment, name) for name in deployment.checks}


def run_check(deployment: Deployment, name: str) -> dict[str, Any]:
    script = deployment.folder / deployment.checks[name]
    if not script.is_file():
        return {"error": f"{script} does not exist"}
    try:
        done = subprocess.run(
            [sys.executable, str(script)],
            cwd=deployment.folder,
            capture_output=True,
            text=True,
            timeout=CHECK_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        return {"error": f"{script.name} ran past {CHECK_TIMEOUT_S} s"}
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        return {"error": f"{script.name} exited {done.returncode}: {' | '.join(tail)}"}
    try:
        found = json.loads(lines[-1])
    except json.JSONDecodeError:
        return {"error": f"{script.name} printed no JSON object as its last line"}
    return found if isinstance(found, dict) else {"error": f"{script.name}: not a JSON object"}
