"""One pure function per kind of claim: (results, run info, inspections, claim) -> Verdict.

`results` is the tidy table of bench/results.py (rows of unverified deployments already removed),
`run` is run.json and `inspections` is inspections.json. Anything missing from them means "not
inspected or not measured in this run": the verdict then says "not measurable here" and why,
it never guesses and never fails.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd

from bench.results import CODE_SIZE
from reports import compare, stats
from reports.text import TIMES, number, plural, ratio
from reports.verdicts import (
    CONTRADICTED,
    NOT_MEASURABLE,
    PARTLY,
    SUPPORTED,
    Claim,
    Finding,
    Verdict,
    combine,
    not_measurable,
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
}
SECURITY_HEADERS = ("X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy")
# One rule for every check that meets an extension (each deployment's manifest names its own).
EXTENSION_RULE = (
    "A feature or protection counts for a framework only when the framework itself provides it; "
    "one that an extension provides in our deployment is named and counted as the extension's. "
    "The same rule holds in every check."
)
MISSING = "not inspected in this run"


# --- where things are in run.json and inspections.json ---------------------------------------


def subject_of(run: Mapping[str, Any], framework: str) -> str | None:
    """The deployment that stands for one of the paper's frameworks (role "subject")."""
    for name, info in (run.get("deployments") or {}).items():
        if info.get("role", SUBJECT) == SUBJECT and info.get("framework") == framework:
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
    """config -> probes of one framework's deployment ({} when not probed)."""
    name = subject_of(run, framework)
    found = (inspections.get("probes") or {}).get(name) if name else None
    return found if isinstance(found, dict) else {}


def versioned(run: Mapping[str, Any], package: Mapping[str, Any] | None, framework: str) -> str:
    version = (package or {}).get("version") or _deployment(run, framework).get(
        "framework_version", ""
    )
    return f"{display(run, framework)} {version}".strip()


def _deployment(run: Mapping[str, Any], framework: str) -> dict[str, Any]:
    return (run.get("deployments") or {}).get(subject_of(run, framework) or "", {})


def _installed(run: Mapping[str, Any], package: str) -> str | None:
    """The installed version of a distribution, as run.json records it."""
    wanted = _canonical(package)
    for name, version in (run.get("packages") or {}).items():
        if _canonical(name) == wanted:
            return str(version)
    return None


