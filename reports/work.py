"""What each configuration does per request, and what that costs.

The work configurations (manifest `work = true`) change one thing about how a deployment answers:
the framework's project defaults, equal work (the same fixed headers and a Content-Length on
every deployment), Django without REST framework, connections kept alive. Each row shows what
the probe saw on the wire (bench/checks/probes_answer.py), how many contract checks the
configuration passed, and its throughput beside its own default's, paired by repetition; the
second table sets the frameworks side by side in each configuration they share.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from reports import compare, stats, text
from reports.inputs import SUBJECT, StoredRun
from reports.tables import Cell, Table, _est, _num, _ratio_est, label, ordered

DEFAULT = compare.DEFAULT
# Headers every answer carries whatever the configuration does: not counted as its work.
FRAMING = {"content-type", "content-length", "transfer-encoding", "connection", "server"}


def _answer(stored: StoredRun, deployment: str, config: str) -> Mapping[str, Any]:
    probes = (stored.inspections.get("probes") or {}).get(deployment) or {}
    return (probes.get(config) or {}).get("answer") or {}


def _wire_cells(answer: Mapping[str, Any]) -> list[Cell]:
    if not answer:
        return [Cell("not probed", css="muted")] * 3
    headers = answer.get("headers") or {}
    extra = [k for k in headers if k.lower() not in FRAMING]
    framing = "Content-Length" if answer.get("content_length") else "chunked"
    if not answer.get("content_length") and not answer.get("chunked"):
        framing = "until close"
    connection = "kept alive" if answer.get("kept_alive") else "closed"
    body = f"{answer.get('body_bytes')} B, sha256 {answer.get('body_sha256', '')[:8]}"
    return [
        Cell(f"{len(extra)}: {', '.join(extra) or 'none'}", note=str(answer.get("evidence", ""))),
        Cell(f"{framing}; {connection}"),
        Cell(body, css="mono"),
    ]


def _contract(stored: StoredRun, deployment: str, config: str) -> Cell:
    verify = stored.verify
    if verify.empty:
        return Cell("not verified", css="muted")
    rows = verify[(verify["deployment"] == deployment) & (verify["config"] == config)]
    if rows.empty:
        return Cell("not verified", css="muted")
    passed = int((rows["status"].str.lower() == "pass").sum())
    return Cell(f"{passed}/{len(rows)}", css="num" if passed == len(rows) else "num bad")


def _levels(work: pd.DataFrame) -> list[tuple[str, int]]:
    pairs = work[["scenario", "users"]].drop_duplicates().itertuples(index=False)
    return sorted((str(s), int(u)) for s, u in pairs)


def _configs(stored: StoredRun, deployment: str) -> list[str]:
    mine = sorted(c for d, c in stored.work_configs if d == deployment)
    return [DEFAULT, *mine] if mine else []


def work_table(stored: StoredRun) -> Table:
    """One row per deployment and configuration: what it changes, what its answer carries,
    its contract checks, and its throughput at each level beside its default's."""
    work = stored.work
    if work.empty:
        return Table([], [])
    levels = _levels(work)
    medians = {
        (r.deployment, r.config, r.scenario, int(r.users)): stats.estimate_of(r)
        for r in stats.summarise(work, "throughput").itertuples(index=False)
    }
    rows = []
    for deployment in ordered(stored.info):
        descriptions = stored.deployments[deployment].get("configs") or {}
        for config in _configs(stored, deployment):
            cells = [
                Cell(label(stored.info, deployment)),
                Cell(config, css="" if config == DEFAULT else "mono"),
                Cell(str(descriptions.get(config, ""))),
                *_wire_cells(_answer(stored, deployment, config)),
                _contract(stored, deployment, config),
            ]
            for scenario, users in levels:
                cells.append(
                    _est(medians.get((deployment, config, scenario, users), stats.NAN_ESTIMATE))
                )
                cells.append(_vs_default(work, deployment, config, scenario, users))
            rows.append(cells)
    columns = [
        "Deployment", "Config", "What it changes", "Headers beyond framing", "Framing; connection",
        "API answer body", "Contract checks",
    ]  # fmt: skip
    for scenario, users in levels:
        columns += [f"{scenario}, {users} users (/s)", "÷ default"]
    return Table(columns, rows)


def _vs_default(
    work: pd.DataFrame, deployment: str, config: str, scenario: str, users: int
) -> Cell:
    if config == DEFAULT:
        return Cell("")
    side = (deployment, config, scenario, users, "throughput")
    base = (deployment, DEFAULT, scenario, users, "throughput")
    ratio = stats.paired_ratio_ci(
        stats.values_by_repetition(work, *side), stats.values_by_repetition(work, *base)
    )
    return _ratio_est(ratio)


def framework_table(stored: StoredRun) -> Table:
    """The review's frameworks against each other in every configuration both have: each
    throughput ratio paired by repetition, so what the default's ratio owes to unequal work
    shows beside the equal-work one."""
    work = stored.work
    subjects = [
        d for d in ordered(stored.info) if stored.deployments[d].get("role", SUBJECT) == SUBJECT
    ]
    with_work = [d for d in subjects if _configs(stored, d)]
    rows = []
    for i, a in enumerate(with_work):
        for b in with_work[i + 1 :]:
            shared = [c for c in _configs(stored, a) if c in _configs(stored, b)]
            for config in shared:
                for scenario in sorted(set(work["scenario"])):
                    pairing = compare.Pairing(a, b, scenario, scenario, config, config)
                    rows += [_framework_row(stored, p) for p in compare.points(work, pairing)]
    columns = ["Ratio", "Scenario, config", "Users", "Throughput A ÷ B", "p50 latency A ÷ B"]
    return Table(columns, rows)


def _framework_row(stored: StoredRun, point: compare.Point) -> list[Cell]:
    pairing = point.pairing
    return [
        Cell(f"{label(stored.info, pairing.a)} ÷ {label(stored.info, pairing.b)}"),
        Cell(pairing.label),
        _num(point.users),
        _ratio_est(point.throughput),
        _ratio_est(point.latency_p50),
    ]


def work_notes(stored: StoredRun) -> list[str]:
    """What the tables' columns are, in words."""
    if stored.work.empty:
        return []
    return [
        "Headers beyond framing: those an answer to POST /api/predict carried besides "
        f"{', '.join(sorted(FRAMING))} and Date, as the answer probe saw them (hover for all).",
        "API answer body: its length and the first digits of its SHA-256; the same digest means "
        "the same bytes for the same one-row request.",
        f"÷ default: the configuration's throughput over its default's, {stats.RATIO_METHOD}; "
        f"{text.plural(_repetitions(stored.work), 'repetition')} at most.",
    ]


def _repetitions(work: pd.DataFrame) -> int:
    return int(work["repetition"].nunique()) if not work.empty else 0
