"""The report's tables: pure functions from the stored run to rows of display cells."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from reports import compare, stats, text
from reports.evaluators import PAPER_FRAMEWORKS as PAPER_ORDER
from reports.evaluators import read_estimate
from reports.inputs import LOAD_SCENARIOS, SUBJECT, StoredRun
from reports.stacks import same_stack

ROLE_ORDER = {"subject": 0, "reference": 1, "calibration": 2}
SCENARIO_TITLES = {
    "api_single": "API, one row per request",
    "api_batch": "API, a batch of rows per request",
    "form": "HTML form submission",
    "ui_session": "Streamlit session: one rerun after a submitted form",
}
INTERACTION_NAMES = {
    "api_single": "requests",
    "api_batch": "requests",
    "form": "form posts",
    "ui_session": "reruns",
}


@dataclass(frozen=True)
class Cell:
    text: str
    note: str = ""  # shown on hover, and for screen readers
    css: str = ""  # "num", "flag", "muted", "bad"


@dataclass(frozen=True)
class Table:
    columns: Sequence[str]
    rows: Sequence[Sequence[Cell]]
    caption: str = ""
    notes: Sequence[str] = field(default_factory=tuple)

    @property
    def empty(self) -> bool:
        return not self.rows


def ordered(run: Mapping[str, Any]) -> list[str]:
    """Deployments in the order the report shows them: the paper's three in its column order,
    then reference and calibration deployments."""
    deployments = run.get("deployments") or {}

    def key(name: str) -> tuple:
        info = deployments[name]
        framework = info.get("framework", "")
        paper = PAPER_ORDER.index(framework) if framework in PAPER_ORDER else len(PAPER_ORDER)
        return (ROLE_ORDER.get(info.get("role", SUBJECT), 3), paper, name)

    return sorted(deployments, key=key)


def label(run: Mapping[str, Any], deployment: str) -> str:
    info = (run.get("deployments") or {}).get(deployment, {})
    name = str(info.get("display_name") or deployment)
    role = info.get("role", SUBJECT)
    return name if role == SUBJECT else f"{name} ({role})"


def _num(value: float, digits: int | None = None) -> Cell:
    return Cell(text.number(value, digits), css="num")


def _est(estimate: stats.Estimate, digits: int | None = None) -> Cell:
    note = f"median of {text.plural(estimate.n, 'repetition')}"
    if estimate.has_interval:
        note += "; 95 % bootstrap interval in brackets"
    return Cell(text.estimate(estimate, digits), note=note, css="num")


def _medians(levels: pd.DataFrame, metric: str) -> dict[tuple, stats.Estimate]:
    table = stats.summarise(levels, metric)
    return {
        (r.deployment, r.config, r.scenario, int(r.users)): stats.Estimate(
            r.median, r.low, r.high, int(r.n)
        )
        for r in table.itertuples(index=False)
    }


SATURATED = "\u2691"  # the flag shown beside a level where the load generator was saturated
SATURATED_NOTE = (
    f"{SATURATED} the load generator's CPU was saturated (loadgen_bound = 1) in at least one "
    "repetition: the limit at that level may be the load generator's, not the server's."
)


def scenario_table(stored: StoredRun, scenario: str) -> Table:
    """Throughput and latency percentiles per deployment, configuration and users."""
    levels = stored.load_levels
    levels = levels[levels["scenario"] == scenario]
    metrics = ["throughput", "latency_p50", "latency_p90", "latency_p99", "server_cpu"]
    medians = {m: _medians(levels, m) for m in [*metrics, "server_rss_mean"]}
    failures = levels[levels["metric"] == "failures"].groupby(stats.LEVEL_KEYS)["value"].sum()
    bound = stats.any_flag(levels)
    order = ordered(stored.info)
    rows = []
    for key in sorted(medians["throughput"], key=lambda k: (order.index(k[0]), k[1], k[3])):
        deployment, config, _, users = key
        flagged = key in bound
        rows.append(
            [
                Cell(label(stored.info, deployment)),
                Cell(config),
                _users_cell(users, flagged),
                _num(medians["throughput"][key].n),
                *(_est(medians[m].get(key, stats.NAN_ESTIMATE)) for m in metrics[:4]),
                # Resource use: the median alone keeps the table narrow; the figure has intervals.
                *(
                    _num(medians[m].get(key, stats.NAN_ESTIMATE).value)
                    for m in ("server_cpu", "server_rss_mean")
                ),
                _num(float(failures.get(key, math.nan))),
            ]
        )
    unit = INTERACTION_NAMES.get(scenario, "interactions")
    columns = [
        "Deployment",
        "Config",
        "Users",
        "Reps",
        f"Throughput ({unit}/s)",
        "p50 (ms)",
        "p90 (ms)",
        "p99 (ms)",
        "Server CPU (%)",
        "Server RSS (MiB)",
        "Failures",
    ]
    notes = [SATURATED_NOTE] if bound else []
    return Table(columns, rows, notes=tuple(notes))


def _users_cell(users: int, flagged: bool) -> Cell:
    if not flagged:
        return _num(users)
    return Cell(f"{users} {SATURATED}", note=SATURATED_NOTE, css="num flag")


def not_covered(stored: StoredRun, scenario: str) -> list[str]:
    """Sentences for deployments without figures in a scenario: not applicable, or not
    measured because verification failed, or nothing stored."""
    measured = set(stored.load_levels.loc[stored.load_levels["scenario"] == scenario, "deployment"])
    lines = []
    for name in ordered(stored.info):
        info = stored.deployments[name]
        if name in measured:
            continue
        if scenario in (info.get("not_applicable") or []):
            lines.append(
                f"{label(stored.info, name)}: not applicable (the deployment does not "
                f"offer this scenario; see its manifest)."
            )
        elif info.get("verified") is False:
            lines.append(
                f"{label(stored.info, name)}: not measured, it failed verification (reasons below)."
            )
        elif scenario in (info.get("scenarios") or []):
            lines.append(f"{label(stored.info, name)}: no level of this scenario was stored.")
    return lines


# The pairs the sources compare first: Flask with Django, Streamlit with Django.
PAIR_ORDER = (("flask", "django"), ("streamlit", "django"), ("flask", "streamlit"))


def pairs(run: Mapping[str, Any], names: Sequence[str]) -> list[tuple[str, str]]:
    """Every pair of deployments once, the sources' comparisons first, A before B as they are
    usually quoted ("Flask ÷ Django")."""
    framework = {n: (run.get("deployments") or {})[n].get("framework") for n in names}
    subject = {n for n in names if (run["deployments"][n].get("role", SUBJECT) == SUBJECT)}
    found = []
    for fa, fb in PAIR_ORDER:
        a = [n for n in names if n in subject and framework[n] == fa]
        b = [n for n in names if n in subject and framework[n] == fb]
        found += [(x, y) for x in a for y in b]
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            if (a, b) not in found and (b, a) not in found:
                found.append((a, b))
    return found


def ratio_table(stored: StoredRun, same_within: float, slightly_up_to: float) -> Table:
    """A ÷ B at every like-for-like level, for every pair of measured deployments."""
    levels = stored.load_levels
    # The null target answers a constant: a ratio against it says nothing about a framework.
    names = [
        n
        for n in ordered(stored.info)
        if n in set(levels["deployment"]) and stored.deployments[n].get("role") != "calibration"
    ]
    # Frameworks are compared on one stack at a time: a stack against another is set side by
    # side per deployment in the stacks section (reports/stack_perf.py).
    rows = [
        _ratio_row(stored.info, point, same_within, slightly_up_to)
        for a, b in pairs(stored.info, names)
        if same_stack(stored.info, a, b)
        for point in compare.all_points(levels, a, b)
    ]
    columns = [
        "A ÷ B",
        "Compared",
        "Users",
        "Throughput ratio",
        "p50 latency ratio",
        "Reading of throughput",
    ]
    notes = [
        "A ratio above 1 in throughput means A served more interactions per second; above 1 in "
        "latency means A was slower. Brackets: 95 % bootstrap interval of the ratio of medians "
        "(none with fewer than 3 repetitions).",
        f"Reading: same within ±{same_within:.0%}, slightly better or worse up to "
        f"{slightly_up_to:.0%}, clearly beyond; not distinguishable when the interval spans "
        "bands and holds 1 (no difference cannot be ruled out); undecided when it spans a band "
        "edge away from 1, or when there is no interval.",
    ]
    if any(r[2].css.endswith("flag") for r in rows):
        notes.append(SATURATED_NOTE + " Such levels do not count towards a claim's verdict.")
    return Table(columns, rows, notes=tuple(notes))


def _ratio_row(
    run: Mapping[str, Any], point: compare.Point, same_within: float, slightly_up_to: float
) -> list[Cell]:
    pairing = point.pairing
    reading = read_estimate(point.throughput, same_within, slightly_up_to) or "undecided"
    return [
        Cell(f"{label(run, pairing.a)} ÷ {label(run, pairing.b)}"),
        Cell(pairing.label, css="flag-soft" if pairing.interaction else "muted"),
        _users_cell(point.users, point.loadgen_bound),
        Cell(text.ratio(point.throughput), note=f"n = {point.throughput.n}", css="num"),
        Cell(text.ratio(point.latency_p50), css="num"),
        Cell(reading, css="muted" if point.loadgen_bound else ""),
    ]


def diagnostics_table(stored: StoredRun) -> Table:
    """Latency and throughput of every configuration of a deployment that has diagnostic ones,
    at the levels the diagnostics ran: what its latency is made of."""
    levels = stored.diagnostics
    medians = {m: _medians(levels, m) for m in ("latency_p50", "latency_p99", "throughput")}
    infos = stored.deployments
    rows = [
        [
            Cell(label(stored.info, deployment)),
            Cell(
                config, css="" if (deployment, config) not in stored.diagnostic_configs else "muted"
            ),
            Cell(str((infos.get(deployment, {}).get("configs") or {}).get(config, ""))),
            _num(users),
            *(_est(medians[m].get(key, stats.NAN_ESTIMATE)) for m in medians),
        ]
        for key in sorted(medians["latency_p50"], key=lambda k: (k[0], k[3], k[1]))
        for deployment, config, _, users in [key]
    ]
    columns = [
        "Deployment",
        "Config",
        "What it changes",
        "Users",
        "p50 (ms)",
        "p99 (ms)",
        "Throughput (/s)",
    ]
    return Table(columns, rows)


def diagnostic_notes(stored: StoredRun) -> list[tuple[str, str]]:
    """(deployment, its manifest's notes) for the deployments with diagnostic configurations."""
    names = sorted({d for d, _ in stored.diagnostic_configs})
    return [(label(stored.info, n), str(stored.deployments[n].get("notes", ""))) for n in names]


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


def cold_start_table(stored: StoredRun) -> Table:
    cold = stored.cold_starts
    rows = []
    order = ordered(stored.info)
    groups = cold.groupby(["deployment", "config"], sort=False)
    for (deployment, config), frame in sorted(groups, key=lambda g: order.index(g[0][0])):
        estimate = stats.median_ci(frame["value"].tolist())
        samples = ", ".join(text.number(v, 2) for v in frame.sort_values("repetition")["value"])
        rows.append(
            [
                Cell(label(stored.info, deployment)),
                Cell(config),
                _num(estimate.n),
                _est(estimate, 2),
                Cell(samples, css="muted"),
            ]
        )
    return Table(["Deployment", "Config", "Samples", "Cold start (s)", "Each sample (s)"], rows)


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


def key_value_table(items: Mapping[str, Any], columns: Sequence[str] = ("", "")) -> Table:
    return Table(columns, [[Cell(str(k)), Cell(_plain(v))] for k, v in items.items()])


def _plain(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(map(str, value))
    if isinstance(value, dict):
        return "; ".join(f"{k}: {v}" for k, v in value.items())
    return str(value)  # stored metadata is shown as stored, never rounded


def key_package_names(run: Mapping[str, Any]) -> list[str]:
    """The distributions that matter for reading the figures: each deployment's framework and
    server, then KEY_PACKAGES (the libraries they serve through, the model's, the load
    generator), lower-case and each once."""
    served = [
        str(info.get(k, "")).lower()
        for info in (run.get("deployments") or {}).values()
        for k in ("framework", "server")
    ]
    return list(dict.fromkeys([*served, *KEY_PACKAGES]))


def key_packages(run: Mapping[str, Any]) -> dict[str, str]:
    """The installed versions of key_package_names."""
    wanted = set(key_package_names(run))
    packages = run.get("packages") or {}
    return {name: version for name, version in packages.items() if name.lower() in wanted}


KEY_PACKAGES = (
    "flask-wtf",
    "djangorestframework",
    "werkzeug",
    "jinja2",
    "starlette",
    "uvicorn",
    "tornado",
    "scikit-learn",
    "numpy",
    "skops",
    "locust",
)
