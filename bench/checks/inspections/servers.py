"""What serves a deployment: the interface (WSGI/ASGI), the server and their versions, read from
the installed server (gunicorn is asked with --print-config, which binds no port)."""

from __future__ import annotations

import ast
import re
import secrets
from pathlib import Path
from typing import Any

from bench.checks.inspections.commands import cli_env, run_bounded
from bench.checks.inspections.distribution import version_shown
from bench.checks.inspections.source import (
    defined_names,
    module_file,
    parsed_source,
    tornado_importers,
)
from bench.checks.inspections.streamlit_stack import streamlit_stack
from bench.targets.manifest import Deployment, project_pythonpath


def server_stack(deployment: Deployment) -> dict[str, Any]:
    """What serves the deployment: the interface (WSGI/ASGI), the server and their versions."""
    if deployment.server == "gunicorn":
        return _gunicorn_stack(deployment)
    if deployment.server == "streamlit":
        return streamlit_stack()
    if deployment.server == "uvicorn":
        return _uvicorn_stack()
    return {
        "interface": None,
        "server": version_shown(deployment.server),
        "tornado_used": tornado_importers(deployment.server) != [],
        "evidence": f"server {deployment.server!r} is not one this module knows how to inspect",
    }


def _uvicorn_stack() -> dict[str, Any]:
    """uvicorn serves ASGI applications: its config module names the interfaces it speaks."""
    config = module_file("uvicorn.config")
    source = config.read_text(errors="replace") if config else ""
    asgi = '"asgi3"' in source
    return {
        "interface": "ASGI" if asgi else None,
        "server": version_shown("uvicorn"),
        "tornado_used": tornado_importers("uvicorn") != [],
        "evidence": "uvicorn.config lists the interfaces it serves: "
        + ("asgi3 among them" if asgi else "no asgi3 found"),
    }


def _gunicorn_stack(deployment: Deployment) -> dict[str, Any]:
    """Ask gunicorn itself: --print-config resolves the settings and loads the app, then exits
    without binding a port."""
    code, settings = _gunicorn_settings(deployment)
    worker_class = settings.get("worker_class", "?")
    interface, worker_note = _worker_interface(worker_class)
    app = deployment.command[-1]
    return {
        "interface": interface,
        "server": version_shown("gunicorn"),
        "tornado_used": worker_class == "tornado",
        "app": app,
        "app_loaded": code == 0,
        "worker_class": worker_class,
        "workers_default_config": settings.get("workers"),
        "evidence": (
            f"`gunicorn ... {app} --print-config` in {deployment.folder.name}/ exited {code} "
            f"(0: the {interface or '?'} callable {app!r} loaded); worker_class = {worker_class}, "
            f"workers = {settings.get('workers')}; {worker_note}"
        ),
    }


def _gunicorn_settings(deployment: Deployment) -> tuple[int | None, dict[str, str]]:
    """(exit code, setting -> value) of the deployment's default gunicorn command run with
    --print-config, in its folder and environment (secrets: fresh random values)."""
    env = {
        **cli_env(),
        "PYTHONPATH": project_pythonpath(),
        "PORT": str(deployment.port),
        **deployment.environment("default", deployment.port, 1),
        **{name: secrets.token_urlsafe(32) for name in deployment.secrets},
    }
    argv = [*deployment.argv("default", deployment.port, 1), "--print-config"]
    code, output = run_bounded(argv, deployment.folder, env=env)
    return code, dict(re.findall(r"^(\w+)\s+=\s+(.*)$", output, flags=re.MULTILINE))


def _worker_interface(worker_class: str) -> tuple[str | None, str]:
    """WSGI or ASGI, from the worker class's source in the installed gunicorn."""
    target = _supported_workers().get(worker_class)
    if target is None:
        return None, f"worker class {worker_class!r} is not in gunicorn.workers.SUPPORTED_WORKERS"
    module = target.rsplit(".", 1)[0]
    source = (module_file(module) or Path("/nonexistent")).read_text(errors="replace")
    if "start_response" in source:
        return "WSGI", f"{target} calls the app with (environ, start_response): WSGI"
    if re.search(r"\basgi\b", module + source, flags=re.IGNORECASE):
        return "ASGI", f"{target} runs an ASGI app"
    return None, f"{target}: neither start_response nor ASGI found in its source"


def _supported_workers() -> dict[str, str]:
    """gunicorn.workers.SUPPORTED_WORKERS (worker class -> dotted path), read from its source."""
    path = module_file("gunicorn.workers")
    tree = (
        parsed_source(path)
        if path and "SUPPORTED_WORKERS" in defined_names("gunicorn.workers")
        else None
    )
    workers: dict[str, str] = {}
    for node in tree.body if tree else ():
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "SUPPORTED_WORKERS" for t in node.targets
        ):
            workers = ast.literal_eval(node.value)
    return workers
