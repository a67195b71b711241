"""Which components (ORM, admin, templates, debugger, ...) the installed framework ships, each
with the evidence of where it was found or what was looked for, and its database backends."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from bench.checks.inspections.distribution import Installed, extras_of
from bench.checks.inspections.source import (
    defined_names,
    lookup,
    module_file,
    package_files,
    relative_path,
)

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
    _require_extras(dist, components, evidence)
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


def _require_extras(dist: Installed, components: dict[str, Any], evidence: dict[str, str]) -> None:
    """A found component named like an extra needs that extra: without it, it counts as absent."""
    for component, extra in extras_of(dist).items():
        if component in evidence and components[component]:
            state = "installed" if extra["installed"] else "NOT installed"
            evidence[component] += (
                f"; it needs the extra [{component}] ({', '.join(extra['requires'])}): {state}"
            )
            if not extra["installed"]:  # usable as installed, or not present at all
                components[component] = False
                evidence[component] += ", so it does not work as installed and counts as absent"


def _debugger_scan(dist: Installed, components: dict[str, Any], evidence: dict[str, str]) -> None:
    """An in-browser debugger runs typed code: look for code.InteractiveInterpreter's users."""
    hits = [
        relative_path(path)
        for package in (*dist.packages, *dist.required_packages)
        for path in package_files(package)
        if "InteractiveInterpreter" in path.read_text(errors="replace")
    ]
    served = [h for h in hits if "debug" in h]
    if served and not components["interactive_debugger"]:
        components["interactive_debugger"] = True
    evidence["interactive_debugger"] += (
        f". Files using code.InteractiveInterpreter: {', '.join(hits) or 'none'}"
        + ("" if served or not hits else " (none is a debug module)")
    )


def database_backends(dist: Installed) -> tuple[list[str], str]:
    """Database engines the package ships: Django's db/backends/<engine>/base.py, Streamlit's
    connections/<kind>_connection.py; their drivers' state is in the evidence."""
    found: list[str] = []
    notes: list[str] = []
    for package in dist.packages:
        root = module_file(package)
        if root is None or root.name != "__init__.py":
            continue
        for engines, note in (_django_engines(package, root), _connections(dist, root)):
            found += engines
            notes += [note] if note else []
    return sorted(set(found)), "; ".join(notes) or (
        f"no db/backends/*/base.py or connections/*_connection.py in {', '.join(dist.packages)}"
    )


def _django_engines(package: str, root: Path) -> tuple[list[str], str | None]:
    """(usable engines, evidence) from <package>/db/backends/<engine>/base.py."""
    backends = root.parent / "db" / "backends"
    engines = sorted(p.parent.name for p in backends.glob("*/base.py"))
    if not engines:
        return [], None
    # An engine's base.py defines DatabaseWrapper (base/ holds only the abstract
    # BaseDatabaseWrapper); "dummy" is the placeholder that raises ImproperlyConfigured.
    usable = [
        e
        for e in engines
        if e != "dummy" and "DatabaseWrapper" in defined_names(f"{package}.db.backends.{e}.base")
    ]
    note = (
        f"{relative_path(backends)}/<engine>/base.py: {', '.join(engines)}; "
        f"engines (defining DatabaseWrapper, not the dummy): {', '.join(usable)}"
    )
    return usable, note


def _connections(dist: Installed, root: Path) -> tuple[list[str], str | None]:
    """(connection kinds, evidence) from <package>/connections/<kind>_connection.py."""
    connections = sorted((root.parent / "connections").glob("*_connection.py"))
    kinds = [p.stem.removesuffix("_connection") for p in connections]
    if not kinds:
        return [], None
    extras = extras_of(dist)
    note = f"{relative_path(root.parent / 'connections')}/*_connection.py: {', '.join(kinds)}; "
    note += ", ".join(
        f"extra [{k}] ({', '.join(v['requires'])}) "
        f"{'installed' if v['installed'] else 'not installed'}"
        for k, v in extras.items()
        if k in kinds
    )
    return [k for k in kinds if k != "base"], note
