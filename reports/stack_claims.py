"""Every claim checked once per stack, set side by side, and the verdicts that differ.

The paper's claims were written about February 2022 (claims.toml `written_about`): the 2022
stack's verdict checks the versions they were written about, today's whether they still hold.
The evaluators run unchanged on each stack's view (reports/stacks.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reports import claims, summary
from reports.inputs import StoredRun
from reports.stacks import shown_order, stack_label, stack_title
from reports.verdicts import Claim, Finding, Verdict


def check_stacks(
    registry: claims.Registry, views: Mapping[str, StoredRun]
) -> dict[str, list[claims.Checked]]:
    """stack -> every claim's verdict on that stack's view, in the registry's order."""
    return {
        stack: claims.check_all(registry, v.measured, v.info, v.inspections)
        for stack, v in views.items()
    }


@dataclass(frozen=True)
class CellChange:
    """One framework's cell of a Table I row, on each stack."""

    framework: str
    printed: str
    found: Mapping[str, Finding | None]  # stack -> finding


@dataclass(frozen=True)
class ClaimRow:
    """One claim, with its verdict on each stack."""

    claim: Claim
    verdicts: Mapping[str, Verdict]  # stack -> verdict, in shown order

    def cell(self, stack: str, framework: str) -> Finding | None:
        return self.verdicts[stack].findings.get(framework)

    @property
    def verdict_differs(self) -> bool:
        return len({v.verdict for v in self.verdicts.values()}) > 1

    def cell_changes(self, frameworks: Sequence[str]) -> list[CellChange]:
        """The cells of a Table I row whose verdict is not the same on every stack."""
        if not self.claim.is_table_row:
            return []
        changes = []
        for framework in frameworks:
            found = {s: self.cell(s, framework) for s in self.verdicts}
            if len({f.verdict if f else None for f in found.values()}) > 1:
                changes.append(CellChange(framework, self.claim.says.get(framework, ""), found))
        return changes

    def differs(self, frameworks: Sequence[str]) -> bool:
        return self.verdict_differs or bool(self.cell_changes(frameworks))


def claim_rows(checked: Mapping[str, list[claims.Checked]]) -> list[ClaimRow]:
    """One row per claim, each stack's verdict in shown order (every stack checks every
    claim of the one registry, so the lists line up)."""
    stacks = shown_order(checked)
    first = checked[stacks[0]]
    return [
        ClaimRow(c.claim, {s: checked[s][i].verdict for s in stacks}) for i, c in enumerate(first)
    ]


def differing(rows: Sequence[ClaimRow], frameworks: Sequence[str]) -> list[ClaimRow]:
    """The claims whose verdict, or the verdict of one of whose Table I cells, is not the same
    on every stack: Table I rows first, as the registry orders them."""
    return [r for r in rows if r.differs(frameworks)]


def tally_line(run: Mapping[str, Any], stack: str, checked: list[claims.Checked]) -> str:
    """The tally of one stack's verdicts (the summary's own line), naming the stack."""
    return f"On {stack_title(run, stack)}: {summary.claims_lines(checked)[0]}"


def difference_summary(
    run: Mapping[str, Any], rows: Sequence[ClaimRow], changed: Sequence[ClaimRow]
) -> str:
    """The sentence the summary gives: how many claims (`changed`, of `differing`) get another
    verdict on another stack."""
    stacks = list(rows[0].verdicts) if rows else []
    if len(stacks) < 2:
        return ""
    names = " and ".join(stack_label(run, s) for s in stacks)
    if not changed:
        return f"Every claim gets the same verdict, cell by cell, on {names}."
    table = sum(r.claim.is_table_row for r in changed)
    return (
        f"{len(changed)} of {len(rows)} claims get a different verdict (for the whole claim or "
        f"for one framework's cell) on {names}, {table} of them rows of Table I: listed under "
        f"“{differences_heading(run, stacks)}”."
    )


def differences_heading(run: Mapping[str, Any], stacks: Sequence[str]) -> str:
    """The heading the differing verdicts are listed under, in the stacks' shown order."""
    return f"Verdicts that differ between {' and '.join(stack_label(run, s) for s in stacks)}"
