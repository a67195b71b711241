"""Evaluators that read the installed packages (inspections.json): licence, type, components,
server stack, scaffolding, database backends."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import pandas as pd

from reports.evaluators.common import (
    COMPONENT_NAMES,
    MISSING,
    WEB_COMPONENTS,
    component_list,
    components_of,
    display,
    each_framework,
    extension_for,
    findings_verdict,
    holds,
    installed_version,
    package_of,
    relation_verdict,
    shipped_components,
    versioned,
    yes_no,
)
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

# A classification rule, not a measured fact: licences the Open Source Initiative approves,
# as SPDX identifiers and as the trove classifiers older metadata uses.
OPEN_SOURCE_LICENCES = {
    "0bsd",
    "apache-2.0",
    "bsd-2-clause",
    "bsd-3-clause",
    "isc",
    "mit",
    "mpl-2.0",
    "psf-2.0",
    "lgpl-2.1",
    "lgpl-3.0",
    "gpl-2.0",
    "gpl-3.0",
    "zlib",
    "python-2.0",
    "apache software license",
    "bsd license",
    "mit license",
    "isc license (iscl)",
    # The free-text License field of older metadata names the Apache License 2.0 so
    # (Streamlit 1.6, of the 2022 stack: "Apache 2").
    "apache 2",
    "apache 2.0",
    "apache license 2.0",
}


def licence(
    results: pd.DataFrame, run: Mapping[str, Any], inspections: Mapping[str, Any], claim: Claim
) -> Verdict:
    """Open or closed, from the licence metadata of each framework's installed distribution."""

    def check(framework: str, expected: str) -> Finding:
        package = package_of(run, inspections, framework)
        name = (package or {}).get("license")
        if not name:
            return Finding(f"licence {MISSING}", NOT_MEASURABLE)
        is_open = is_open_source(str(name))
        source = package.get("license_source") or "package metadata"
        if is_open is None:
            return Finding(
                f"licence {name!r} ({source}) is not one the report can classify", NOT_MEASURABLE
            )
        kind = "an open-source licence" if is_open else "not an open-source licence"
        text = f"{versioned(run, package, framework)}: {name}, {kind} (from {source})"
        return Finding(text, holds(is_open == (expected == "open")), yes_no(is_open))

    return findings_verdict(each_framework(run, claim, check), run)


def is_open_source(licence_name: str) -> bool | None:
    """True for OSI-approved licences (an SPDX expression counts when every term is one)."""
    terms = [t.strip(" ()").lower() for t in re.split(r"\s+(?:AND|OR|WITH)\s+", licence_name)]
    if all(t in OPEN_SOURCE_LICENCES for t in terms):
        return True
    if any(word in licence_name.lower() for word in ("proprietary", "all rights reserved")):
        return False
    return None


def framework_type(
    results: pd.DataFrame, run: Mapping[str, Any], inspections: Mapping[str, Any], claim: Claim
) -> Verdict:
    """Full-stack or lightweight, from the web-framework components each installed version
    ships; "closed" from its licence."""

    def check(framework: str, expected: list[str]) -> Finding:
        package = package_of(run, inspections, framework)
        components = components_of(package)
        parts, texts, values = [], [], []
        for word in expected:
            if word == "closed":
                licence_name = (package or {}).get("license")
                is_open = is_open_source(str(licence_name)) if licence_name else None
                parts.append(NOT_MEASURABLE if is_open is None else holds(not is_open))
                texts.append(f"licence {licence_name or MISSING}")
                values.append({True: "open", False: "closed"}.get(is_open, "?"))
                continue
            if components is None:
                parts.append(NOT_MEASURABLE)
                texts.append(f"components {MISSING}")
                continue
            shipped = shipped_components(components)
            kind = _stack_kind(len(shipped))
            values.append(f"{kind} framework")
            parts.append(holds(kind == word))
            texts.append(
                f"ships {len(shipped)} of {len(WEB_COMPONENTS)} web-framework components "
                f"({component_list(shipped)}): {kind}"
            )
        shown = f"{versioned(run, package, framework)}: " + "; ".join(texts)
        return Finding(shown, combine(parts), " / ".join(values).capitalize())

    return findings_verdict(
        each_framework(run, claim, check),
        run,
        details=(
            f"Reading: full-stack = ships all {len(WEB_COMPONENTS)} of "
            f"{component_list(list(WEB_COMPONENTS))}; lightweight = ships at most "
            f"{len(WEB_COMPONENTS) // 2}; in between otherwise.",
        ),
    )


