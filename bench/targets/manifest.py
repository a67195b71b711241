"""Find deployments by their `deployment.toml` and check each manifest before it is used.

Adding a framework is adding a folder under deployments/ with a manifest: nothing here names one.
"""

from __future__ import annotations

import math
import os
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from bench import DEPLOYMENTS_DIR
from bench.targets.stacks import TODAY, Stack, StackError, discover_stacks, today

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
    # Changes what the deployment does per request (its headers, middleware, API layer or
    # connection handling), to set the frameworks' work apart: measured at the plan's `work`
    # levels and scenarios, verified against the contract like the default, read by no claim.
    work: bool = False


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
    # The environment variable that sets the server's worker processes (gunicorn and uvicorn
    # both read WEB_CONCURRENCY); None for a server that has one process (Streamlit).
    workers_env: str | None = None
    # The extensions our deployment uses for a feature the framework itself lacks: feature ->
    # distribution (Flask: forgery = "flask-wtf"). The report credits such a feature to the
    # extension, never to the framework, in every check (reports/evaluators.EXTENSION_RULE).
    extensions: dict[str, str] = field(default_factory=dict)
    # Scripts in the folder that answer what only this framework can
    # (bench/checks/deployment_checks.py).
    checks: dict[str, str] = field(default_factory=dict)
    # How the app refuses a foreign Host header (DNS rebinding), in every configuration: the
    # report's configurations table shows it; the hostile-input suite checks that it does.
    host_check: str = ""
    # The stack it is served from (bench/targets/stacks.py), and the deployment it is a variant
    # of there ("" for today's, which is its own): "flask-2022" is "flask" served from 2022's.
    stack: Stack = field(default_factory=today)
    base: str = ""
    # [stacks.NAME] tables: what differs when served from another stack (STACK_KEYS).
    stack_overrides: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def base_name(self) -> str:
        return self.base or self.name

    @property
    def has_api(self) -> bool:
        """Whether one of its scenarios speaks the REST protocol (bench/clients/)."""
        from bench.clients import SCENARIO_PROTOCOLS  # the clients import this module's types

        return any(SCENARIO_PROTOCOLS.get(s) == "rest" for s in self.scenarios)

    def argv(self, config: str, port: int, server_cores: int) -> list[str]:
        values = placeholder_values(port, server_cores, self.stack.python)
        chosen = self.configs[config]
        command = chosen.command or self.command
        return [part.format(**values) for part in (*command, *chosen.args)]

    def environment(self, config: str, port: int, server_cores: int) -> dict[str, str]:
        values = placeholder_values(port, server_cores, self.stack.python)
        merged = {**self.env, **self.configs[config].env}
        return {key: str(value).format(**values) for key, value in merged.items()}


def placeholder_values(port: int, server_cores: int, python: str) -> dict[str, Any]:
    return {
        "python": python,
        "port": port,
        "server_cores": server_cores,
        # gunicorn's documentation: "(2 x $num_cores) + 1" workers.
        "gunicorn_recommended_workers": 2 * server_cores + 1,
    }


def discover(root: Path = DEPLOYMENTS_DIR) -> list[Deployment]:
    """Every deployment under root, in name order, then its variants on the other stacks; a
    broken manifest is an error, not a skip."""
    found = [load(path) for path in sorted(root.glob(f"*/{MANIFEST_NAME}"))]
    try:
        stacks = discover_stacks()
    except StackError as exc:
        raise ManifestError(str(exc)) from exc
    deployments = found + [on_stack(d, stacks, name) for d in found for name in d.stack_overrides]
    for what, value_of in (("deployment name", lambda d: d.name), ("port", lambda d: d.port)):
        by_value: dict[Any, list[Deployment]] = {}
        for d in deployments:
            by_value.setdefault(value_of(d), []).append(d)
        clashes = [
            f"{what} {value!r} is in " + " and ".join(str(d.folder / MANIFEST_NAME) for d in group)
            for value, group in by_value.items()
            if len(group) > 1
        ]
        if clashes:
            raise ManifestError("; ".join(clashes) + f": each deployment needs its own {what}")
    return deployments


def select(deployments: list[Deployment], only: list[str] | None) -> list[Deployment]:
    if not only:
        return deployments
    known = {d.name: d for d in deployments}
    unknown = [name for name in only if name not in known]
    if unknown:
        raise ManifestError(f"no deployment named {unknown}; known: {sorted(known)}")
    return [known[name] for name in only]


# What a [stacks.NAME] table may set: the rest is the deployment's own, on every stack.
STACK_KEYS = ("health_path", "configs", "host_check", "notes")


