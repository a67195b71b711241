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

Modules: distribution (metadata: licence, requirements, extras, dependents), source (installed
files read without importing them), components (COMPONENT_LOOKUPS, database backends),
scaffold (the project-creation command), commands (running a CLI, bounded), servers and
streamlit_stack (server_stack), code_size, packages (inspect_package(s), and main(), which
`python -m bench.checks.inspections NAME` runs in another stack's interpreter: see
__main__.py), document (build_inspections).
"""

from bench.checks.inspections.code_size import CodeSizeError, code_files, code_size
from bench.checks.inspections.components import COMPONENT_LOOKUPS, components_of
from bench.checks.inspections.distribution import Installed, installed
from bench.checks.inspections.document import SCHEMA_VERSION, build_inspections
from bench.checks.inspections.packages import inspect_package, inspect_packages
from bench.checks.inspections.scaffold import scaffold, subcommands
from bench.checks.inspections.servers import server_stack

__all__ = [
    "COMPONENT_LOOKUPS",
    "SCHEMA_VERSION",
    "CodeSizeError",
    "Installed",
    "build_inspections",
    "code_files",
    "code_size",
    "components_of",
    "inspect_package",
    "inspect_packages",
    "installed",
    "scaffold",
    "server_stack",
    "subcommands",
]