def _stack_kind(shipped: int) -> str:
    if shipped == len(WEB_COMPONENTS):
        return "full-stack"
    return "lightweight" if shipped <= len(WEB_COMPONENTS) // 2 else "in between"


def component(
    results: pd.DataFrame, run: Mapping[str, Any], inspections: Mapping[str, Any], claim: Claim
) -> Verdict:
    """Whether each installed framework ships a component (all of them, when several are named),
    with the inspector's evidence; an extension the deployment uses instead is named."""
    wanted = claim.params["component"]
    names = [wanted] if isinstance(wanted, str) else list(wanted)

    def check(framework: str, expected: bool) -> Finding:
        package = package_of(run, inspections, framework)
        components = components_of(package)
        values = [components.get(n) if components else None for n in names]
        if any(not isinstance(v, bool) for v in values):
            missing = [n for n, v in zip(names, values, strict=True) if not isinstance(v, bool)]
            return Finding(f"{component_list(missing)} {MISSING}", NOT_MEASURABLE)
        evidence = (package or {}).get("component_evidence") or {}
        texts = [
            f"{COMPONENT_NAMES.get(n, n)}: {'ships it' if v else 'does not ship it'}"
            + (f" ({evidence[n]})" if evidence.get(n) else "")
            for n, v in zip(names, values, strict=True)
        ]
        extension = next(filter(None, (extension_for(run, framework, n) for n in names)), "")
        if extension:
            texts.append(f"our deployment uses the extension {extension} (not counted for it)")
        verdict = combine([holds(v == expected) for v in values])
        shown = f"{versioned(run, package, framework)}: " + "; ".join(texts)
        return Finding(shown, verdict, yes_no(all(values)) if len(set(values)) == 1 else "Partly")

    return findings_verdict(each_framework(run, claim, check), run)


def components_count(
    results: pd.DataFrame, run: Mapping[str, Any], inspections: Mapping[str, Any], claim: Claim
) -> Verdict:
    """ "More/fewer features than": compares the web-framework components each one ships."""
    named = set(claim.expects) | {
        o for r in claim.expects.values() for os in r.values() for o in os
    }
    shipped: dict[str, set[str] | None] = {}
    for framework in named:
        components = components_of(package_of(run, inspections, framework))
        shipped[framework] = set(shipped_components(components)) if components is not None else None

    def compare_with(relation: str, a: str, b: str) -> str:
        if shipped.get(a) is None or shipped.get(b) is None:
            return NOT_MEASURABLE
        na, nb = len(shipped[a]), len(shipped[b])
        if relation == "same_as":
            return SUPPORTED if shipped[a] == shipped[b] else (PARTLY if na == nb else CONTRADICTED)
        return holds(na > nb if relation == "more_than" else na < nb)

    def check(framework: str, relations: Mapping[str, list[str]]) -> Finding:
        own = shipped.get(framework)
        if own is None:
            return Finding(f"components {MISSING}", NOT_MEASURABLE)
        others = "; ".join(
            f"{display(run, o)} {len(shipped[o])}"
            if shipped.get(o) is not None
            else f"{display(run, o)} not inspected"
            for r in relations.values()
            for o in r
        )
        text = (
            f"ships {len(own)} of {len(WEB_COMPONENTS)} ({component_list(sorted(own))}); {others}"
        )
        value = f"{len(own)} of {len(WEB_COMPONENTS)} components"
        return Finding(text, relation_verdict(framework, relations, compare_with), value)

    return findings_verdict(each_framework(run, claim, check), run)


