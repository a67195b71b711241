"""The tables of what was checked rather than load-tested: the security probes, code size,
scenario coverage, verification and the configurations served."""

from __future__ import annotations

import math
from typing import Any

from reports import text
from reports.inputs import LOAD_SCENARIOS, StoredRun
from reports.tables import (
    Cell,
    Table,
    _num,
    label,
    ordered,
)

SECURITY_HEADERS = (
    "X-Content-Type-Options",
    "X-Frame-Options",
    "Referrer-Policy",
    "Content-Security-Policy",
)


def _yes_no(value: Any, good: bool = True) -> Cell:
    """yes/no for a probe's boolean; "n/a" where the probe does not apply (null)."""
    if value is None:
        return Cell("n/a", note="does not apply to this deployment", css="muted")
    return Cell("yes" if value else "no", css="" if bool(value) == good else "bad")


def _missing_headers(probe: Any) -> Cell:
    if not isinstance(probe, dict) or "required_missing" not in probe:
        return Cell("not probed", css="muted")
    missing = probe["required_missing"]
    where = f"on {probe.get('url', '?')}"
    if not missing:
        return Cell("none", note=where)
    return Cell(", ".join(missing), note=where, css="bad")


def security_table(stored: StoredRun) -> Table:
    """The security probe of each deployment at its default configuration, as stored."""
    probes = stored.inspections.get("probes") or {}
    rows = []
    for name in ordered(stored.info):
        found = ((probes.get(name) or {}).get("default") or {}).get("security")
        if not isinstance(found, dict):
            continue
        headers = found.get("headers") or {}
        rows.append(
            [
                Cell(label(stored.info, name)),
                _yes_no(found.get("csrf_refused")),
                _yes_no(found.get("reflected_input_escaped")),
                *(
                    Cell(str(headers.get(h) or "-"), css="" if headers.get(h) else "muted")
                    for h in SECURITY_HEADERS
                ),
                _missing_headers(found.get("security_headers")),
                _yes_no(found.get("debug_page_shown"), good=False),
                _yes_no(found.get("loopback_only")),
                _yes_no(found.get("foreign_host_refused")),
                _yes_no(found.get("tampered_model_refused")),
                _yes_no(found.get("cross_origin_websocket_refused")),
            ]
        )
    columns = [
        "Deployment",
        "Form POST without CSRF token refused",
        "Reflected input escaped",
        *SECURITY_HEADERS,
        "Required headers missing",
        "Debug page shown",
        "Listens on loopback only",
        "Foreign Host refused (DNS rebinding)",
        "Tampered model refused",
        "Cross-origin websocket refused",
    ]
    return Table(columns, rows, caption="Security probe at each deployment's default configuration")


def code_size_table(stored: StoredRun) -> Table:
    code = stored.code_size
    metrics = ["sloc", "config_lines", "template_lines"]
    rows = []
    for name in ordered(stored.info):
        frame = code[code["deployment"] == name]
        if frame.empty:
            continue
        values = dict(zip(frame["metric"], frame["value"], strict=True))
        total = sum(values.get(m, math.nan) for m in metrics)
        rows.append(
            [
                Cell(label(stored.info, name)),
                *(_num(values.get(m, math.nan)) for m in metrics),
                Cell(text.number(total), css="num strong"),
                _num(values.get("files", math.nan)),
            ]
        )
    columns = ["Deployment", "Python SLOC", "Config lines", "Template lines", "All lines", "Files"]
    note = (
        "The runner puts every file of a manifest's code_files in one class (Python code, "
        "configuration such as settings.py or gunicorn.conf.py, templates), so the classes add "
        "up; shared_model/ is shared by all three and not counted."
    )
    return Table(columns, rows, notes=(note,))


def coverage_table(stored: StoredRun) -> Table:
    """What was measured per deployment: verification, scenarios, failures."""
    rows = []
    measured = stored.load_levels
    for name in ordered(stored.info):
        info = stored.deployments[name]
        done = sorted(
            set(measured.loc[measured["deployment"] == name, "scenario"]), key=LOAD_SCENARIOS.index
        )
        verified = info.get("verified")
        failed = info.get("levels_failed") or []
        rows.append(
            [
                Cell(label(stored.info, name)),
                Cell(f"{info.get('framework', '')} {info.get('framework_version', '')}".strip()),
                Cell(f"{info.get('server', '')} {info.get('server_version', '')}".strip()),
                Cell(
                    {True: "yes", False: "FAILED"}.get(verified, "not recorded"),
                    css="bad" if verified is False else "",
                ),
                Cell(", ".join(done) or "none"),
                Cell(", ".join(info.get("not_applicable") or []) or "none", css="muted"),
                Cell(
                    text.plural(len(failed), "level") if failed else "none",
                    css="bad" if failed else "muted",
                ),
                Cell(str(info.get("notes") or ""), css="muted"),
            ]
        )
    columns = [
        "Deployment",
        "Framework",
        "Server",
        "Verified",
        "Scenarios measured",
        "Not applicable",
        "Levels failed",
        "Notes",
    ]
    return Table(columns, rows)


def failed_levels_table(stored: StoredRun) -> Table:
    rows = [
        [
            Cell(label(stored.info, name)),
            Cell(str(f.get("config", ""))),
            Cell(str(f.get("scenario", ""))),
            _num(f.get("users", math.nan)),
            _num(f.get("repetition", math.nan)),
            Cell(str(f.get("reason", ""))),
        ]
        for name in ordered(stored.info)
        for f in stored.deployments[name].get("levels_failed") or []
    ]
    return Table(["Deployment", "Config", "Scenario", "Users", "Repetition", "Reason"], rows)


def verify_failures_table(stored: StoredRun) -> Table:
    """Failed checks, from verify.csv, or from run.json when verify.csv lacks them."""
    frame = stored.verify
    rows = [
        [Cell(label(stored.info, r.deployment)), Cell(r.config), Cell(r.check), Cell(r.reason)]
        for r in frame[frame["status"].str.lower() == "fail"].itertuples(index=False)
    ]
    if not rows:
        rows = [
            [
                Cell(label(stored.info, name)),
                Cell(""),
                Cell(str(f.get("check", ""))),
                Cell(str(f.get("reason", ""))),
            ]
            for name in ordered(stored.info)
            for f in stored.deployments[name].get("verify_failures") or []
        ]
    return Table(["Deployment", "Config", "Check", "Reason"], rows)


def verify_summary(stored: StoredRun) -> Table:
    frame = stored.verify
    rows = []
    for (deployment, config), group in frame.groupby(["deployment", "config"], sort=False):
        passed = int((group["status"].str.lower() == "pass").sum())
        rows.append(
            [
                Cell(label(stored.info, deployment)),
                Cell(config),
                Cell(
                    f"{passed} of {len(group)} checks passed",
                    css="" if passed == len(group) else "bad",
                ),
            ]
        )
    return Table(["Deployment", "Config", "Verification"], rows)


def configs_table(stored: StoredRun) -> Table:
    """Each configuration, and what its deployment adds in every configuration (its Host
    check: runs stored before it was recorded show "-")."""
    rows = [
        [
            Cell(label(stored.info, name)),
            Cell(config),
            Cell(str(description)),
            Cell(str(stored.deployments[name].get("host_check") or "-")),
        ]
        for name in ordered(stored.info)
        for config, description in (stored.deployments[name].get("configs") or {}).items()
    ]
    return Table(["Deployment", "Config", "What it is", "Host check (every config)"], rows)
