"""Table I at a glance: the review's Table I rows by its frameworks, each cell in four short
things (the printed word, what was found in the paper's terms, a mark, a link to the evidence),
on each stack the run was served from. It reads the verdicts already computed; it decides none."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reports import claims
from reports.evaluators import display
from reports.stacks import TODAY, shown_order, stack_label
from reports.text import DASH
from reports.verdicts import CONTRADICTED, NOT_MEASURABLE, PARTLY, SUPPORTED, Claim, Verdict

# The page's one mark and colour class per verdict, shared by every table of the report.
MARKS = {SUPPORTED: "✓", PARTLY: "◐", CONTRADICTED: "✗", NOT_MEASURABLE: DASH}
CSS = {SUPPORTED: "ok", PARTLY: "part", CONTRADICTED: "no", NOT_MEASURABLE: "nm"}
# A grid cell holds a word, not a sentence: longer texts are cut here, whole in the title.
PRINTED_CHARS = 34
VALUE_CHARS = 40
ELLIPSIS = "…"


@dataclass(frozen=True)
class Cell:
    """One framework's cell of one row, on one stack."""

    mark: str
    css: str
    verdict: str
    value: str  # what was found in the paper's terms, cut short ("" where none)
    title: str  # the whole finding, for the title attribute
    href: str  # the claim's row in the full table that holds this stack's evidence


@dataclass(frozen=True)
class Row:
    claim_id: str
    topic: str
    where: str
    printed: Mapping[str, str]  # framework -> the printed words, cut short
    printed_full: Mapping[str, str]  # framework -> the printed words, verbatim
    cells: Mapping[str, Sequence[Cell]]  # framework -> one cell per stack, in `stacks` order


@dataclass(frozen=True)
class Glance:
    frameworks: Sequence[tuple[str, str]]  # (key, name as the page names it)
    stacks: Sequence[tuple[str, str]]  # (key, label), oldest first, today last
    rows: Sequence[Row]

    @property
    def columns(self) -> int:
        """Columns of the grid: the topic, then per framework its printed words and stacks."""
        return 1 + len(self.frameworks) * (1 + len(self.stacks))


def shorten(words: str, limit: int) -> str:
    """`words` cut at a word boundary to at most `limit` characters, marked with an ellipsis."""
    words = " ".join(words.split())
    if len(words) <= limit:
        return words
    cut = words[: limit - 1]
    if " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:/") + ELLIPSIS


def evidence_href(claim_id: str, stack: str, shown: bool) -> str:
    """Today's evidence is the full claims table's row; another stack's, its side-by-side row."""
    if stack == TODAY or not shown:
        return f"#claim-{claim_id}"
    return f"#stack-claim-{claim_id}"


def glance(
    registry: claims.Registry,
    by_stack: Mapping[str, list[claims.Checked]],
    run: Mapping[str, Any],
    stacks_shown: bool,
) -> Glance:
    """The grid of the registry's Table I rows; the stacks are today's alone unless the page
    sets the stacks side by side (`stacks_shown`)."""
    order = shown_order(by_stack) if stacks_shown else [TODAY]
    verdicts = {s: {c.claim.id: c.verdict for c in by_stack[s]} for s in order}
    rows = [
        _row(claim, registry.frameworks, order, verdicts, run, stacks_shown)
        for claim in registry.claims
        if claim.is_table_row
    ]
    return Glance(
        frameworks=[(f, display(run, f)) for f in registry.frameworks],
        stacks=[(s, stack_label(run, s)) for s in order],
        rows=rows,
    )


def _row(
    claim: Claim,
    frameworks: Sequence[str],
    order: Sequence[str],
    verdicts: Mapping[str, Mapping[str, Verdict]],
    run: Mapping[str, Any],
    shown: bool,
) -> Row:
    cells = {
        f: [_cell(claim, f, s, verdicts[s][claim.id], run, shown) for s in order]
        for f in frameworks
    }
    printed = {f: claim.says.get(f, "") for f in frameworks}
    return Row(
        claim_id=claim.id,
        topic=claim.topic,
        where=claim.where,
        printed={f: shorten(w, PRINTED_CHARS) for f, w in printed.items()},
        printed_full=printed,
        cells=cells,
    )


def _cell(
    claim: Claim,
    framework: str,
    stack: str,
    verdict: Verdict,
    run: Mapping[str, Any],
    shown: bool,
) -> Cell:
    found = verdict.findings.get(framework)
    # A row with no finding for this framework (none measurable, say) carries the row's
    # verdict and its reason, so that the cell is never blank without saying why.
    decided = found.verdict if found else verdict.verdict
    said = found.text if found else verdict.evidence
    where = f"{display(run, framework)}, {stack_label(run, stack)}"
    printed = claim.says.get(framework, "")
    return Cell(
        mark=MARKS[decided],
        css=CSS[decided],
        verdict=decided,
        value=shorten(found.value, VALUE_CHARS) if found and found.value else "",
        title=f"{claim.topic} ({where}): printed “{printed}”; {decided}: {said}",
        href=evidence_href(claim.id, stack, shown),
    )