def on_stack(d: Deployment, stacks: dict[str, Stack], name: str) -> Deployment:
    """Deployment d served from stack `name`: its own folder and code, that stack's interpreter,
    its port plus the stack's offset, and what its [stacks.NAME] table changes."""
    where = d.folder / MANIFEST_NAME
    if name not in stacks or name == TODAY:
        known = sorted(set(stacks) - {TODAY})
        raise ManifestError(f"{where}: [stacks.{name}]: no such stack; known: {known}")
    overrides = d.stack_overrides[name]
    unknown = sorted(set(overrides) - set(STACK_KEYS))
    if unknown:
        raise ManifestError(
            f"{where}: [stacks.{name}]: unknown key(s) {unknown}; known: {list(STACK_KEYS)}"
        )
    stack = stacks[name]
    kept = overrides.get("configs", list(d.configs))
    missing = [c for c in kept if c not in d.configs] + ([] if "default" in kept else ["default"])
    if missing or not isinstance(kept, list):
        raise ManifestError(
            f"{where}: [stacks.{name}]: configs must list known ones, 'default' among them, "
            f"not {kept!r}"
        )
    return replace(
        d,
        name=f"{d.name}-{stack.name}",
        display_name=f"{d.display_name} {stack.name}",
        port=d.port + stack.port_offset,
        configs={c: d.configs[c] for c in kept},
        health_path=str(overrides.get("health_path", d.health_path)),
        host_check=str(overrides.get("host_check", d.host_check)),
        notes=str(overrides.get("notes", d.notes)),
        stack=stack,
        base=d.name,
        stack_overrides={},
    )


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
        raise ValueError(f"missing required key(s) {missing}")
    problems = _type_problems(data)
    if problems:
        raise ValueError("; ".join(problems))
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
            work=bool(cfg.get("work", False)),
        )
        for name, cfg in data.get("configs", {"default": {}}).items()
    }
    if "default" not in configs or configs["default"].diagnostic or configs["default"].work:
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
        workers_env=str(data["workers_env"]) if "workers_env" in data else None,
        extensions={str(k): str(v) for k, v in data.get("extensions", {}).items()},
        checks={str(k): str(v) for k, v in data.get("checks", {}).items()},
        host_check=str(data.get("host_check", "")),
        stack_overrides=_stack_tables(data.get("stacks", {})),
    )
    _check_placeholders(deployment)
    return deployment


def _stack_tables(tables: Any) -> dict[str, dict[str, Any]]:
    if not isinstance(tables, dict) or not all(isinstance(t, dict) for t in tables.values()):
        raise ValueError(f"stacks must be tables, as [stacks.NAME], not {tables!r}")
    return {str(name): dict(table) for name, table in tables.items()}


STRING_KEYS = ("name", "display_name", "framework", "server", "role", "health_path", "notes",
               "workers_env", "host_check")  # fmt: skip


def _type_problems(data: dict[str, Any]) -> list[str]:
    """What in a manifest has the wrong type: caught here, it would otherwise surface later as a
    confusing error (or as a command split into characters)."""
    problems = [
        f"{key} must be a string, not {data[key]!r}"
        for key in STRING_KEYS
        if key in data and not isinstance(data[key], str)
    ]
    if data.get("name") == "":
        problems.append("name must not be empty")
    problems += _list_problems(data, ("command", "scenarios"), nonempty=True)
    problems += _list_problems(data, ("secrets", "code_files"), nonempty=False)
    port = data.get("port")
    if not _is_int(port) or not 1 <= port <= 65535:
        problems.append(f"port must be a whole number from 1 to 65535, not {port!r}")
    timeout = data.get("startup_timeout_s", 30)
    if not (_is_int(timeout) or isinstance(timeout, float)) or not 0 < timeout < math.inf:
        problems.append(f"startup_timeout_s must be a positive number of seconds, not {timeout!r}")
    problems += _env_problems(data, "env")
    for key, what in (("extensions", 'FEATURE = "distribution"'), ("checks", 'NAME = "script"')):
        table = data.get(key, {})
        if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
            problems.append(f"{key} must be a table of {what}, not {table!r}")
    configs = data.get("configs", {})
    if not isinstance(configs, dict) or not all(isinstance(c, dict) for c in configs.values()):
        return [*problems, "configs must be tables, as [configs.NAME]"]
    for name, config in configs.items():
        found = _list_problems(config, ("args",), nonempty=False)
        found += _list_problems(config, ("command",), nonempty=True)
        found += _env_problems(config, "env")
        if not isinstance(config.get("description", ""), str):
            found.append(f"description must be a string, not {config['description']!r}")
        found += [
            f"{key} must be true or false, not {config[key]!r}"
            for key in ("diagnostic", "work")
            if not isinstance(config.get(key, False), bool)
        ]
        if config.get("diagnostic") and config.get("work"):
            found.append("a config is diagnostic or work, not both")
        problems += [f"configs.{name}: {problem}" for problem in found]
    return problems


def _list_problems(data: dict[str, Any], keys: tuple[str, ...], nonempty: bool) -> list[str]:
    problems = []
    for key in keys:
        if key not in data:
            continue
        value = data[key]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            problems.append(f"{key} must be a list of strings, not {value!r}")
        elif nonempty and not value:
            problems.append(f"{key} must not be empty")
    return problems


def _env_problems(data: dict[str, Any], key: str) -> list[str]:
    value = data.get(key, {})
    scalars = (str, int, float, bool)
    if not isinstance(value, dict) or not all(isinstance(v, scalars) for v in value.values()):
        return [f"{key} must be a table of NAME = value, not {value!r}"]
    return []


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


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
