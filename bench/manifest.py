"""Find deployments by their `deployment.toml` and check each manifest before it is used.

Adding a framework is adding a folder under deployments/ with a manifest: nothing here names one.
"""

from __future__ import annotations

import os
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import DEPLOYMENTS_DIR

MANIFEST_NAME = "deployment.toml"
SCENARIOS = ("api_single", "api_batch", "form", "ui_session")
ROLES = ("subject", "reference", "calibration")
# What the runner puts into a manifest's command, args and env values.
PLACEHOLDERS = ("python", "port", "server_cores", "gunicorn_recommended_workers")


class ManifestError(ValueError):
    """A manifest is missing, unreadable or does not say what the runner needs."""


@dataclass(frozen=True)
class ServerConfig:
    """One way of serving a deployment that is measured: its defaults, or a tuned setting."""

    name: str
    description: str
    args: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    # Replaces the deployment's command (e.g. a diagnostic launcher); None keeps it.
    command: tuple[str, ...] | None = None
    # Measured to explain a figure, not a way to serve the framework: the report keeps it apart.
    diagnostic: bool = False


@dataclass(frozen=True)
class Deployment:
    name: str
    display_name: str
    folder: Path
    framework: str
    server: str
    role: str
    command: tuple[str, ...]
    port: int
    health_path: str
    startup_timeout_s: float
    scenarios: tuple[str, ...]
    secrets: tuple[str, ...]
    code_files: tuple[str, ...]
    env: dict[str, str]
    configs: dict[str, ServerConfig]
    notes: str = ""

    @property
    def has_api(self) -> bool:
        return "api_single" in self.scenarios or "api_batch" in self.scenarios

    def argv(self, config: str, port: int, server_cores: int) -> list[str]:
        values = placeholder_values(port, server_cores)
        chosen = self.configs[config]
        command = chosen.command or self.command
        return [part.format(**values) for part in (*command, *chosen.args)]

    def environment(self, config: str, port: int, server_cores: int) -> dict[str, str]:
        values = placeholder_values(port, server_cores)
        merged = {**self.env, **self.configs[config].env}
        return {key: str(value).format(**values) for key, value in merged.items()}


def placeholder_values(port: int, server_cores: int) -> dict[str, Any]:
    return {
        "python": sys.executable,
        "port": port,
        "server_cores": server_cores,
        # gunicorn's documentation: "(2 x $num_cores) + 1" workers.
        "gunicorn_recommended_workers": 2 * server_cores + 1,
    }


def discover(root: Path = DEPLOYMENTS_DIR) -> list[Deployment]:
    """Every deployment under root, in name order; a broken manifest is an error, not a skip."""
    deployments = [load(path) for path in sorted(root.glob(f"*/{MANIFEST_NAME}"))]
    names = [d.name for d in deployments]
    duplicated = {n for n in names if names.count(n) > 1}
    if duplicated:
        raise ManifestError(f"more than one manifest names deployment {sorted(duplicated)}")
    ports = [d.port for d in deployments]
    if len(set(ports)) != len(ports):
        raise ManifestError(f"two deployments share a port: {sorted(ports)}")
    return deployments


def select(deployments: list[Deployment], only: list[str] | None) -> list[Deployment]:
    if not only:
        return deployments
    known = {d.name: d for d in deployments}
    unknown = [name for name in only if name not in known]
    if unknown:
        raise ManifestError(f"no deployment named {unknown}; known: {sorted(known)}")
    return [known[name] for name in only]


def load(path: Path) -> Deployment:
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ManifestError(f"{path}: cannot read manifest: {exc}") from exc
    try:
        return _deployment(path.parent, data)
    except (KeyError, TypeError, ValueError) as exc:
        raise ManifestError(f"{path}: {exc}") from exc


def _deployment(folder: Path, data: dict[str, Any]) -> Deployment:
    missing = [
        key for key in ("name", "framework", "command", "port", "scenarios") if key not in data
    ]
    if missing:
        raise KeyError(f"missing required key(s) {missing}")
    scenarios = tuple(data["scenarios"])
    unknown = [s for s in scenarios if s not in SCENARIOS]
    if unknown:
        raise ValueError(f"unknown scenario(s) {unknown}; known: {list(SCENARIOS)}")
    role = data.get("role", "subject")
    if role not in ROLES:
        raise ValueError(f"role must be one of {list(ROLES)}, not {role!r}")
    configs = {
        name: ServerConfig(
            name=name,
            description=str(cfg.get("description", "")),
            args=tuple(str(a) for a in cfg.get("args", ())),
            env={str(k): str(v) for k, v in cfg.get("env", {}).items()},
            command=tuple(str(p) for p in cfg["command"]) if "command" in cfg else None,
            diagnostic=bool(cfg.get("diagnostic", False)),
        )
        for name, cfg in data.get("configs", {"default": {}}).items()
    }
    if "default" not in configs or configs["default"].diagnostic:
        raise ValueError("configs must include 'default' (the framework's own defaults)")
    deployment = Deployment(
        name=str(data["name"]),
        display_name=str(data.get("display_name", data["name"])),
        folder=folder,
        framework=str(data["framework"]),
        server=str(data.get("server", data["framework"])),
        role=role,
        command=tuple(str(part) for part in data["command"]),
        port=int(data["port"]),
        health_path=str(data.get("health_path", "/health")),
        startup_timeout_s=float(data.get("startup_timeout_s", 30)),
        scenarios=scenarios,
        secrets=tuple(data.get("secrets", ())),
        code_files=tuple(data.get("code_files", ("**/*.py",))),
        env={str(k): str(v) for k, v in data.get("env", {}).items()},
        configs=configs,
        notes=str(data.get("notes", "")),
    )
    _check_placeholders(deployment)
    return deployment


def _check_placeholders(deployment: Deployment) -> None:
    for config in deployment.configs:
        try:
            deployment.argv(config, port=1, server_cores=1)
            deployment.environment(config, port=1, server_cores=1)
        except (KeyError, IndexError) as exc:
            raise ValueError(
                f"config {config!r} uses an unknown placeholder {exc}; known: {list(PLACEHOLDERS)}"
            ) from exc


def project_pythonpath() -> str:
    """PYTHONPATH for a deployment's process, so that it imports shared_model."""
    from bench import PROJECT_ROOT

    return os.pathsep.join(p for p in (str(PROJECT_ROOT), os.environ.get("PYTHONPATH", "")) if p)
