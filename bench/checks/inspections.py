"""Static inspections of the installed framework packages and of each deployment's own code.

Nothing here starts a server. Every answer is looked up in the installed distribution (its
metadata, its source files read without importing them, its command-line tools run in a
temporary folder); what cannot be found is reported as not found, with what was looked for.
The live probes of running servers are in bench/checks/probes.py.

inspections.json, written by the runner with build_inspections():

    {"schema_version": 1,
     "packages": {"<deployment>": {
        "framework": "django", "distribution": "Django", "version": "5.2.19",
        "license": "BSD-3-Clause", "license_source": "License-Expression",
        "requires": ["asgiref>=3.8.1", ...],           # base requirements, no extras
        "extras": {"<extra>": {"requires": [...], "installed": bool}},
        "dependents_installed": ["djangorestframework 3.18.3", ...],  # dists requiring it
        "components": {"orm", "migrations", "admin", "auth", "forms", "templates",
                       "test_client", "dev_server", "interactive_debugger", "multipage",
                       "sitemaps", "users", "user_groups", "password_hashing", "views",
                       "raw_html", "dataframes", "matplotlib_plots", "latex",
                       "static_files": bool, "database_backends": [str]},
        "component_evidence": {"<component>": "where it was found, or what was looked for"},
        "scaffold": {"command": str | None, "works": bool, "files_created": int,
                     "evidence": str},
        "server_stack": {"interface": "WSGI" | "ASGI" | None, "server": str,
                         "tornado_used": bool, "evidence": str, ...},
        "provenance": {...} | None,                     # bench/checks/provenance.py
        "checks": {"<check>": {...} | {"error": str}}}},  # bench/checks/deployment_checks.py
     "probes": {"<deployment>": {"<config>": {"concurrency": {...},
                                               "security": {..., "tampered_model_refused"}}},
     "snippets": {"<name>": {"compiles": bool, "error": str | None}}}   # bench/checks/snippets.py

The probes' shapes are documented in bench/checks/probes.py. code_size() gives the per-deployment
code-size metrics that the runner stores as rows of results.csv (results.CODE_SIZE).
"""

from __future__ import annotations

import ast
import contextlib
import glob
import importlib.metadata as metadata
import importlib.util
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from bench import PROJECT_ROOT
from bench.checks.deployment_checks import run_checks
from bench.checks.provenance import is_base_requirement, provenance
from bench.checks.snippets import compiled_snippets
from bench.cli.json_command import json_from
from bench.targets.manifest import MANIFEST_NAME, Deployment, project_pythonpath
from bench.targets.stacks import StackError

SCHEMA_VERSION = 1
CLI_TIMEOUT_S = 60
VENV_BIN = Path(sys.executable).parent
SHARED_MODEL_DIR = PROJECT_ROOT / "shared_model"

