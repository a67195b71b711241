"""Evaluators of what the sources say about where the frameworks come from and what they are
made of: dates, maintainers, dependencies, languages, and the code the article prints.

Each reads what bench/checks/provenance.py and bench/checks/snippets.py stored in
inspections.json; like every evaluator (reports/evaluators/) it never guesses: what the run
did not store is "not measurable here".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from reports.evaluators.common import (
    MISSING,
    Evaluator,
    deployment_info,
    display,
    each_framework,
    extension_for,
    findings_verdict,
    holds,
    package_of,
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
    not_measurable,
)


def _provenance(
    run: Mapping[str, Any], inspections: Mapping[str, Any], framework: str
) -> dict[str, Any] | None:
    found = (package_of(run, inspections, framework) or {}).get("provenance")
    return found if isinstance(found, dict) else None


def _year(run: Mapping[str, Any], inspections: Mapping[str, Any], framework: str) -> dict | None:
    created = (_provenance(run, inspections, framework) or {}).get("created")
    return created if isinstance(created, dict) and created.get("year") else None


def _dated(created: Mapping[str, Any]) -> str:
    return f"{created['year']} (\u201c{created['words']}\u201d, {created['file']})"


def created_year(
    results: pd.DataFrame, run: Mapping[str, Any], inspections: Mapping[str, Any], claim: Claim
) -> Verdict:
    """The year the paper gives against the earliest year the installed files state. The same
    year supports it; an earlier one contradicts "created in" but leaves "launch" open, since no
    installed file records a first release (partly supported); a later one cannot rule out an
    earlier start (not measurable)."""

    def check(framework: str, expected: int) -> Finding:
        created = _year(run, inspections, framework)
        if created is None:
            return Finding(f"no installed file of it states a year ({MISSING})", NOT_MEASURABLE)
        text = f"{versioned(run, package_of(run, inspections, framework), framework)}: dated "
        year = int(created["year"])
        if year == expected:
            return Finding(text + _dated(created), SUPPORTED, str(year))
        if year < expected:
            return Finding(
                text + f"{_dated(created)}, before {expected}: not created in {expected}; "
                "a launch that year is not recorded in any installed file",
                PARTLY,
                str(year),
            )
        return Finding(
            text + f"{_dated(created)}, after {expected}: the files cannot show an earlier start",
            NOT_MEASURABLE,
            f"{year} or earlier",
        )

    return findings_verdict(each_framework(run, claim, check), run)


def created_gap(
    results: pd.DataFrame, run: Mapping[str, Any], inspections: Mapping[str, Any], claim: Claim
) -> Verdict:
    """ "A predates B by about N years": the order and the gap, from the same dated files as
    created_year; within `within` years of N supports it, the right order alone partly."""
    earlier, later = claim.params["earlier"], claim.params["later"]
    years, within = int(claim.params["years"]), int(claim.params.get("within", 1))
    first, second = _year(run, inspections, earlier), _year(run, inspections, later)
    if first is None or second is None:
        return not_measurable(
            f"the installed files of both frameworks must state a year ({MISSING})"
        )
    gap = int(second["year"]) - int(first["year"])
    evidence = (
        f"{display(run, earlier)} dated {_dated(first)}; {display(run, later)} dated "
        f"{_dated(second)}: a gap of {gap} years against \u201cabout {years}\u201d "
        f"(read as {years} \u00b1 {within})."
    )
    if gap <= 0:
        return Verdict(CONTRADICTED, evidence, numbers={"gap_years": gap})
    verdict = SUPPORTED if abs(gap - years) <= within else PARTLY
    return Verdict(verdict, evidence, numbers={"gap_years": gap})


def maintainer(
    results: pd.DataFrame, run: Mapping[str, Any], inspections: Mapping[str, Any], claim: Claim
) -> Verdict:
    """Who maintains each framework: the words expected must appear in the Author or Maintainer
    fields of its installed metadata."""

    def check(framework: str, expected: str) -> Finding:
        found = (_provenance(run, inspections, framework) or {}).get("maintainer")
        fields = (found or {}).get("fields")
        if not isinstance(fields, dict) or not fields:
            return Finding(f"maintainer metadata {MISSING}", NOT_MEASURABLE)
        shown = "; ".join(f"{k}: {v}" for k, v in fields.items())
        named = any(expected.lower() in str(v).lower() for v in fields.values())
        text = f"{versioned(run, package_of(run, inspections, framework), framework)}: {shown}"
        return Finding(text + f" ({found.get('file', 'METADATA')})", holds(named))

    return findings_verdict(each_framework(run, claim, check), run)


def dependencies(
    results: pd.DataFrame, run: Mapping[str, Any], inspections: Mapping[str, Any], claim: Claim
) -> Verdict:
    """ "Little to no dependencies" ("fewest") or "dozens of libraries" ("most"): the installed
    distributions each framework needs (base requirements, transitively), read relatively: the
    framework claimed needs no more (or no fewer) than any other of the compared frameworks."""
    frameworks = list(claim.params["compare_with"])
    counts: dict[str, list[str]] = {}
    for framework in frameworks:
        required = (_provenance(run, inspections, framework) or {}).get("required_distributions")
        if isinstance(required, list):
            counts[framework] = required
    lines = tuple(
        f"{display(run, f)} needs {len(r)}: {', '.join(r) or 'nothing'}" for f, r in counts.items()
    )

    def check(framework: str, expected: str) -> Finding:
        if framework not in counts or len(counts) < 2:
            return Finding(f"required distributions {MISSING}", NOT_MEASURABLE)
        mine = len(counts[framework])
        beat = (lambda n: n < mine) if expected == "fewest" else (lambda n: n > mine)
        better = [f for f, r in counts.items() if beat(len(r))]
        text = f"{display(run, framework)} needs {mine} installed distributions"
        if better:
            word = "fewer" if expected == "fewest" else "more"
            text += f"; {word}: " + ", ".join(f"{display(run, f)} {len(counts[f])}" for f in better)
        return Finding(text, holds(not better), str(mine))

    return findings_verdict(each_framework(run, claim, check), run, details=lines)


def languages(
    results: pd.DataFrame, run: Mapping[str, Any], inspections: Mapping[str, Any], claim: Claim
) -> Verdict:
    """Python only, or a front end in other languages too: in the installed package ("package")
    or in our deployment's own code ("app"), by files and bytes per language."""
    parts = list(claim.params["parts"])
    keys = {"package": "files_by_language", "app": "app_files_by_language"}
    where = {"package": "the installed package", "app": "our deployment's code"}
    allowed = set(claim.params.get("allowed", ["python"]))

    def check(framework: str, expected: bool) -> Finding:
        found = _provenance(run, inspections, framework)
        texts, verdicts = [], []
        for part in parts:
            counted = (found or {}).get(keys[part])
            if not isinstance(counted, dict):
                texts.append(f"{where[part]}: {MISSING}")
                verdicts.append(NOT_MEASURABLE)
                continue
            other = {k: v for k, v in counted.items() if k not in allowed}
            texts.append(f"{where[part]}: " + _language_list(counted))
            verdicts.append(holds((not other) == expected))
        return Finding("; ".join(texts), combine(verdicts))

    return findings_verdict(each_framework(run, claim, check), run)


