"""Evaluators of the probes of running servers: concurrency and security, judged by one rule
for extensions (common.EXTENSION_RULE) and against controls under the same configuration."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from reports.evaluators.common import (
    EXTENSION_RULE,
    MISSING,
    SECURITY_HEADERS,
    components_of,
    deployment_info,
    display,
    extension_for,
    holds,
    package_of,
    probes_of,
    yes_word,
)
from reports.text import number
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
    return str((deployment_info(run, framework).get("configs") or {}).get(config) or config)


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
            holds(count >= 2),
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
    """The deployment's own SQL-injection check (bench/checks/deployment_checks.py): attack
    strings in ORM filters must match no row and leave the table whole, while the same string
    pasted into raw SQL (the control) breaks out. "Added" holds against a framework with no ORM
    of its own."""
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
        return holds(found["refused"]), text
    theirs = components_of(package_of(run, inspections, other))
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
        return holds(bool(csrf)), text
    their_csrf, ext = theirs.get("csrf_refused"), extension_for(run, other, "forgery")
    text += (
        f"; {display(run, other)} {'refuses' if their_csrf else 'accepts'} it "
        f"(status {theirs.get('csrf_status')})"
        + (f", through the extension {ext}, not the framework" if their_csrf and ext else "")
    )
    return holds(bool(csrf) and (not their_csrf or bool(ext))), text


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
    text = f"reflected input escaped by {name}: {yes_word(escaped)}"
    if not other or theirs is None:
        return holds(bool(escaped)), text + _csp_line([own])
    their_escaped = theirs.get("reflected_input_escaped")
    sent, their_sent = headers[framework], headers[other]
    extra = [h for h in SECURITY_HEADERS if h in sent and h not in their_sent]
    text += (
        f", by {display(run, other)}: {yes_word(their_escaped)}; "
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