# Where each component would be, if the installed package has it. A spec is "module" (the
# module exists), "module:Name" (the module defines or imports Name) or "module~text" (the
# module's source contains text). "{pkg}" stands for the framework's import package; a spec
# naming another package is only looked up when that package is the framework's or one of its
# base requirements' (Werkzeug for Flask). These are places to look, not answers: the answer
# is whether the installed files have them.
COMPONENT_LOOKUPS: dict[str, tuple[str, ...]] = {
    "orm": ("{pkg}.db.models:Model", "{pkg}.orm", "{pkg}.models:Model"),
    "migrations": (
        "{pkg}.db.migrations:Migration",
        "{pkg}.core.management.commands.makemigrations:Command",
        "{pkg}.migrations",
    ),
    "admin": ("{pkg}.contrib.admin:site", "{pkg}.admin"),
    "auth": (
        "{pkg}.contrib.auth:authenticate",
        "{pkg}.auth",
        "{pkg}.security",
        "{pkg}:login",
    ),
    "forms": ("{pkg}.forms:Form", "{pkg}.forms:ModelForm", "{pkg}:form"),
    "templates": (
        "{pkg}.template:Template",
        "{pkg}.template.backends.jinja2:Jinja2",
        "{pkg}.templating:render_template",
        "{pkg}.templating:Jinja2Templates",
    ),
    "test_client": (
        "{pkg}.test:Client",
        "{pkg}.testing:FlaskClient",
        "{pkg}.testing.v1:AppTest",
        "{pkg}.testclient:TestClient",
    ),
    "dev_server": (
        "{pkg}.core.management.commands.runserver:Command",
        "{pkg}.cli:run_command",
        "{pkg}.web.cli:main_run",
        "werkzeug.serving:run_simple",
    ),
    "interactive_debugger": (
        "werkzeug.debug:DebuggedApplication",
        "werkzeug.debug.console:Console",
        "{pkg}.cli~--debugger",
    ),
    "multipage": (
        "{pkg}:Blueprint",
        "{pkg}.urls:include",
        "{pkg}:navigation",
        "{pkg}:Page",
        "{pkg}.routing:APIRouter",
    ),
    "sitemaps": ("{pkg}.contrib.sitemaps:Sitemap",),
    "users": ("{pkg}.contrib.auth.models:User",),
    "user_groups": ("{pkg}.contrib.auth.models:Group",),
    "password_hashing": ("{pkg}.contrib.auth.hashers:make_password",),
    "views": ("{pkg}.views.generic:View", "{pkg}.views:View", "{pkg}.views:MethodView"),
    "raw_html": ("{pkg}:html", "{pkg}.components.v1:html"),
    "dataframes": ("{pkg}:dataframe",),
    "matplotlib_plots": ("{pkg}:pyplot",),
    "latex": ("{pkg}:latex",),
    "static_files": (
        "{pkg}.contrib.staticfiles",
        "{pkg}.app~send_static_file",
        "{pkg}.config~server.enableStaticServing",
        "{pkg}.staticfiles:StaticFiles",
    ),
}
# Subcommands of a framework's CLI that create a project, and how to run each one
# non-interactively in an empty folder ({dir}); "n" answers a "run it now?" prompt.
CREATE_COMMANDS: dict[str, tuple[tuple[str, ...], str]] = {
    "startproject": (("startproject", "demo", "{dir}"), ""),
    "init": (("init", "{dir}"), "n\n"),
    "new": ((), ""),
    "create": ((), ""),
}
# Environment that would make a CLI load this project's app instead of showing its own help.
CLI_ENV_DROP = ("FLASK_APP", "DJANGO_SETTINGS_MODULE", "STREAMLIT_SERVER_PORT")
# code_size(): which matched files are configuration and which are templates.
CONFIG_SUFFIXES = (".toml", ".cfg", ".ini", ".yaml", ".yml")
CONFIG_NAMES = ("gunicorn.conf.py", "settings.py")
TEMPLATE_SUFFIXES = (".html", ".htm", ".jinja", ".jinja2", ".j2")


class CodeSizeError(ValueError):
    """A manifest's code_files cannot be counted: a pattern matches no file."""


# -- the distribution -------------------------------------------------------------------------


@dataclass(frozen=True)
class Installed:
    """One installed distribution as its metadata describes it."""

    name: str
    version: str
    meta: Any  # email.message.Message-like
    packages: tuple[str, ...]  # top-level import names
    requires: tuple[str, ...]  # base requirements (no extras), as written
    required_packages: tuple[str, ...]  # import names of the installed base requirements


@cache
def _import_names() -> dict[str, tuple[str, ...]]:
    """Canonical distribution name -> the top-level modules it installs."""
    names: dict[str, list[str]] = {}
    for module, dists in metadata.packages_distributions().items():
        for dist in dists:
            names.setdefault(canonicalize_name(dist), []).append(module)
    return {dist: tuple(sorted(mods)) for dist, mods in names.items()}


def installed(name: str) -> Installed | None:
    """The installed distribution of that name, or None when it is not installed."""
    try:
        dist = metadata.distribution(name)
    except metadata.PackageNotFoundError:
        return None
    requires = tuple(r for r in dist.requires or () if is_base_requirement(r))
    required = tuple(
        module
        for r in requires
        for module in _import_names().get(canonicalize_name(Requirement(r).name), ())
    )
    return Installed(
        name=dist.metadata["Name"],
        version=dist.version,
        meta=dist.metadata,
        packages=_import_names().get(canonicalize_name(name), (name.replace("-", "_"),)),
        requires=requires,
        required_packages=required,
    )