def _language_list(counted: Mapping[str, Mapping[str, int]]) -> str:
    if not counted:
        return "no file of a known language"
    return ", ".join(
        f"{name} {entry['files']} files ({entry['bytes'] / 1024:,.0f} KiB)"
        for name, entry in sorted(counted.items(), key=lambda kv: -kv[1]["bytes"])
    )


def framework_apis(
    results: pd.DataFrame, run: Mapping[str, Any], inspections: Mapping[str, Any], claim: Claim
) -> Verdict:
    """A stated proxy for how much of a framework one must learn: the framework names our
    deployment's code uses (bench/checks/provenance.py). expects: framework ->
    {more_than | fewer_than: [frameworks]}; what learning takes beyond that stays the claim's
    unmeasured part."""
    named = [*claim.expects, *(o for r in claim.expects.values() for v in r.values() for o in v)]
    used = {
        f: apis
        for f in dict.fromkeys(named)  # the claim's order, each once: the text reads the same
        if isinstance(apis := (_provenance(run, inspections, f) or {}).get("framework_apis"), list)
    }

    def check(framework: str, relations: Mapping[str, list[str]]) -> Finding:
        if framework not in used:
            return Finding(f"framework names used {MISSING}", NOT_MEASURABLE)
        mine, parts = len(used[framework]), []
        for relation, others in relations.items():
            for other in others:
                if other not in used:
                    parts.append(NOT_MEASURABLE)
                    continue
                theirs = len(used[other])
                parts.append(holds(mine > theirs if relation == "more_than" else mine < theirs))
        others = "; ".join(f"{display(run, o)} {len(used[o])}" for o in used if o != framework)
        text = f"our {display(run, framework)} deployment uses {mine} of its names ({others})"
        return Finding(text, combine(parts), str(mine))

    details = tuple(
        f"{display(run, f)}: {', '.join(apis) or 'none'}" for f, apis in sorted(used.items())
    )
    return findings_verdict(each_framework(run, claim, check), run, details=details)