def server_stack(
    results: pd.DataFrame, run: Mapping[str, Any], inspections: Mapping[str, Any], claim: Claim
) -> Verdict:
    """What the installed version runs on: a WSGI callable, or the server it starts itself."""

    def check(framework: str, expected: str) -> Finding:
        package = package_of(run, inspections, framework)
        stack = (package or {}).get("server_stack")
        if not isinstance(stack, dict) or not stack.get("interface"):
            return Finding(f"server stack {MISSING}", NOT_MEASURABLE)
        tornado = stack.get("tornado_used")
        value = f"{stack.get('server') or '?'} ({stack['interface']})"
        text = (
            f"{versioned(run, package, framework)}: {stack['interface']} application, served "
            f"here by {stack.get('server') or 'an unnamed server'}"
        )
        if expected.lower() == "tornado":
            if not isinstance(tornado, bool):
                return Finding(f"{text}; use of Tornado {MISSING}", NOT_MEASURABLE)
            text += "; Tornado is used" if tornado else "; Tornado is not used"
            return Finding(text, holds(tornado), value)
        return Finding(text, holds(str(stack["interface"]).upper() == expected.upper()), value)

    findings = each_framework(run, claim, check)
    details = tuple(
        f"{display(run, f)}: {(package_of(run, inspections, f) or {})['server_stack']['evidence']}"
        for f in claim.expects
        if ((package_of(run, inspections, f) or {}).get("server_stack") or {}).get("evidence")
    )
    return findings_verdict(findings, run, details=details)


def scaffold(
    results: pd.DataFrame, run: Mapping[str, Any], inspections: Mapping[str, Any], claim: Claim
) -> Verdict:
    """Whether the framework's own CLI creates a new project."""

    def check(framework: str, expected: bool) -> Finding:
        package = package_of(run, inspections, framework)
        found = (package or {}).get("scaffold")
        if not isinstance(found, dict) or not isinstance(found.get("works"), bool):
            return Finding(f"scaffolding {MISSING}", NOT_MEASURABLE)
        command = found.get("command")
        if found["works"]:
            text = f"`{command}` creates a project"
        elif command:
            text = f"`{command}` did not create a project"
        else:
            text = "its command line has no command that creates a project"
        if found.get("evidence"):
            text += f" ({found['evidence']})"
        verdict = holds(found["works"] == expected)
        return Finding(
            f"{versioned(run, package, framework)}: {text}", verdict, yes_no(found["works"])
        )

    return findings_verdict(each_framework(run, claim, check), run)


def database(
    results: pd.DataFrame, run: Mapping[str, Any], inspections: Mapping[str, Any], claim: Claim
) -> Verdict:
    """The database backends each installed framework ships. "extension" reads a claim that the
    framework relies on a separate package (the paper's "Used SQLAlchemy")."""

    def check(framework: str, expected: str | list[str]) -> Finding:
        package = package_of(run, inspections, framework)
        components = components_of(package)
        backends = (components or {}).get("database_backends")
        if not isinstance(backends, list):
            return Finding(f"database backends {MISSING}", NOT_MEASURABLE)
        shipped = ", ".join(map(str, backends)) or "none"
        head = f"{versioned(run, package, framework)} ships database backends: {shipped}"
        if expected == "extension":
            return _database_extension(run, framework, components, head, shipped)
        named = [e for e in expected if any(e.lower() in str(b).lower() for b in backends)]
        if len(named) == len(expected):
            return Finding(head, SUPPORTED, shipped)
        missing = ", ".join(e for e in expected if e not in named)
        verdict = PARTLY if backends else CONTRADICTED
        return Finding(f"{head}; not among them by name: {missing}", verdict, shipped)

    return findings_verdict(each_framework(run, claim, check), run)


def _database_extension(
    run: Mapping[str, Any], framework: str, components: Mapping[str, Any], head: str, shipped: str
) -> Finding:
    """ "Used SQLAlchemy": the framework ships no database layer of its own (so one would come
    from an extension), and, usable as installed, the extension is installed and our deployment
    uses it. A named extension that is neither counts for nothing."""
    needs_one = not components.get("database_backends") and components.get("orm") is not True
    sqlalchemy = installed_version(run, "sqlalchemy")
    used = extension_for(run, framework, "database")
    text = head + " (a database needs an extension)"
    if not needs_one:
        return Finding(text, CONTRADICTED, shipped)
    if sqlalchemy and used:
        return Finding(f"{text}; our deployment uses {used}", SUPPORTED, f"extension: {used}")
    text += (
        f"; SQLAlchemy {sqlalchemy} is installed, but our deployment uses no database"
        if sqlalchemy
        else "; SQLAlchemy is neither installed nor used here, so it counts for nothing"
    )
    return Finding(text, PARTLY, "none built in; no extension installed")