def license_of(dist: Installed) -> tuple[str | None, str]:
    """(license, where it was read): License-Expression, then License, then Trove classifiers."""
    if expression := dist.meta.get("License-Expression"):
        return expression.strip(), "License-Expression"
    text = (dist.meta.get("License") or "").strip()
    if text and "\n" not in text and len(text) <= 80:
        return text, "License"
    trove = [
        c.split("::")[-1].strip()
        for c in dist.meta.get_all("Classifier") or ()
        if c.startswith("License ::")
    ]
    if trove:
        return "; ".join(trove), "Trove classifiers"
    if text:  # a whole licence text pasted into the field: name its first line
        return text.splitlines()[0].strip(), "License (first line of the full text)"
    return None, "no License-Expression, License or License classifier in the metadata"


def extras_of(dist: Installed) -> dict[str, dict[str, Any]]:
    """Each extra of the distribution, its requirements and whether they are all installed."""
    return {
        extra: {
            "requires": sorted(names := _extra_requirements(dist.name, extra)),
            "installed": all(installed(name) is not None for name in names),
        }
        for extra in dist.meta.get_all("Provides-Extra") or ()
    }


def _extra_requirements(dist_name: str, extra: str, seen: frozenset = frozenset()) -> set[str]:
    """Distribution names an extra pulls in; "streamlit[all]" is expanded into its extras."""
    names: set[str] = set()
    for text in metadata.requires(dist_name) or ():
        with contextlib.suppress(InvalidRequirement):
            req = Requirement(text)
            if not req.marker or is_base_requirement(text):
                continue
            if not req.marker.evaluate({"extra": extra}):
                continue
            if canonicalize_name(req.name) != canonicalize_name(dist_name):
                names.add(req.name)
            for inner in req.extras - seen - {extra}:
                names |= _extra_requirements(dist_name, inner, seen | {extra, inner})
    return names


def dependents_of(dist: Installed) -> list[str]:
    """Other installed distributions that require the framework (Flask-WTF, locust, ...)."""
    target = canonicalize_name(dist.name)
    found = set()
    for other in metadata.distributions():
        if canonicalize_name(other.metadata["Name"]) == target:
            continue  # its own extras ("streamlit[all]") name it
        for requirement in other.requires or ():
            with contextlib.suppress(InvalidRequirement):
                if canonicalize_name(Requirement(requirement).name) == target:
                    found.add(f"{other.metadata['Name']} {other.version}")
    return sorted(found, key=str.lower)


# -- reading source files without importing them ----------------------------------------------


def module_file(dotted: str) -> Path | None:
    """The file (or namespace folder) of a module, found on disk: nothing is imported."""
    top, *rest = dotted.split(".")
    try:
        spec = importlib.util.find_spec(top)  # a top-level name: finding it imports nothing
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    if not rest:
        return Path(spec.origin) if spec.origin else None
    for location in spec.submodule_search_locations or ():
        base = Path(location).joinpath(*rest)
        if (base / "__init__.py").is_file():
            return base / "__init__.py"
        if base.with_suffix(".py").is_file():
            return base.with_suffix(".py")
        if base.is_dir():
            return base
    return None


def _relative(path: Path) -> str:
    """A path as it appears under its sys.path entry (site-packages), for evidence."""
    roots = [Path(r) for r in sys.path if r and path.is_relative_to(r)]
    return str(path.relative_to(max(roots, key=lambda r: len(r.parts)))) if roots else str(path)


@cache
def _parsed(path: Path) -> ast.Module | None:
    try:
        return ast.parse(path.read_text(encoding="utf-8", errors="replace"))
    except (OSError, SyntaxError, ValueError):
        return None


def defined_names(dotted: str, depth: int = 0) -> set[str]:
    """Names a module defines or imports at its top level, following `import *` two levels."""
    path = module_file(dotted)
    tree = _parsed(path) if path and path.suffix == ".py" else None
    if tree is None:
        return set()
    names: set[str] = set()
    for node in _top_level(tree.body):
        if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name))
        elif isinstance(node, ast.Import):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if alias.name != "*":
                    names.add(alias.asname or alias.name)
                elif depth < 2:
                    names |= defined_names(_absolute(dotted, path, node), depth + 1)
    return names