def premade_packages(
    results: pd.DataFrame, run: Mapping[str, Any], inspections: Mapping[str, Any], claim: Claim
) -> Verdict:
    """ "Premade packages add features": the installed extensions our deployment's manifest
    names for features the framework lacks (run.json: deployments.NAME.extensions).
    params.context: frameworks whose extensions are shown beside it."""

    def check(framework: str, expected: bool) -> Finding:
        used = _extensions_used(run, framework)
        text = f"our {display(run, framework)} deployment adds " + (
            "; ".join(f"{feature} through {ext}" for feature, ext in used.items())
            or "no feature through a package of its own choosing"
        )
        return Finding(text, holds(bool(used) == expected), yes_no(bool(used)))

    details = tuple(
        f"For comparison, our {display(run, f)} deployment adds "
        + ("; ".join(f"{k} through {v}" for k, v in _extensions_used(run, f).items()) or "none")
        for f in claim.params.get("context", [])
    )
    return findings_verdict(each_framework(run, claim, check), run, details=details)


def _extensions_used(run: Mapping[str, Any], framework: str) -> dict[str, str]:
    named = deployment_info(run, framework).get("extensions") or {}
    found = {feature: extension_for(run, framework, feature) for feature in named}
    return {feature: ext for feature, ext in found.items() if ext}


def snippet(
    results: pd.DataFrame, run: Mapping[str, Any], inspections: Mapping[str, Any], claim: Claim
) -> Verdict:
    """Code a source offers as ready to run: does it compile as printed?
    (bench/checks/snippets.py)"""
    name = claim.params["snippet"]
    found = (inspections.get("snippets") or {}).get(name)
    if not isinstance(found, dict) or not isinstance(found.get("compiles"), bool):
        return not_measurable(f"the snippet {name!r} was {MISSING}")
    lines = found.get("lines", "?")
    if found["compiles"]:
        return Verdict(SUPPORTED, f"The {lines} printed lines compile as Python.")
    return Verdict(
        CONTRADICTED,
        f"The {lines} lines as printed do not compile: {found.get('error')}. Python stops before "
        "anything runs, so it does not begin working with the framework as printed.",
    )


EVALUATORS: dict[str, Evaluator] = {
    "created_year": created_year,
    "created_gap": created_gap,
    "maintainer": maintainer,
    "dependencies": dependencies,
    "languages": languages,
    "snippet": snippet,
    "framework_apis": framework_apis,
    "premade_packages": premade_packages,
}
