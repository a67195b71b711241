"""What every evaluator shares: where things are in run.json and inspections.json, the
framework a deployment stands for, and how per-framework findings add up to a verdict."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd

from reports.stacks import package_version, stack_of, view_stack
from reports.verdicts import (
    CONTRADICTED,
    NOT_MEASURABLE,
    PARTLY,
    SUPPORTED,
    Claim,
    Finding,
    Verdict,
    combine,
)

Evaluator = Callable[[pd.DataFrame, Mapping[str, Any], Mapping[str, Any], Claim], Verdict]

SUBJECT = "subject"

PAPER_FRAMEWORKS = ("flask", "streamlit", "django")  # the review's column order

# The components a full-stack web framework ships; the "Type" and "Features" rows count them.
WEB_COMPONENTS = ("orm", "migrations", "admin", "auth", "forms", "templates", "test_client")

COMPONENT_NAMES = {
    "orm": "ORM",
    "migrations": "migrations",
    "admin": "admin site",
    "auth": "authentication",
    "forms": "form handling",
    "templates": "templates",
    "test_client": "test client",
    "dev_server": "development server",
    "interactive_debugger": "interactive debugger",
    "multipage": "multi-page apps",
    "static_files": "static files",
    "sitemaps": "sitemaps",
    "users": "user model",
    "user_groups": "user groups",
    "password_hashing": "password hashing",
    "views": "views",
    "raw_html": "HTML from a Python string",
    "dataframes": "data-frame display (pandas, NumPy)",
    "matplotlib_plots": "Matplotlib figures",
    "latex": "LaTeX (SymPy's output)",
}

SECURITY_HEADERS = ("X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy")

# One rule for every check that meets an extension (each deployment's manifest names its own).
EXTENSION_RULE = (
    "A feature or protection counts for a framework only when the framework itself provides it; "
    "one that an extension provides in our deployment is named and counted as the extension's. "
    "The same rule holds in every check."
)

MISSING = "not inspected in this run"


def subject_of(run: Mapping[str, Any], framework: str) -> str | None:
    """The deployment that stands for one of the paper's frameworks (role "subject") on the
    run's stack: a stack's view (reports/stacks.py) says which; a stored run is today's, so
    that `flask-2022` never stands for Flask in a verdict about today's Flask."""
    stack = view_stack(run)
    for name, info in (run.get("deployments") or {}).items():
        subject = info.get("role", SUBJECT) == SUBJECT and info.get("framework") == framework
        if subject and stack_of(info) == stack:
            return name
    return None


def display(run: Mapping[str, Any], framework: str) -> str:
    name = subject_of(run, framework)
    info = (run.get("deployments") or {}).get(name or "", {})
    return str(info.get("display_name") or framework.capitalize())


def package_of(
    run: Mapping[str, Any], inspections: Mapping[str, Any], framework: str
) -> dict[str, Any] | None:
    name = subject_of(run, framework)
    found = (inspections.get("packages") or {}).get(name) if name else None
    return found if isinstance(found, dict) else None


def probes_of(
    run: Mapping[str, Any], inspections: Mapping[str, Any], framework: str
) -> dict[str, Any]:
    """config -> probes of one framework's deployment ({} when not probed). Its work
    configurations (run.json `work_configs`) are left out: they change what the deployment does
    per request to set the frameworks' work apart, and no claim reads them."""
    name = subject_of(run, framework)
    found = (inspections.get("probes") or {}).get(name) if name else None
    if not isinstance(found, dict):
        return {}
    work = set((run.get("deployments") or {}).get(name, {}).get("work_configs") or ())
    return {config: probes for config, probes in found.items() if config not in work}


def versioned(run: Mapping[str, Any], package: Mapping[str, Any] | None, framework: str) -> str:
    version = (package or {}).get("version") or deployment_info(run, framework).get(
        "framework_version", ""
    )
    return f"{display(run, framework)} {version}".strip()


def deployment_info(run: Mapping[str, Any], framework: str) -> dict[str, Any]:
    return (run.get("deployments") or {}).get(subject_of(run, framework) or "", {})


def installed_version(run: Mapping[str, Any], package: str) -> str | None:
    """The installed version of a distribution, as run.json records it."""
    return package_version(run.get("packages") or {}, package)


def extension_for(run: Mapping[str, Any], framework: str, feature: str) -> str:
    """The installed extension (name and version) that gives `framework`'s deployment this
    feature, as its manifest declares (run.json: deployments.NAME.extensions), or "" when the
    deployment does without one."""
    named = (deployment_info(run, framework).get("extensions") or {}).get(feature)
    version = installed_version(run, str(named)) if named else None
    return f"{named} {version}" if version else ""


def findings_verdict(
    findings: Mapping[str, Finding],
    run: Mapping[str, Any],
    evidence: str = "",
    **extra: Any,
) -> Verdict:
    verdict = combine([f.verdict for f in findings.values()])
    if not evidence:
        if len(findings) == 1:
            evidence = next(iter(findings.values())).text
        else:
            evidence = _cells_summary(findings, run)
    return Verdict(verdict, evidence, findings=dict(findings), **extra)


def _cells_summary(findings: Mapping[str, Finding], run: Mapping[str, Any]) -> str:
    """Which frameworks' cells hold: "Holds for Flask, Django; contradicted for Streamlit."."""
    words = {
        SUPPORTED: "holds for",
        PARTLY: "partly holds for",
        CONTRADICTED: "contradicted for",
        NOT_MEASURABLE: "not measurable for",
    }
    parts = []
    for verdict, word in words.items():
        names = [display(run, f) for f, x in findings.items() if x.verdict == verdict]
        if names:
            parts.append(f"{word} {', '.join(names)}")
    text = "; ".join(parts)
    return text[:1].upper() + text[1:] + "."


def each_framework(
    run: Mapping[str, Any],
    claim: Claim,
    check: Callable[[str, Any], Finding],
) -> dict[str, Finding]:
    findings = {}
    for framework, expected in claim.expects.items():
        if subject_of(run, framework) is None:
            findings[framework] = Finding("no deployment of it in this run", NOT_MEASURABLE)
        else:
            findings[framework] = check(framework, expected)
    return findings


def holds(condition: bool) -> str:
    return SUPPORTED if condition else CONTRADICTED


def components_of(package: Mapping[str, Any] | None) -> dict[str, Any] | None:
    found = (package or {}).get("components")
    return found if isinstance(found, dict) else None


def shipped_components(components: Mapping[str, Any]) -> list[str]:
    return [c for c in WEB_COMPONENTS if components.get(c) is True]


def component_list(names: list[str]) -> str:
    return ", ".join(COMPONENT_NAMES.get(n, n) for n in names) or "none"


def relation_verdict(
    framework: str,
    relations: Mapping[str, list[str]],
    compare_with: Callable[[str, str, str], str],
) -> str:
    parts = [
        compare_with(relation, framework, other)
        for relation, others in relations.items()
        for other in others
    ]
    return combine(parts)


def yes_no(value: bool | None) -> str:
    """A finding in a table's terms: Yes, No, or "?" where it could not be classified."""
    return {True: "Yes", False: "No"}.get(value, "?")


def yes_word(value: Any) -> str:
    return {True: "yes", False: "no"}.get(value, "not applicable")
