"""The inspections.json document: the packages, the probes (with the per-deployment tampered-
model verdict copied into every config) and the compiled snippets."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bench.checks.snippets import compiled_snippets

SCHEMA_VERSION = 1


def build_inspections(
    packages: dict,
    probes: dict,
    tampered: Mapping[str, Mapping[str, Any]] | None = None,
    browser_timing: Mapping[str, list[dict[str, Any]]] | None = None,
) -> dict[str, Any]:
    """The inspections.json document (bench/checks/inspections/__init__.py's docstring).

    packages: inspect_packages()'s answer. probes: {deployment: {config: run_probes()}}.
    browser_timing: {deployment: [time_browser_sessions(), ...]}, where the plan timed browsers.
    tampered: {deployment: probe_tampered_model()}, whose verdict is per deployment, not per
    config: it is copied into every config's "security" as "tampered_model_refused" (with its
    evidence); a deployment without one gets null there.
    """
    merged = {
        deployment: {
            config: {**found, "security": _security(found, (tampered or {}).get(deployment))}
            for config, found in configs.items()
        }
        for deployment, configs in probes.items()
    }
    return {
        "schema_version": SCHEMA_VERSION,
        "packages": packages,
        "probes": merged,
        "snippets": compiled_snippets(),
        **({"browser_timing": dict(browser_timing)} if browser_timing else {}),
    }


def _security(found: Mapping[str, Any], result: Mapping[str, Any] | None) -> dict[str, Any]:
    """One config's "security" probe with the deployment's tampered-model verdict added."""
    security = dict(found.get("security") or {})
    if result is not None:
        security["tampered_model_refused"] = result.get("tampered_model_refused")
        security.setdefault("evidence", {})
        security["evidence"] = {
            **security["evidence"],
            "tampered_model_refused": result.get("evidence"),
        }
    security.setdefault("tampered_model_refused", None)
    return security
