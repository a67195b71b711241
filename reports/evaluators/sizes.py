"""Evaluators of code size, and of opinions (which quote code size as context when asked)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from bench.store.table import CODE_SIZE
from reports.evaluators.common import (
    MISSING,
    PAPER_FRAMEWORKS,
    display,
    each_framework,
    findings_verdict,
    holds,
    relation_verdict,
    subject_of,
)
from reports.text import number
from reports.verdicts import (
    NOT_MEASURABLE,
    Claim,
    Finding,
    Verdict,
    combine,
    not_measurable,
)


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
                parts.append(holds(size_a[metric] > size_b[metric]))
            elif relation == "fewer_than":
                parts.append(holds(size_a[metric] < size_b[metric]))
            else:
                parts.append(holds(size_a[metric] == size_b[metric]))
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
        verdict = relation_verdict(framework, relations, compare_with)
        return Finding(f"{own} (vs {others})", verdict, own)

    return findings_verdict(
        each_framework(run, claim, check), run, details=tuple(_code_size_lines(results, run))
    )