def _top_level(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Statements run at import time, including those under if/try/with."""
    for node in body:
        yield node
        if isinstance(node, ast.If | ast.Try | ast.With):
            yield from _top_level(node.body)
            yield from _top_level(getattr(node, "orelse", []))
            yield from _top_level(getattr(node, "finalbody", []))
            for handler in getattr(node, "handlers", []):
                yield from _top_level(handler.body)


def _absolute(dotted: str, path: Path, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = dotted.split(".") if path.name == "__init__.py" else dotted.split(".")[:-1]
    base = package[: len(package) - node.level + 1]
    return ".".join([*base, *([node.module] if node.module else [])])


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at any depth (imports inside functions too)."""
    tree = _parsed(path)
    found: set[str] = set()
    for node in ast.walk(tree) if tree else ():
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def lookup(spec: str) -> str | None:
    """Evidence that a spec is present in the installed files, or None."""
    if "~" in spec:
        module, needle = spec.split("~", 1)
        path = module_file(module)
        if path and path.is_file() and needle in path.read_text(errors="replace"):
            return f"{module} contains {needle!r} ({_relative(path)})"
        return None
    module, _, name = spec.partition(":")
    path = module_file(module)
    if path is None:
        return None
    if not name:
        return f"module {module} ({_relative(path)})"
    if name in defined_names(module):
        return f"{module}.{name} ({_relative(path)})"
    return None


# -- components ---------------------------------------------------------------------------------


def components_of(dist: Installed) -> tuple[dict[str, Any], dict[str, str]]:
    """(components, evidence) for the framework, from its files and its requirements'."""
    components: dict[str, Any] = {}
    evidence: dict[str, str] = {}
    for component, specs in COMPONENT_LOOKUPS.items():
        candidates = _candidates(specs, dist)
        found = [hit for hit in map(lookup, candidates) if hit]
        components[component] = bool(found)
        evidence[component] = (
            "found " + "; ".join(found)
            if found
            else f"not in the installed package: looked for {', '.join(candidates) or 'nothing'}"
        )
    _debugger_scan(dist, components, evidence)
    for component, extra in extras_of(dist).items():
        if component in evidence and components[component]:
            state = "installed" if extra["installed"] else "NOT installed"
            evidence[component] += (
                f"; it needs the extra [{component}] ({', '.join(extra['requires'])}): {state}"
            )
            if not extra["installed"]:  # usable as installed, or not present at all
                components[component] = False
                evidence[component] += ", so it does not work as installed and counts as absent"
    components["database_backends"], evidence["database_backends"] = database_backends(dist)
    return components, evidence


def _candidates(specs: tuple[str, ...], dist: Installed) -> list[str]:
    """The specs applied to this framework: {pkg} filled in, other packages only if required."""
    searchable = {*dist.packages, *dist.required_packages}
    out: list[str] = []
    for spec in specs:
        for filled in [spec.format(pkg=p) for p in dist.packages] if "{pkg}" in spec else [spec]:
            if re.split(r"[.:~]", filled, maxsplit=1)[0] in searchable and filled not in out:
                out.append(filled)
    return out


def _debugger_scan(dist: Installed, components: dict[str, Any], evidence: dict[str, str]) -> None:
    """An in-browser debugger runs typed code: look for code.InteractiveInterpreter's users."""
    hits = [
        _relative(path)
        for package in (*dist.packages, *dist.required_packages)
        for path in _package_files(package)
        if "InteractiveInterpreter" in path.read_text(errors="replace")
    ]
    served = [h for h in hits if "debug" in h]
    if served and not components["interactive_debugger"]:
        components["interactive_debugger"] = True
    evidence["interactive_debugger"] += (
        f". Files using code.InteractiveInterpreter: {', '.join(hits) or 'none'}"
        + ("" if served or not hits else " (none is a debug module)")
    )


def _package_files(package: str) -> list[Path]:
    path = module_file(package)
    if path is None or path.name != "__init__.py":
        return [path] if path and path.suffix == ".py" else []
    return sorted(path.parent.rglob("*.py"))


def database_backends(dist: Installed) -> tuple[list[str], str]:
    """Database engines the package ships: Django's db/backends/<engine>/base.py, Streamlit's
    connections/<kind>_connection.py; their drivers' state is in the evidence."""
    found: list[str] = []
    notes: list[str] = []
    for package in dist.packages:
        root = module_file(package)
        if root is None or root.name != "__init__.py":
            continue
        backends = root.parent / "db" / "backends"
        engines = sorted(p.parent.name for p in backends.glob("*/base.py"))
        # An engine's base.py defines DatabaseWrapper (base/ holds only the abstract
        # BaseDatabaseWrapper); "dummy" is the placeholder that raises ImproperlyConfigured.
        usable = [
            e
            for e in engines
            if e != "dummy"
            and "DatabaseWrapper" in defined_names(f"{package}.db.backends.{e}.base")
        ]
        if engines:
            found += usable
            notes.append(
                f"{_relative(backends)}/<engine>/base.py: {', '.join(engines)}; "
                f"engines (defining DatabaseWrapper, not the dummy): {', '.join(usable)}"
            )
        connections = sorted((root.parent / "connections").glob("*_connection.py"))
        kinds = [p.stem.removesuffix("_connection") for p in connections]
        if kinds:
            found += [k for k in kinds if k != "base"]
            extras = extras_of(dist)
            notes.append(
                f"{_relative(root.parent / 'connections')}/*_connection.py: {', '.join(kinds)}; "
                + ", ".join(
                    f"extra [{k}] ({', '.join(v['requires'])}) "
                    f"{'installed' if v['installed'] else 'not installed'}"
                    for k, v in extras.items()
                    if k in kinds
                )
            )
    return sorted(set(found)), "; ".join(notes) or (
        f"no db/backends/*/base.py or connections/*_connection.py in {', '.join(dist.packages)}"
    )


# -- the scaffold command ----------------------------------------------------------------------


def _run(
    argv: list[str], cwd: Path, stdin: str = "", env: Mapping[str, str] | None = None
) -> tuple[int | None, str]:
    """Run a command in its own process group, bounded; (exit code or None on timeout, output)."""
    process = subprocess.Popen(
        argv,
        cwd=cwd,
        env=dict(env) if env is not None else _cli_env(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(stdin, timeout=CLI_TIMEOUT_S)
        return process.returncode, output
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        return None, output
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # anything it left behind


def _cli_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in CLI_ENV_DROP}


def subcommands(help_text: str) -> list[str]:
    """Subcommand names from a CLI's help: click's "Commands:" or django-admin's list."""
    names: list[str] = []
    in_list = False
    for line in help_text.splitlines():
        if re.match(r"^\s*(Available subcommands|Commands):\s*$", line):
            in_list = True
        elif in_list and line.startswith((" ", "\t")) and line.strip():
            names.append(line.split()[0])
        elif in_list and line.strip() and not line.startswith("[") and names:
            in_list = False
    return names


def scaffold(dist: Installed) -> dict[str, Any]:
    """Run the framework's CLI: does it have a project-creation command, and does it work?"""
    scripts = sorted(
        e.name
        for e in metadata.distribution(dist.name).entry_points
        if e.group == "console_scripts"
    )
    if not scripts:
        return _scaffold(None, False, 0, f"{dist.name} installs no command-line script")
    notes = []
    with tempfile.TemporaryDirectory(prefix="bench-scaffold-") as tmp:
        for script in scripts:
            code, output = _run([str(VENV_BIN / script), "--help"], Path(tmp))
            commands = subcommands(output)
            creating = [c for c in CREATE_COMMANDS if c in commands]
            if creating:
                return _create(script, creating[0], Path(tmp))
            notes.append(
                f"`{script} --help` (exit {code}) lists {', '.join(commands) or 'no commands'}"
            )
    return _scaffold(None, False, 0, "; ".join(notes) + ": none creates a project")


def _create(script: str, command: str, tmp: Path) -> dict[str, Any]:
    args, answer = CREATE_COMMANDS[command]
    if not args:
        return _scaffold(
            f"{script} {command}",
            False,
            0,
            f"`{script} --help` lists {command!r}; not run: no known non-interactive invocation",
        )
    target = tmp / "project"
    target.mkdir()
    argv = [script, *(a.format(dir=target) for a in args)]
    code, output = _run([str(VENV_BIN / script), *argv[1:]], tmp, stdin=answer)
    files = sorted(str(p.relative_to(target)) for p in target.rglob("*") if p.is_file())
    shown = " ".join(a.replace(str(target), "<tmp>") for a in argv)
    evidence = (
        f"`{shown}`{f' answering {answer.strip()!r} to its prompt' if answer else ''} "
        f"exited {code} and created {len(files)} file(s): {', '.join(files) or 'none'}"
    )
    if code != 0:
        evidence += f". Output: {output.strip()[-300:]}"
    return _scaffold(shown, code == 0 and bool(files), len(files), evidence)


def _scaffold(command: str | None, works: bool, files: int, evidence: str) -> dict[str, Any]:
    return {"command": command, "works": works, "files_created": files, "evidence": evidence}


# -- the server stack ----------------------------------------------------------------------------


def server_stack(deployment: Deployment) -> dict[str, Any]:
    """What serves the deployment: the interface (WSGI/ASGI), the server and their versions."""
    if deployment.server == "gunicorn":
        return _gunicorn_stack(deployment)
    if deployment.server == "streamlit":
        return _streamlit_stack()
    if deployment.server == "uvicorn":
        return _uvicorn_stack()
    server = installed(deployment.server)
    return {
        "interface": None,
        "server": f"{deployment.server} {server.version if server else '(not installed)'}",
        "tornado_used": _tornado_imports(deployment.server) != [],
        "evidence": f"server {deployment.server!r} is not one this module knows how to inspect",
    }


def _uvicorn_stack() -> dict[str, Any]:
    """uvicorn serves ASGI applications: its config module names the interfaces it speaks."""
    uvicorn = installed("uvicorn")
    config = module_file("uvicorn.config")
    source = config.read_text(errors="replace") if config else ""
    asgi = '"asgi3"' in source
    return {
        "interface": "ASGI" if asgi else None,
        "server": f"uvicorn {uvicorn.version if uvicorn else '(not installed)'}",
        "tornado_used": _tornado_imports("uvicorn") != [],
        "evidence": "uvicorn.config lists the interfaces it serves: "
        + ("asgi3 among them" if asgi else "no asgi3 found"),
    }


def _gunicorn_stack(deployment: Deployment) -> dict[str, Any]:
    """Ask gunicorn itself: --print-config resolves the settings and loads the app, then exits
    without binding a port."""
    gunicorn = installed("gunicorn")
    env = {
        **_cli_env(),
        "PYTHONPATH": project_pythonpath(),
        "PORT": str(deployment.port),
        **deployment.environment("default", deployment.port, 1),
        **{name: secrets.token_urlsafe(32) for name in deployment.secrets},
    }
    argv = [*deployment.argv("default", deployment.port, 1), "--print-config"]
    code, output = _run(argv, deployment.folder, env=env)
    settings = dict(re.findall(r"^(\w+)\s+=\s+(.*)$", output, flags=re.MULTILINE))
    worker_class = settings.get("worker_class", "?")
    interface, worker_note = _worker_interface(worker_class)
    app = deployment.command[-1]
    return {
        "interface": interface,
        "server": f"gunicorn {gunicorn.version if gunicorn else '(not installed)'}",
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


def _worker_interface(worker_class: str) -> tuple[str | None, str]:
    """WSGI or ASGI, from the worker class's source in the installed gunicorn."""
    names = defined_names("gunicorn.workers")
    path = module_file("gunicorn.workers")
    workers: dict[str, str] = {}
    tree = _parsed(path) if path and "SUPPORTED_WORKERS" in names else None
    for node in tree.body if tree else ():
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "SUPPORTED_WORKERS" for t in node.targets
        ):
            workers = ast.literal_eval(node.value)
    target = workers.get(worker_class)
    if target is None:
        return None, f"worker class {worker_class!r} is not in gunicorn.workers.SUPPORTED_WORKERS"
    module = target.rsplit(".", 1)[0]
    source = (module_file(module) or Path("/nonexistent")).read_text(errors="replace")
    if "start_response" in source:
        return "WSGI", f"{target} calls the app with (environ, start_response): WSGI"
    if re.search(r"\basgi\b", module + source, flags=re.IGNORECASE):
        return "ASGI", f"{target} runs an ASGI app"
    return None, f"{target}: neither start_response nor ASGI found in its source"


def _streamlit_stack() -> dict[str, Any]:
    """Which server the installed Streamlit starts: read its server modules' imports (the
    module moved under streamlit.web in 1.12; the 2022 stack's 1.6 has it at streamlit.server)."""
    server_py = module_file("streamlit.web.server.server") or module_file("streamlit.server.server")
    server_imports = sorted(
        m for m in (imported_modules(server_py) if server_py else ()) if ".server" in m
    )
    uses_starlette = any(m.startswith("streamlit.web.server.starlette") for m in server_imports)
    starlette_server = module_file("streamlit.web.server.starlette.starlette_server")
    runs_uvicorn = bool(
        starlette_server
        and "uvicorn" in imported_modules(starlette_server)
        and "uvicorn.Server(" in starlette_server.read_text(errors="replace")
    )
    tornado_imports = _tornado_imports("streamlit")
    versions = {name: installed(name) for name in ("streamlit", "starlette", "uvicorn", "tornado")}
    shown = {k: v.version if v else "not installed" for k, v in versions.items()}
    asgi = uses_starlette and runs_uvicorn
    # Before Starlette, Streamlit's server module built a tornado.web.Application and served it
    # with Tornado's own HTTP server.
    on_tornado = bool(
        not asgi
        and server_py
        and "tornado.web" in imported_modules(server_py)
        and "tornado.web.Application(" in server_py.read_text(errors="replace")
    )
    uvicorn_note = "imports uvicorn and builds uvicorn.Server" if runs_uvicorn else "no uvicorn"
    if on_tornado:
        uvicorn_note += f"; {_relative(server_py)} builds tornado.web.Application"
    server = f"uvicorn {shown['uvicorn']} + starlette {shown['starlette']}" if asgi else "unknown"
    return {
        "interface": "ASGI" if asgi else "Tornado" if on_tornado else None,
        "server": f"tornado {shown['tornado']}" if on_tornado else server,
        "tornado_used": bool(tornado_imports),
        "versions": shown,
        "evidence": (
            f"{_relative(server_py) if server_py else 'streamlit.web.server.server'} imports "
            f"{', '.join(server_imports) or 'no server module'}; "
            f"streamlit/web/server/starlette/starlette_server.py: {uvicorn_note}; "
            f"tornado {shown['tornado']}, imported by "
            f"{', '.join(tornado_imports) or 'no streamlit module'}"
        ),
    }


def _tornado_imports(package: str) -> list[str]:
    pattern = re.compile(r"^\s*(from|import)\s+tornado\b", flags=re.MULTILINE)
    return [
        _relative(path)
        for path in _package_files(package)
        if pattern.search(path.read_text(errors="replace"))
    ]


# -- code size -----------------------------------------------------------------------------------


def code_files(deployment: Deployment) -> list[Path]:
    """The files the manifest's code_files globs match, relative to the deployment's folder.

    Never counted: anything under shared_model/ (the model code every deployment shares),
    the manifest itself, and __pycache__. A pattern that matches no file is an error
    (CodeSizeError), so that a typo in a manifest cannot pass for a deployment with no code.
    """
    found: set[Path] = set()
    for pattern in deployment.code_files:
        matches = {
            Path(p).resolve()
            for p in glob.glob(
                str(deployment.folder / pattern), recursive=True, include_hidden=True
            )
            if Path(p).is_file()
        }
        matches = {p for p in matches if _countable(p)}
        if not matches:
            raise CodeSizeError(
                f"{deployment.name}: code_files pattern {pattern!r} matches no countable file "
                f"under {deployment.folder} (shared_model/, {MANIFEST_NAME} and __pycache__ "
                "are never counted); fix the pattern in its manifest"
            )
        found |= matches
    return sorted(found)


def _countable(path: Path) -> bool:
    return (
        not path.is_relative_to(SHARED_MODEL_DIR)
        and path.name != MANIFEST_NAME
        and "__pycache__" not in path.parts
    )


def code_size(deployment: Deployment) -> dict[str, float]:
    """Lines of code a deployment needs, over the files its manifest lists (code_files()).

    Every file is put in exactly one class, so the three line counts add up to the total:
      config_lines    configuration: files named *.toml, *.cfg, *.ini, *.yaml, *.yml, and the
                      Python files gunicorn.conf.py and settings.py (Django's settings);
                      counted as pygount's source lines (code and string-only lines; not
                      comments, docstrings, blank lines or lines holding only brackets)
      template_lines  templates: *.html, *.htm, *.jinja, *.jinja2, *.j2; every non-blank line
      sloc            everything else (the Python code): pygount's source lines, as above
      files           the number of files counted, of all three classes
    Deterministic: the same files give the same counts.
    """
    counts = {"sloc": 0.0, "files": 0.0, "config_lines": 0.0, "template_lines": 0.0}
    for path in code_files(deployment):
        counts["files"] += 1
        kind = _file_kind(path)
        if kind == "template_lines":
            text = path.read_text(errors="replace")
            counts[kind] += sum(1 for line in text.splitlines() if line.strip())
        else:
            analysis = _pygount().SourceAnalysis.from_file(str(path), deployment.name)
            counts[kind] += analysis.source_count
    return counts


def _pygount() -> Any:
    # Imported when code is counted, which happens in today's environment only: another stack's
    # interpreter runs inspect_package() (which does not count code) and lacks pygount.
    import pygount

    return pygount


def _file_kind(path: Path) -> str:
    if path.suffix in TEMPLATE_SUFFIXES:
        return "template_lines"
    if path.suffix in CONFIG_SUFFIXES or path.name in CONFIG_NAMES:
        return "config_lines"
    return "sloc"


# -- putting it together -------------------------------------------------------------------------


def inspect_package(deployment: Deployment) -> dict[str, Any]:
    """Everything static about one deployment's framework; see the module docstring."""
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
        "scaffold": _scaffold(None, False, 0, why),
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
    argv = [deployment.stack.python, "-m", "bench.checks.inspections", deployment.name]
    what = f"inspecting {deployment.name} in {deployment.stack.python}"
    return json_from(argv, what, StackError, 10 * CLI_TIMEOUT_S, cwd=PROJECT_ROOT, env=env)


def _inspect_main(argv: list[str]) -> int:
    """`python -m bench.checks.inspections NAME`: inspect_package() of one deployment, as JSON."""
    from bench.targets.manifest import discover, select

    [deployment] = select(discover(), argv)
    print(json.dumps(inspect_package(deployment)))
    return 0


def build_inspections(
    packages: dict, probes: dict, tampered: Mapping[str, Mapping[str, Any]] | None = None
) -> dict[str, Any]:
    """The inspections.json document (module docstring).

    packages: inspect_packages()'s answer. probes: {deployment: {config: run_probes()}}.
    tampered: {deployment: probe_tampered_model()}, whose verdict is per deployment, not per
    config: it is copied into every config's "security" as "tampered_model_refused" (with its
    evidence); a deployment without one gets null there.
    """
    merged: dict[str, dict[str, Any]] = {}
    for deployment, configs in probes.items():
        result = (tampered or {}).get(deployment)
        merged[deployment] = {}
        for config, found in configs.items():
            security = dict(found.get("security") or {})
            if result is not None:
                security["tampered_model_refused"] = result.get("tampered_model_refused")
                security.setdefault("evidence", {})
                security["evidence"] = {
                    **security["evidence"],
                    "tampered_model_refused": result.get("evidence"),
                }
            security.setdefault("tampered_model_refused", None)
            merged[deployment][config] = {**found, "security": security}
    return {
        "schema_version": SCHEMA_VERSION,
        "packages": packages,
        "probes": merged,
        "snippets": compiled_snippets(),
    }


if __name__ == "__main__":
    sys.exit(_inspect_main(sys.argv[1:]))