def extension_for(run: Mapping[str, Any], framework: str, feature: str) -> str:
    """The installed extension (name and version) that gives `framework`'s deployment this
    feature, as its manifest declares (run.json: deployments.NAME.extensions), or "" when the
    deployment does without one."""
    named = (_deployment(run, framework).get("extensions") or {}).get(feature)
    version = _installed(run, str(named)) if named else None
    return f"{named} {version}" if version else ""


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _findings_verdict(
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


def _each_framework(
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


def _holds(condition: bool) -> str:
    return SUPPORTED if condition else CONTRADICTED


# --- evaluators -------------------------------------------------------------------------------


def opinion(
    results: pd.DataFrame, run: Mapping[str, Any], inspections: Mapping[str, Any], claim: Claim
) -> Verdict:
    """A statement no measurement here can decide; the registry gives the reason and what would
    decide it. Code size, when asked for, is quoted as context and does not decide it."""
    details: tuple[str, ...] = ()
    if claim.params.get("context") == "code_size":
        details = tuple(_code_size_lines(results, run))
    decides = claim.params.get("decides")
    reason = str(claim.params["reason"]) + (f" What would decide it: {decides}" if decides else "")
    return not_measurable(reason, details=details)


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
        return Finding(text, _holds(is_open == (expected == "open")), _yes_no(is_open))

    return _findings_verdict(_each_framework(run, claim, check), run)


def is_open_source(licence_name: str) -> bool | None:
    """True for OSI-approved licences (an SPDX expression counts when every term is one)."""
    terms = [t.strip(" ()").lower() for t in re.split(r"\s+(?:AND|OR|WITH)\s+", licence_name)]
    if all(t in OPEN_SOURCE_LICENCES for t in terms):
        return True
    if any(word in licence_name.lower() for word in ("proprietary", "all rights reserved")):
        return False
    return None


def _components(package: Mapping[str, Any] | None) -> dict[str, Any] | None:
    found = (package or {}).get("components")
    return found if isinstance(found, dict) else None


def _shipped(components: Mapping[str, Any]) -> list[str]:
    return [c for c in WEB_COMPONENTS if components.get(c) is True]


def _component_list(names: list[str]) -> str:
    return ", ".join(COMPONENT_NAMES.get(n, n) for n in names) or "none"


def framework_type(
    results: pd.DataFrame, run: Mapping[str, Any], inspections: Mapping[str, Any], claim: Claim
) -> Verdict:
    """Full-stack or lightweight, from the web-framework components each installed version
    ships; "closed" from its licence."""

    def check(framework: str, expected: list[str]) -> Finding:
        package = package_of(run, inspections, framework)
        components = _components(package)
        parts, texts, values = [], [], []
        for word in expected:
            if word == "closed":
                licence_name = (package or {}).get("license")
                is_open = is_open_source(str(licence_name)) if licence_name else None
                parts.append(NOT_MEASURABLE if is_open is None else _holds(not is_open))
                texts.append(f"licence {licence_name or MISSING}")
                values.append({True: "open", False: "closed"}.get(is_open, "?"))
                continue
            if components is None:
                parts.append(NOT_MEASURABLE)
                texts.append(f"components {MISSING}")
                continue
            shipped = _shipped(components)
            kind = _stack_kind(len(shipped))
            values.append(f"{kind} framework")
            parts.append(_holds(kind == word))
            texts.append(
                f"ships {len(shipped)} of {len(WEB_COMPONENTS)} web-framework components "
                f"({_component_list(shipped)}): {kind}"
            )
        shown = f"{versioned(run, package, framework)}: " + "; ".join(texts)
        return Finding(shown, combine(parts), " / ".join(values).capitalize())

    return _findings_verdict(
        _each_framework(run, claim, check),
        run,
        details=(
            f"Reading: full-stack = ships all {len(WEB_COMPONENTS)} of "
            f"{_component_list(list(WEB_COMPONENTS))}; lightweight = ships at most "
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
        components = _components(package)
        values = [components.get(n) if components else None for n in names]
        if any(not isinstance(v, bool) for v in values):
            missing = [n for n, v in zip(names, values, strict=True) if not isinstance(v, bool)]
            return Finding(f"{_component_list(missing)} {MISSING}", NOT_MEASURABLE)
        evidence = (package or {}).get("component_evidence") or {}
        texts = [
            f"{COMPONENT_NAMES.get(n, n)}: {'ships it' if v else 'does not ship it'}"
            + (f" ({evidence[n]})" if evidence.get(n) else "")
            for n, v in zip(names, values, strict=True)
        ]
        extension = next(filter(None, (extension_for(run, framework, n) for n in names)), "")
        if extension:
            texts.append(f"our deployment uses the extension {extension} (not counted for it)")
        verdict = combine([_holds(v == expected) for v in values])
        shown = f"{versioned(run, package, framework)}: " + "; ".join(texts)
        return Finding(shown, verdict, _yes_no(all(values)) if len(set(values)) == 1 else "Partly")

    return _findings_verdict(_each_framework(run, claim, check), run)


def _relation_verdict(
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


def components_count(
    results: pd.DataFrame, run: Mapping[str, Any], inspections: Mapping[str, Any], claim: Claim
) -> Verdict:
    """ "More/fewer features than": compares the web-framework components each one ships."""
    named = set(claim.expects) | {
        o for r in claim.expects.values() for os in r.values() for o in os
    }
    shipped: dict[str, set[str] | None] = {}
    for framework in named:
        components = _components(package_of(run, inspections, framework))
        shipped[framework] = set(_shipped(components)) if components is not None else None

    def compare_with(relation: str, a: str, b: str) -> str:
        if shipped.get(a) is None or shipped.get(b) is None:
            return NOT_MEASURABLE
        na, nb = len(shipped[a]), len(shipped[b])
        if relation == "same_as":
            return SUPPORTED if shipped[a] == shipped[b] else (PARTLY if na == nb else CONTRADICTED)
        return _holds(na > nb if relation == "more_than" else na < nb)

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
            f"ships {len(own)} of {len(WEB_COMPONENTS)} ({_component_list(sorted(own))}); {others}"
        )
        value = f"{len(own)} of {len(WEB_COMPONENTS)} components"
        return Finding(text, _relation_verdict(framework, relations, compare_with), value)

    return _findings_verdict(_each_framework(run, claim, check), run)


def _code_size(results: pd.DataFrame, run: Mapping[str, Any], framework: str) -> dict[str, float]:
    name = subject_of(run, framework)
    rows = results[(results["scenario"] == CODE_SIZE) & (results["deployment"] == name)]
    size = {str(r.metric): float(r.value) for r in rows.itertuples(index=False)}
    # What a developer writes to deploy: the runner's three line classes do not overlap.
    if all(m in size for m in LINE_CLASSES):
        size["total_lines"] = sum(size[m] for m in LINE_CLASSES)
    return size


LINE_CLASSES = ("sloc", "config_lines", "template_lines")
CODE_SIZE_NAMES = {
    "total_lines": "lines in all",
    "sloc": "SLOC",
    "files": "files",
    "config_lines": "config lines",
    "template_lines": "template lines",
}


def _sizes(size: Mapping[str, float], metrics: list[str]) -> str:
    return ", ".join(
        f"{number(size.get(m, math.nan))} {CODE_SIZE_NAMES.get(m, m)}" for m in metrics
    )


def _code_size_lines(results: pd.DataFrame, run: Mapping[str, Any]) -> list[str]:
    lines = []
    for framework in PAPER_FRAMEWORKS:
        size = _code_size(results, run, framework)
        if size:
            shown = [m for m in CODE_SIZE_NAMES if m in size]
            lines.append(
                f"Code size of our {display(run, framework)} deployment: {_sizes(size, shown)}"
            )
    return lines or ["Code size was not measured in this run."]


def code_size(
    results: pd.DataFrame, run: Mapping[str, Any], inspections: Mapping[str, Any], claim: Claim
) -> Verdict:
    """ "Simpler / more code than": compares the code size of our deployments, which do the
    same job. params.metrics: the code-size metrics that must all agree (default sloc)."""
    metrics = list(claim.params.get("metrics", ["sloc"]))

    def compare_with(relation: str, a: str, b: str) -> str:
        size_a, size_b = _code_size(results, run, a), _code_size(results, run, b)
        parts = []
        for metric in metrics:
            if metric not in size_a or metric not in size_b:
                parts.append(NOT_MEASURABLE)
            elif relation == "more_than":
                parts.append(_holds(size_a[metric] > size_b[metric]))
            elif relation == "fewer_than":
                parts.append(_holds(size_a[metric] < size_b[metric]))
            else:
                parts.append(_holds(size_a[metric] == size_b[metric]))
        return combine(parts)

    def check(framework: str, relations: Mapping[str, list[str]]) -> Finding:
        size = _code_size(results, run, framework)
        if not all(m in size for m in metrics):
            return Finding(f"code size {MISSING}", NOT_MEASURABLE)
        own = _sizes(size, metrics)
        others = "; ".join(
            f"{display(run, o)} {_sizes(_code_size(results, run, o), metrics)}"
            for r in relations.values()
            for o in r
        )
        verdict = _relation_verdict(framework, relations, compare_with)
        return Finding(f"{own} (vs {others})", verdict, own)

    return _findings_verdict(
        _each_framework(run, claim, check), run, details=tuple(_code_size_lines(results, run))
    )


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
            return Finding(text, _holds(tornado), value)
        return Finding(text, _holds(str(stack["interface"]).upper() == expected.upper()), value)

    findings = _each_framework(run, claim, check)
    details = tuple(
        f"{display(run, f)}: {(package_of(run, inspections, f) or {})['server_stack']['evidence']}"
        for f in claim.expects
        if ((package_of(run, inspections, f) or {}).get("server_stack") or {}).get("evidence")
    )
    return _findings_verdict(findings, run, details=details)


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
        verdict = _holds(found["works"] == expected)
        return Finding(
            f"{versioned(run, package, framework)}: {text}", verdict, _yes_no(found["works"])
        )

    return _findings_verdict(_each_framework(run, claim, check), run)


def database(
    results: pd.DataFrame, run: Mapping[str, Any], inspections: Mapping[str, Any], claim: Claim
) -> Verdict:
    """The database backends each installed framework ships. "extension" reads a claim that the
    framework relies on a separate package (the paper's "Used SQLAlchemy")."""

    def check(framework: str, expected: str | list[str]) -> Finding:
        package = package_of(run, inspections, framework)
        components = _components(package)
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

    return _findings_verdict(_each_framework(run, claim, check), run)


def _database_extension(
    run: Mapping[str, Any], framework: str, components: Mapping[str, Any], head: str, shipped: str
) -> Finding:
    """ "Used SQLAlchemy": the framework ships no database layer of its own (so one would come
    from an extension), and, usable as installed, the extension is installed and our deployment
    uses it. A named extension that is neither counts for nothing."""
    needs_one = not components.get("database_backends") and components.get("orm") is not True
    sqlalchemy = _installed(run, "sqlalchemy")
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


def _serves(run: Mapping[str, Any], framework: str, scenarios: tuple[str, ...]) -> bool | None:
    """Whether a verified deployment offers one of the scenarios; None if it was not verified."""
    info = _deployment(run, framework)
    if info.get("verified") is not True:
        return None
    offered = set(info.get("scenarios") or ()) - set(info.get("not_applicable") or ())
    return bool(offered & set(scenarios))


def _interactions(
    results: pd.DataFrame, run: Mapping[str, Any], framework: str, scenario: str
) -> float:
    rows = results[
        (results["deployment"] == subject_of(run, framework))
        & (results["scenario"] == scenario)
        & (results["metric"] == "interactions")
    ]
    return float(rows["value"].sum())


def _unverified_reason(run: Mapping[str, Any], framework: str) -> str:
    info = _deployment(run, framework)
    if info.get("verified") is False:
        reasons = "; ".join(
            f"{f.get('check')}: {f.get('reason')}" for f in info.get("verify_failures") or []
        )
        return f"failed verification, so not measured ({reasons or 'no reason recorded'})"
    return "verification outcome not recorded in this run"


def dynamic_html(
    results: pd.DataFrame, run: Mapping[str, Any], inspections: Mapping[str, Any], claim: Claim
) -> Verdict:
    """Whether our deployment of each framework serves a page built per request from the input:
    the HTML form answering with the prediction, or Streamlit's page rebuilt at each rerun."""

    def check(framework: str, expected: bool) -> Finding:
        serves_form = _serves(run, framework, ("form",))
        serves_ui = _serves(run, framework, ("ui_session",))
        if serves_form is None:
            return Finding(_unverified_reason(run, framework), NOT_MEASURABLE)
        if serves_form:
            n = _interactions(results, run, framework, "form")
            text = (
                "our deployment renders the submitted values' prediction into its HTML page "
                "(verified: form round trip)"
            )
            text += f"; {number(n)} form submissions answered under load" if n else ""
        elif serves_ui:
            n = _interactions(results, run, framework, "ui_session")
            text = (
                "our deployment's page is rebuilt by the script at every rerun and shows the "
                "prediction (verified: session predictions); Streamlit's browser client renders it"
            )
            text += f"; {number(n)} reruns answered under load" if n else ""
        else:
            text = "our deployment serves no HTML page"
        served = serves_form or serves_ui
        return Finding(text, _holds(served == expected), _yes_no(served))

    return _findings_verdict(_each_framework(run, claim, check), run)


def rest_api(
    results: pd.DataFrame, run: Mapping[str, Any], inspections: Mapping[str, Any], claim: Claim
) -> Verdict:
    """Which deployments serve the JSON API here, and whether the packages a claim names are
    installed. expects: {serves: bool, via: [distribution names]}."""

    def check(framework: str, expected: Mapping[str, Any]) -> Finding:
        serves = _serves(run, framework, ("api_single", "api_batch"))
        if serves is None:
            return Finding(_unverified_reason(run, framework), NOT_MEASURABLE)
        if not serves:
            text = "our deployment serves no REST API (its API scenarios are not applicable)"
            return Finding(text, _holds(not expected.get("serves", True)), "No")
        n = sum(_interactions(results, run, framework, s) for s in ("api_single", "api_batch"))
        text = "serves the JSON API of the contract (verified)"
        text += f"; {number(n)} API calls answered under load" if n else ""
        via = list(expected.get("via") or [])
        installed = [f"{p} {_installed(run, p)}" for p in via if _installed(run, p)]
        if not via:
            return Finding(text, _holds(bool(expected.get("serves", True))), "Yes")
        if installed:
            return Finding(f"{text}; installed: {', '.join(installed)}", SUPPORTED, "Yes")
        return Finding(f"{text}, with none of {', '.join(via)} installed", PARTLY, "Yes")

    return _findings_verdict(_each_framework(run, claim, check), run)


def serves_model(
    results: pd.DataFrame, run: Mapping[str, Any], inspections: Mapping[str, Any], claim: Claim
) -> Verdict:
    """Whether our deployment serves the shared scikit-learn model with the reference answers."""
    model = run.get("model") or {}

    def check(framework: str, expected: bool) -> Finding:
        info = _deployment(run, framework)
        if info.get("verified") is not True:
            return Finding(_unverified_reason(run, framework), NOT_MEASURABLE)
        sklearn = _installed(run, "scikit-learn")
        text = (
            f"serves {model.get('estimator', 'the shared model')} "
            f"(scikit-learn {sklearn or 'version not recorded'}, sha256 "
            f"{str(model.get('sha256', ''))[:12]}…) with the predictions of the shared model code "
            "(verified)"
        )
        return Finding(text, _holds(expected))

    return _findings_verdict(_each_framework(run, claim, check), run)


# --- performance ------------------------------------------------------------------------------

READINGS = ("clearly worse", "slightly worse", "same", "slightly better", "clearly better")
# An interval that holds a ratio of 1 across a band edge: no difference cannot be ruled out.
INDISTINGUISHABLE = "not distinguishable"


def reading_of(ratio: float, same_within: float, slightly_up_to: float) -> str:
    """The paper's words for a throughput ratio a / b (above 1: a serves more per second)."""
    if math.isnan(ratio):
        return ""
    if ratio > 1 + slightly_up_to:
        return "clearly better"
    if ratio > 1 + same_within:
        return "slightly better"
    if ratio >= 1 / (1 + same_within):
        return "same"
    if ratio >= 1 / (1 + slightly_up_to):
        return "slightly worse"
    return "clearly worse"


def read_estimate(estimate: stats.Estimate, same_within: float, slightly_up_to: float) -> str:
    """A reading only when the whole interval says the same; INDISTINGUISHABLE when the interval
    spans bands and holds 1 (no difference); "" (undecided) when it straddles a band edge
    elsewhere, or when there is no interval (fewer than 3 repetitions): one window cannot tell
    "slightly" from "same"."""
    if not estimate.has_interval:
        return ""
    low = reading_of(estimate.low, same_within, slightly_up_to)
    if low == reading_of(estimate.high, same_within, slightly_up_to):
        return low
    return INDISTINGUISHABLE if estimate.low <= 1 <= estimate.high else ""


def _agreement(expected: str, observed: str) -> str:
    """How far a measured reading agrees with the claimed one."""
    if expected == observed:
        return SUPPORTED
    e, o = READINGS.index(expected) - 2, READINGS.index(observed) - 2  # < 0 worse, > 0 better
    if e * o > 0:  # right direction, wrong size ("slightly" vs "clearly")
        return PARTLY
    if 0 in (e, o) and abs(e - o) == 1:  # "same" against "slightly": within one band
        return PARTLY
    return CONTRADICTED


def performance(
    results: pd.DataFrame, run: Mapping[str, Any], inspections: Mapping[str, Any], claim: Claim
) -> Verdict:
    """Throughput ratios at like-for-like load levels, read in the paper's words.
    expects: framework -> {vs: other framework, reading: one of READINGS}."""
    same = float(claim.params.get("same_within", 0.05))
    slightly = float(claim.params.get("slightly_up_to", 0.30))
    levels = results[results["users"] > 0]
    details: list[str] = [
        f"Reading of a throughput ratio: same within ±{same:.0%}; slightly better or worse up "
        f"to {slightly:.0%}; clearly beyond. A level is read only when its whole interval lies "
        "in one band; levels where the load generator was saturated are left out."
    ]
    numbers: dict[str, float] = {}
    listed: set[frozenset[str]] = set()

    def check(framework: str, expected: Mapping[str, str]) -> Finding:
        other = expected["vs"]
        a, b = subject_of(run, framework), subject_of(run, other)
        if b is None:
            return Finding(f"no deployment of {other} in this run", NOT_MEASURABLE)
        points = compare.all_points(levels, a, b)
        usable = [p for p in points if not p.loadgen_bound and not math.isnan(p.throughput.value)]
        if not usable:
            why = "every like-for-like level saturated the load generator"
            return Finding(why if points else "no like-for-like level was measured", NOT_MEASURABLE)
        readings = [read_estimate(p.throughput, same, slightly) for p in usable]
        decided = [_agreement(expected["reading"], r) for r in readings if r in READINGS]
        ratios = [p.throughput.value for p in usable]
        key = f"{display(run, framework)} ÷ {display(run, other)} throughput"
        numbers.update({f"{key}, lowest": min(ratios), f"{key}, highest": max(ratios)})
        if frozenset((a, b)) not in listed:  # the mirror pair would repeat the same levels
            listed.add(frozenset((a, b)))
            details.extend(
                _point_line(run, framework, other, p, r)
                for p, r in zip(usable, readings, strict=True)
            )
        return Finding(
            _performance_text(run, framework, other, points, usable, readings),
            combine(decided) if decided else NOT_MEASURABLE,
            f"{_spread(ratios)} {display(run, other)}'s throughput",
        )

    findings = _each_framework(run, claim, check)
    return _findings_verdict(findings, run, numbers=numbers, details=tuple(details))


def _performance_text(
    run: Mapping[str, Any],
    a: str,
    b: str,
    points: list[compare.Point],
    usable: list[compare.Point],
    readings: list[str],
) -> str:
    spread = _spread([p.throughput.value for p in usable])
    tally = [f"{r} at {readings.count(r)}" for r in READINGS if readings.count(r)]
    if readings.count(INDISTINGUISHABLE):
        tally.append(
            f"{INDISTINGUISHABLE} at {readings.count(INDISTINGUISHABLE)} (interval holds 1{TIMES})"
        )
    if readings.count(""):
        tally.append(f"undecided at {readings.count('')} (interval spans a band edge)")
    levels = plural(len(usable), "level")
    text = f"{display(run, a)} ÷ {display(run, b)} throughput: {spread} over {levels}: "
    text += "; ".join(tally)
    if len(points) > len(usable):
        text += (
            f"; {plural(len(points) - len(usable), 'level')} left out (load generator saturated)"
        )
    if all(p.pairing.interaction for p in usable):
        text += "; one form submission against one Streamlit rerun, each at its defaults"
    if any(not p.throughput.has_interval for p in usable):
        fewer = f"fewer than {stats.MIN_N_FOR_CI} repetitions"
        text += f" ({fewer} at some levels: read from the medians alone, without an interval)"
    return text


def _spread(ratios: list[float]) -> str:
    low, high = number(min(ratios), 2), number(max(ratios), 2)
    return f"{low}{TIMES}" + ("" if low == high else f" to {high}{TIMES}")


def _point_line(run: Mapping[str, Any], a: str, b: str, point: compare.Point, reading: str) -> str:
    t = point.throughput
    shown = ratio(t) if t.has_interval else f"{ratio(t)} (n < 3: no interval)"
    return (
        f"{display(run, a)} ÷ {display(run, b)}, {point.pairing.label}, "
        f"{plural(point.users, 'user')}: throughput {shown}, median latency "
        f"{ratio(point.latency_p50)} → {reading or 'undecided'}"
    )


# --- probes of running servers ----------------------------------------------------------------


def concurrency(
    results: pd.DataFrame, run: Mapping[str, Any], inspections: Mapping[str, Any], claim: Claim
) -> Verdict:
    """Whether slow requests overlap, per server configuration, from the concurrency probe,
    judged against the controls (params.controls: frameworks probed under the same
    configurations). expects: framework -> {overlapped: bool}.

    The rule: a configuration decides only where it tells the framework from its controls. Where
    the framework serialises and so does every control, the server configuration serialises, not
    the framework (that configuration is not measurable for the claim); where the controls
    overlap and it does not, the claim holds; where it behaves as expected of the others, not.
    """
    controls = list(claim.params.get("controls", []))
    findings: dict[str, Finding] = {}
    for framework, expected in claim.expects.items():
        per_config = _overlaps(run, inspections, framework)
        if not per_config:
            findings[framework] = Finding(f"concurrency probe {MISSING}", NOT_MEASURABLE)
            continue
        parts, texts = [], []
        for config, probe in per_config.items():
            against = {
                display(run, c): _overlaps(run, inspections, c).get(config) for c in controls
            }
            verdict, why = _against_controls(probe["overlapped"], expected["overlapped"], against)
            parts.append(verdict)
            texts.append(
                f"{config} ({_config_description(run, framework, config)}): "
                f"{_concurrency_text(probe)}; {why} → {verdict}"
            )
        findings[framework] = Finding("; ".join(texts), combine(parts))
    details = tuple(
        f"Control {display(run, c)} {config}: {_concurrency_text(probe)}"
        for c in controls
        for config, probe in _overlaps(run, inspections, c).items()
    )
    verdict = combine([f.verdict for f in findings.values()])
    evidence = "; ".join(f"{display(run, f)}: {x.text}" for f, x in findings.items())
    return Verdict(verdict, evidence, findings=findings, details=details)


def _overlaps(
    run: Mapping[str, Any], inspections: Mapping[str, Any], framework: str
) -> dict[str, dict[str, Any]]:
    """config -> the concurrency probe of one framework's deployment, where it decided."""
    probes = probes_of(run, inspections, framework)
    found = {c: p.get("concurrency") for c, p in probes.items() if isinstance(p, dict)}
    return {
        c: p
        for c, p in found.items()
        if isinstance(p, dict) and isinstance(p.get("overlapped"), bool)
    }


def _against_controls(
    overlapped: bool, expected: bool, controls: Mapping[str, dict[str, Any] | None]
) -> tuple[str, str]:
    probed = {c: p["overlapped"] for c, p in controls.items() if p is not None}
    if overlapped != expected:
        return CONTRADICTED, "the opposite of what the claim says"
    if not probed:
        return NOT_MEASURABLE, "no control was probed under this configuration to tell it apart"
    if all(o == overlapped for o in probed.values()):
        return NOT_MEASURABLE, (
            "every control behaves the same under this configuration ("
            + ", ".join(probed)
            + "): the configuration decides, not the framework"
        )
    return SUPPORTED, "unlike " + ", ".join(c for c, o in probed.items() if o != overlapped)


def _concurrency_text(probe: Mapping[str, Any]) -> str:
    clients, each = probe.get("clients"), probe.get("request_seconds")
    wall = probe.get("wall_seconds")
    overlapped = "overlapped" if probe["overlapped"] else "were served one after another"
    return (
        f"{clients} clients each holding a request for {each} s took {number(wall, 2)} s: "
        f"{overlapped}"
    )


def _config_description(run: Mapping[str, Any], framework: str, config: str) -> str:
    return str((_deployment(run, framework).get("configs") or {}).get(config) or config)


def _security(
    run: Mapping[str, Any], inspections: Mapping[str, Any], framework: str
) -> dict | None:
    """The security probe at the framework's default configuration (what the claim is about)."""
    probes = probes_of(run, inspections, framework)
    config = "default" if "default" in probes else next(iter(probes), None)
    found = (probes.get(config) or {}).get("security") if config else None
    return found if isinstance(found, dict) else None


def _headers_sent(probe: Mapping[str, Any]) -> dict[str, str]:
    headers = probe.get("headers") or {}
    return {h: str(v) for h, v in headers.items() if v}


def security(
    results: pd.DataFrame, run: Mapping[str, Any], inspections: Mapping[str, Any], claim: Claim
) -> Verdict:
    """From the security probe at defaults. params.framework is the one the claim is about;
    params.compare_to, when given, the one it is said to protect better than ("added")."""
    framework, other = claim.params["framework"], claim.params.get("compare_to")
    own = _security(run, inspections, framework)
    theirs = _security(run, inspections, other) if other else None
    for name, probe in ((framework, own), (other, theirs)):
        if name and probe is None:
            return not_measurable(f"security probe of {display(run, name)} {MISSING}")
    headers = {
        name: _framework_headers(run, name, p)
        for name, p in ((framework, own), (other, theirs))
        if name
    }
    parts = {
        "forgery": _forgery(run, framework, own, other, theirs),
        "cross-site scripting": _xss(run, framework, own, other, theirs, headers),
    }
    if claim.params.get("sql_injection", True):
        parts["SQL injection"] = _sql_injection(run, inspections, framework, other)
    if not other:
        sent = headers[framework]
        count = sum(h in sent for h in SECURITY_HEADERS)
        parts["security headers"] = (
            _holds(count >= 2),
            _headers_line(display(run, framework), sent)
            + _extension_headers_line(display(run, framework), _headers_sent(own), sent),
        )
    details = [f"{part[0].upper()}{part[1:]}: {text}." for part, (_, text) in parts.items()]
    details.append(f"Extensions: {EXTENSION_RULE}")
    for name, probe in ((framework, own), (other, theirs)):
        for check, text in ((probe or {}).get("evidence") or {}).items():
            details.append(f"Probe of {display(run, name)}, {check}: {text}")
    verdict = combine([v for v, _ in parts.values()])
    evidence = "; ".join(f"{part}: {v}" for part, (v, _) in parts.items()) + (
        " (security probe of each deployment at its default configuration)."
    )
    numbers = {
        f"{display(run, name)}: security headers sent by the framework": float(
            sum(h in sent for h in SECURITY_HEADERS)
        )
        for name, sent in headers.items()
    }
    return Verdict(verdict, evidence, numbers=numbers, details=tuple(details))


def _sql_injection(
    run: Mapping[str, Any], inspections: Mapping[str, Any], framework: str, other: str | None
) -> tuple[str, str]:
    """The deployment's own SQL-injection check (bench/deployment_checks.py): attack strings in
    ORM filters must match no row and leave the table whole, while the same string pasted into
    raw SQL (the control) breaks out. "Added" holds against a framework with no ORM of its own."""
    name = display(run, framework)
    checks = (package_of(run, inspections, framework) or {}).get("checks") or {}
    found = checks.get("sql_injection") if isinstance(checks, dict) else None
    if not isinstance(found, dict) or not isinstance(found.get("refused"), bool):
        why = (found or {}).get("error") if isinstance(found, dict) else None
        return NOT_MEASURABLE, f"no SQL-injection check of {name} ran ({why or MISSING})"
    text = f"{name}: {found.get('evidence', '')}"
    if found.get("control_broke_out") is not True:
        return NOT_MEASURABLE, text + "; the control did not break out, so it cannot tell"
    if not found["refused"] or not other:
        return _holds(found["refused"]), text
    theirs = _components(package_of(run, inspections, other))
    if theirs is None or theirs.get("orm") is not False:
        return NOT_MEASURABLE, text + f"; {display(run, other)}'s own query layer was not checked"
    return SUPPORTED, text + f"; {display(run, other)} ships no ORM or query layer of its own"


def _framework_headers(
    run: Mapping[str, Any], framework: str, probe: Mapping[str, Any] | None
) -> dict[str, str]:
    """The security headers the framework itself sends: none, by EXTENSION_RULE, when an
    extension of our deployment sends them."""
    if probe is None or extension_for(run, framework, "headers"):
        return {}
    return _headers_sent(probe)


def _forgery(
    run: Mapping[str, Any],
    framework: str,
    own: Mapping[str, Any],
    other: str | None,
    theirs: Mapping[str, Any] | None,
) -> tuple[str, str]:
    """A form POST without a CSRF token must be refused; "added" means built in, where the
    other framework needs an extension (or has no protection), by EXTENSION_RULE."""
    name, csrf = display(run, framework), own.get("csrf_refused")
    if csrf is None:
        return NOT_MEASURABLE, f"{name} has no HTML form to forge (not applicable)"
    text = (
        f"{name} {'refuses' if csrf else 'accepts'} a form POST without CSRF token "
        f"(status {own.get('csrf_status')})"
    )
    own_ext = extension_for(run, framework, "forgery")
    if csrf and own_ext:
        return CONTRADICTED, text + f" through the extension {own_ext}, not the framework"
    if not other or theirs is None:
        return _holds(bool(csrf)), text
    their_csrf, ext = theirs.get("csrf_refused"), extension_for(run, other, "forgery")
    text += (
        f"; {display(run, other)} {'refuses' if their_csrf else 'accepts'} it "
        f"(status {theirs.get('csrf_status')})"
        + (f", through the extension {ext}, not the framework" if their_csrf and ext else "")
    )
    return _holds(bool(csrf) and (not their_csrf or bool(ext))), text


def _xss(
    run: Mapping[str, Any],
    framework: str,
    own: Mapping[str, Any],
    other: str | None,
    theirs: Mapping[str, Any] | None,
    headers: Mapping[str, Mapping[str, str]],
) -> tuple[str, str]:
    """Reflected input must come back escaped; headers a browser uses against injected content
    count as added protection only where the other framework itself does not send them (headers
    an extension sends are the extension's, by EXTENSION_RULE)."""
    name, escaped = display(run, framework), own.get("reflected_input_escaped")
    if escaped is None:
        return NOT_MEASURABLE, f"{name} reflects no input to check (not applicable)"
    text = f"reflected input escaped by {name}: {_yes(escaped)}"
    if not other or theirs is None:
        return _holds(bool(escaped)), text + _csp_line([own])
    their_escaped = theirs.get("reflected_input_escaped")
    sent, their_sent = headers[framework], headers[other]
    extra = [h for h in SECURITY_HEADERS if h in sent and h not in their_sent]
    text += (
        f", by {display(run, other)}: {_yes(their_escaped)}; "
        f"{_headers_line(name, sent)}; {_headers_line(display(run, other), their_sent)}"
        + _extension_headers_line(display(run, other), _headers_sent(theirs), their_sent)
        + _csp_line([own, theirs])
    )
    if not escaped:
        return CONTRADICTED, text
    if not their_escaped:
        return SUPPORTED, text
    # Both escape alike: only headers the other does not send make the protection "added".
    return (PARTLY if extra else CONTRADICTED), text


def _csp_line(probes: list[Mapping[str, Any]]) -> str:
    if any(_headers_sent(p).get("Content-Security-Policy") for p in probes):
        return ""
    return "; no Content-Security-Policy is sent by default"


def _extension_headers_line(name: str, sent: Mapping[str, str], own: Mapping[str, str]) -> str:
    by_extension = [h for h in SECURITY_HEADERS if h in sent and h not in own]
    if not by_extension:
        return ""
    return f"; {name}'s deployment sends {', '.join(by_extension)} through an extension"


def _headers_line(name: str, sent: Mapping[str, str]) -> str:
    if not sent:
        return f"{name} sends none of {', '.join(SECURITY_HEADERS)} by default"
    return f"{name} sends " + ", ".join(f"{h}: {v}" for h, v in sent.items())


def _yes_no(value: bool | None) -> str:
    """A finding in a table's terms: Yes, No, or "?" where it could not be classified."""
    return {True: "Yes", False: "No"}.get(value, "?")


def _yes(value: Any) -> str:
    return {True: "yes", False: "no"}.get(value, "not applicable")


EVALUATORS: dict[str, Evaluator] = {
    "opinion": opinion,
    "licence": licence,
    "framework_type": framework_type,
    "component": component,
    "components_count": components_count,
    "code_size": code_size,
    "server_stack": server_stack,
    "scaffold": scaffold,
    "database": database,
    "dynamic_html": dynamic_html,
    "rest_api": rest_api,
    "serves_model": serves_model,
    "performance": performance,
    "concurrency": concurrency,
    "security": security,
}
