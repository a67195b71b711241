"""The claims registry (claims.toml) and the checking of every claim against a stored run."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from reports.evaluators import EVALUATORS
from reports.verdicts import (
    NOT_MEASURABLE,
    VERDICTS,
    Claim,
    Verdict,
    not_measurable,
    with_unmeasured_part,
)

REGISTRY = Path(__file__).with_name("claims.toml")
CLAIM_KEYS = {
    "id",
    "document",
    "where",
    "group",
    "evaluator",
    "how",
    "topic",
    "statement",
    "says",
    "expects",
    "params",
    "note",
    "unmeasured_part",
    "written_about",
}


@dataclass(frozen=True)
class Registry:
    frameworks: tuple[str, ...]  # the paper's column order
    documents: Mapping[str, Mapping[str, str]]
    groups: tuple[str, ...]
    claims: tuple[Claim, ...]


@dataclass(frozen=True)
class Checked:
    claim: Claim
    verdict: Verdict


def load_registry(path: Path = REGISTRY) -> Registry:
    """Read and check the registry: a typo in it must fail the build, not drop a claim."""
    data = tomllib.loads(path.read_text())
    documents = data["documents"]
    defaults = data.get("defaults", {})
    claims = []
    for raw in data["claims"]:
        unknown = set(raw) - CLAIM_KEYS
        if unknown:
            raise ValueError(f"claim {raw.get('id')}: unknown key(s) {sorted(unknown)}")
        params = {**defaults.get(raw["evaluator"], {}), **raw.get("params", {})}
        written = raw.get(
            "written_about", documents.get(raw.get("document"), {}).get("published", "")
        )
        claim = Claim(**{**raw, "params": params, "written_about": written})
        if claim.evaluator not in EVALUATORS:
            raise ValueError(f"claim {claim.id}: no evaluator named {claim.evaluator!r}")
        if claim.document not in documents:
            raise ValueError(f"claim {claim.id}: no document named {claim.document!r}")
        if not (claim.says or claim.statement):
            raise ValueError(f"claim {claim.id}: give the source's words (says or statement)")
        if claim.evaluator == "opinion" and not str(claim.params.get("decides", "")).strip():
            raise ValueError(f"claim {claim.id}: an opinion names what would decide it (decides)")
        claims.append(claim)
    ids = [c.id for c in claims]
    if len(set(ids)) != len(ids):
        raise ValueError(f"duplicate claim ids: {sorted({i for i in ids if ids.count(i) > 1})}")
    groups = tuple(dict.fromkeys(c.group for c in claims))
    return Registry(tuple(data["frameworks"]), documents, groups, tuple(claims))


def check(
    claim: Claim, results: pd.DataFrame, run: Mapping[str, Any], inspections: Mapping[str, Any]
) -> Verdict:
    """One claim's verdict. Data written by other tools may not have the shape expected: that
    makes the claim "not measurable here" with the reason, rather than stopping the report."""
    try:
        verdict = EVALUATORS[claim.evaluator](results, run, inspections, claim)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        return not_measurable(f"the stored data could not be read for this check ({exc!r})")
    return with_unmeasured_part(verdict, claim.unmeasured_part)


def check_all(
    registry: Registry,
    results: pd.DataFrame,
    run: Mapping[str, Any],
    inspections: Mapping[str, Any],
) -> list[Checked]:
    return [Checked(c, check(c, results, run, inspections)) for c in registry.claims]


def tally(checked: list[Checked]) -> dict[str, int]:
    """How many claims got each verdict, in the order the report lists verdicts."""
    return {v: sum(c.verdict.verdict == v for c in checked) for v in VERDICTS}


def as_records(checked: list[Checked]) -> list[dict[str, Any]]:
    """The verdicts as plain data, written beside the report as claims.json."""
    return [
        {
            "id": c.claim.id,
            "document": c.claim.document,
            "where": c.claim.where,
            "topic": c.claim.topic,
            "statement": c.claim.statement,
            "says": dict(c.claim.says),
            "written_about": c.claim.written_about,
            "verdict": c.verdict.verdict,
            "evidence": c.verdict.evidence,
            "not_measurable_part": c.verdict.unmeasured,
            "findings": {f: vars(x) for f, x in c.verdict.findings.items()},
            "details": list(c.verdict.details),
            "numbers": dict(c.verdict.numbers),
        }
        for c in checked
    ]


__all__ = ["NOT_MEASURABLE", "Checked", "Registry", "as_records", "check_all", "load_registry"]
