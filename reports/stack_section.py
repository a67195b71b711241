"""The report's page context for a run served from more than one stack: each stack's verdicts
side by side, the performance of each stack, and what each stack is. A run served from today's
stack alone gets none of it, so that its page stays as it was."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from reports import claims, stack_claims, stack_info, stack_order, stack_perf
from reports.inputs import StoredRun
from reports.stacks import TODAY, has_other_stacks, shown_order, stack_label, stack_of, stack_title
from reports.tables import label, ordered

CLAIMS_FILE = "claims-{stack}.json"  # beside claims.json (today's), one per other stack


def claims_files(by_stack: Mapping[str, list[claims.Checked]]) -> dict[str, str]:
    """stack -> the file its verdicts are written to beside the report (other stacks only).
    A stack's name comes from run.json, which need not have been written by the runner: only
    a plain name (letters and digits, as bench/targets/stacks.py requires) names a file."""
    return {
        s: CLAIMS_FILE.format(stack=s)
        for s in by_stack
        if s != TODAY and s.isascii() and s.isalnum()
    }


def per_stack_lines(
    stored: StoredRun, views: Mapping[str, StoredRun], lines: Callable[[StoredRun], list[str]]
) -> list[str]:
    """A summary's sentences for each stack's view, each named by its stack when the run has
    more than one, so that no sentence mixes the stacks' deployments."""
    if not has_other_stacks(stored.info):
        return lines(stored)
    found = []
    for stack in shown_order(views):
        title = stack_title(stored.info, stack)
        found += [f"On {title}: {line}" for line in lines(views[stack])]
    return found


def context(
    stored: StoredRun,
    registry: claims.Registry,
    views: Mapping[str, StoredRun],
    by_stack: Mapping[str, list[claims.Checked]],
    bands: tuple[float, float],
) -> dict[str, Any]:
    if not has_other_stacks(stored.info):
        return {"stacks_shown": False}
    run = stored.info
    measured = stack_perf.Measured(views)
    order, others = measured.stacks, measured.older
    rows = stack_claims.claim_rows(by_stack)
    differences = stack_claims.differing(rows, registry.frameworks)
    found = stack_order.orderings(measured)
    return {
        "stacks_shown": True,
        "stack_order": order,
        "stack_labels": {s: stack_label(run, s) for s in order},
        "stack_titles": {s: stack_title(run, s) for s in order},
        "stack_others": {s: stack_label(run, s) for s in others},
        "stack_variants": _variants(stored, others),
        "stack_tallies": {s: claims.tally(by_stack[s]) for s in order},
        "stack_claim_rows": rows,
        "stack_differences": differences,
        "stack_differences_heading": stack_claims.differences_heading(run, order),
        "stack_summary": [
            *(stack_claims.tally_line(run, s, by_stack[s]) for s in others),
            stack_claims.difference_summary(run, rows, differences),
            stack_order.ordering_line(measured, found),
        ],
        "stack_perf_table": stack_perf.side_by_side_table(measured, *bands),
        "stack_order_table": stack_order.ordering_table(measured, found),
        "stack_overhead_table": stack_perf.overhead_table(measured),
        "stacks_table": stack_info.stacks_table(run),
        "stack_versions_table": stack_info.versions_table(run),
        "stack_packages_table": stack_info.key_packages_table(run),
        "stack_exceptions_tables": [stack_info.exceptions_table(run, s) for s in others],
        "stack_shared_parts": stack_info.shared_parts(stored),
        "stack_claims_files": claims_files(by_stack),
        "stack_measured": _measured(run, others),
    }


def _variants(stored: StoredRun, stacks: list[str]) -> dict[str, str]:
    """stack -> the deployments the run served from it, as the page names them."""
    found = {}
    for stack in stacks:
        names = [n for n in ordered(stored.info) if stack_of(stored.deployments[n]) == stack]
        if names:
            found[stack] = _and([label(stored.info, n) for n in names])
    return found


def _measured(run: Mapping[str, Any], stacks: list[str]) -> dict[str, str]:
    """stack -> what its plan measured (run.json's plan.stacks), as a sentence's middle."""
    plans = (run.get("plan") or {}).get("stacks") or {}
    found = {}
    for stack in stacks:
        plan = plans.get(stack) if isinstance(plans, Mapping) else None
        if not isinstance(plan, Mapping) or not plan.get("levels"):
            continue
        configs = [str(c) for c in plan.get("configs") or ("default",)]
        with_ = ["cold starts"] if plan.get("cold_starts", True) else []
        without = ["model-variant", "scaling", *([] if plan.get("slo") else ["SLO-search"])]
        if not with_:
            without.append("cold-start")
        found[stack] = (
            f"at {_and([str(u) for u in plan['levels']])} users, in the "
            f"{_and(configs)} configuration{'s' if len(configs) > 1 else ''}"
            + (f", with {_and(with_)}" if with_ else "")
            + f", and with no {_and(without, 'or')} passes"
        )
    return found


def _and(items: list[str], word: str = "and") -> str:
    *first, last = items
    return f"{', '.join(first)} {word} {last}" if first else last
