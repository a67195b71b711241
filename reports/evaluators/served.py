"""Evaluators of what our deployments serve (verified, and under load): HTML pages, the JSON
API, the shared model, and throughput against each other."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from bench.store.rules import WRK_DISAGREEMENT
from reports import compare, stats
from reports.evaluators.common import (
    deployment_info,
    display,
    each_framework,
    findings_verdict,
    holds,
    installed_version,
    subject_of,
    yes_no,
)
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
)


def _serves(run: Mapping[str, Any], framework: str, scenarios: tuple[str, ...]) -> bool | None:
    """Whether a verified deployment offers one of the scenarios; None if it was not verified."""
    info = deployment_info(run, framework)
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
    info = deployment_info(run, framework)
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
        return Finding(text, holds(served == expected), yes_no(served))

    return findings_verdict(each_framework(run, claim, check), run)


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
            return Finding(text, holds(not expected.get("serves", True)), "No")
        n = sum(_interactions(results, run, framework, s) for s in ("api_single", "api_batch"))
        text = "serves the JSON API of the contract (verified)"
        text += f"; {number(n)} API calls answered under load" if n else ""
        via = list(expected.get("via") or [])
        installed = [f"{p} {installed_version(run, p)}" for p in via if installed_version(run, p)]
        if not via:
            return Finding(text, holds(bool(expected.get("serves", True))), "Yes")
        if installed:
            return Finding(f"{text}; installed: {', '.join(installed)}", SUPPORTED, "Yes")
        return Finding(f"{text}, with none of {', '.join(via)} installed", PARTLY, "Yes")

    return findings_verdict(each_framework(run, claim, check), run)


def serves_model(
    results: pd.DataFrame, run: Mapping[str, Any], inspections: Mapping[str, Any], claim: Claim
) -> Verdict:
    """Whether our deployment serves the shared scikit-learn model with the reference answers."""
    model = run.get("model") or {}

    def check(framework: str, expected: bool) -> Finding:
        info = deployment_info(run, framework)
        if info.get("verified") is not True:
            return Finding(_unverified_reason(run, framework), NOT_MEASURABLE)
        sklearn = installed_version(run, "scikit-learn")
        text = (
            f"serves {model.get('estimator', 'the shared model')} "
            f"(scikit-learn {sklearn or 'version not recorded'}, sha256 "
            f"{str(model.get('sha256', ''))[:12]}…) with the predictions of the shared model code "
            "(verified)"
        )
        return Finding(text, holds(expected))

    return findings_verdict(each_framework(run, claim, check), run)


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
    elsewhere, or when its bounds are no interval: none (fewer than 3 repetitions: one window
    cannot tell "slightly" from "same"), a range whose real coverage is below
    stats.MIN_COVERAGE, or bounds of unknown coverage."""
    if not estimate.is_interval:
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
        f"to {slightly:.0%}; clearly beyond. A ratio pairs each repetition with the same "
        f"repetition of the other framework; a level is read only when its {stats.RATIO_METHOD} "
        "lies in one band (not distinguishable where it holds 1, undecided elsewhere); levels "
        "where the load generator was saturated, or where wrk on the same warm server served a "
        f"throughput more than {WRK_DISAGREEMENT:.0%} from Locust's (the harness's figure, not "
        "the server's), are "
        "left out."
    ]
    numbers: dict[str, float] = {}
    listed: set[frozenset[str]] = set()

    def check(framework: str, expected: Mapping[str, str]) -> Finding:
        other = expected["vs"]
        a, b = subject_of(run, framework), subject_of(run, other)
        if b is None:
            return Finding(f"no deployment of {other} in this run", NOT_MEASURABLE)
        points = compare.all_points(levels, a, b)
        usable = [p for p in points if p.throughput_decides and not math.isnan(p.throughput.value)]
        if not usable:
            why = (
                "every like-for-like level saturated the load generator or its throughput "
                f"disagreed with wrk's by more than {WRK_DISAGREEMENT:.0%}"
            )
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

    findings = each_framework(run, claim, check)
    return findings_verdict(findings, run, numbers=numbers, details=tuple(details))


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
        tally.append(f"undecided at {readings.count('')} (interval spans a band edge, or none)")
    levels = plural(len(usable), "level")
    text = f"{display(run, a)} ÷ {display(run, b)} throughput: {spread} over {levels}: "
    text += "; ".join(tally)
    if len(points) > len(usable):
        text += (
            f"; {plural(len(points) - len(usable), 'level')} left out (load generator saturated)"
        )
    if all(p.pairing.interaction for p in usable):
        text += "; one form submission against one Streamlit rerun, each at its defaults"
    if any(not p.throughput.is_interval for p in usable):
        fewer = f"fewer than {stats.MIN_N_FOR_CI} paired repetitions"
        text += f" ({fewer} at some levels: no interval, so undecided there)"
    return text


def _spread(ratios: list[float]) -> str:
    low, high = number(min(ratios), 2), number(max(ratios), 2)
    return f"{low}{TIMES}" + ("" if low == high else f" to {high}{TIMES}")


def _point_line(run: Mapping[str, Any], a: str, b: str, point: compare.Point, reading: str) -> str:
    t = point.throughput
    shown = ratio(t) if t.is_interval else f"{ratio(t)} (n = {t.n}: no interval)"
    return (
        f"{display(run, a)} ÷ {display(run, b)}, {point.pairing.label}, "
        f"{plural(point.users, 'user')}: throughput {shown}, median latency "
        f"{ratio(point.latency_p50)} → {reading or 'undecided'}"
    )
