"""The reproduction check (reports/reproduction.py) as a text table, as JSON and as the
report's section. Claims whose verdicts agree, and those neither run could measure, are counted,
not listed (the JSON lists every line): there are many, and only the others say something."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from reports import text
from reports.reproduction import (
    AGREE,
    DISAGREE,
    FLOOR_TIME,
    NOT_REPRODUCED,
    REPRODUCED,
    RULES,
    THROUGHPUT,
    UNDECIDED,
    VERDICT,
    Comparison,
    Line,
    counts,
)
from reports.stats import Estimate
from reports.tables import SATURATED, SATURATED_NOTE, Cell, Table

JSON_FILE = "reproduction.json"
COLUMNS = ("Outcome", "Compared", "What", "This run", "Reference", "This ÷ reference")
OUTCOME_CSS = {AGREE: "", DISAGREE: "bad", UNDECIDED: "muted"}
# The report's banner: green, yellow, red (a red one is an alert).
BANNER_CSS = {REPRODUCED: "ok", UNDECIDED: "info", NOT_REPRODUCED: ""}


def _quiet(line: Line) -> bool:
    """A claim both runs gave one verdict, or that neither could measure."""
    return line.kind == VERDICT and (line.outcome == AGREE or line.new == line.reference)


def shown(comparison: Comparison) -> list[Line]:
    """The lines a reader is shown: every one but the quiet claims."""
    return [line for line in comparison.lines if not _quiet(line)]


def _figure(line: Line, side: Estimate | str) -> str:
    if isinstance(side, str):
        return side
    if line.kind == FLOOR_TIME:
        return text.estimate(side, 3)
    return text.estimate(side) if line.kind == THROUGHPUT else text.ratio(side)


def _quotient(line: Line) -> str:
    if not line.machine_dependent or math.isnan(line.quotient):
        return ""
    return f"{text.number(line.quotient, 2)}{text.TIMES}"


def _cells(line: Line) -> list[str]:
    kind = f"{line.kind} (machine-dependent)" if line.machine_dependent else line.kind
    subject = f"{line.subject} {SATURATED}" if line.flagged else line.subject
    return [
        line.outcome,
        kind,
        subject,
        _figure(line, line.new),
        _figure(line, line.reference),
        _quotient(line),
    ]


def summary(comparison: Comparison) -> str:
    """The one line that says whether the run reproduces the reference, and why."""
    ours, theirs = counts(comparison.independent), counts(comparison.dependent)
    return (
        f"{comparison.outcome}: run {comparison.new_id} against reference "
        f"{comparison.reference_id}; machine-independent lines: {_tally(ours)}; "
        f"machine-dependent lines (not counted): {_tally(theirs)}."
    )


def _tally(found: dict[str, int]) -> str:
    return ", ".join(f"{n} {outcome}" for outcome, n in found.items())


def notes(comparison: Comparison) -> list[str]:
    """What the table leaves out, and what its flag means."""
    out = []
    verdicts = [line for line in comparison.lines if _quiet(line)]
    agreeing = sum(line.outcome == AGREE for line in verdicts)
    if verdicts:
        out.append(
            f"Not listed: {text.plural(agreeing, 'claim')} with the same verdict in both runs, "
            f"{len(verdicts) - agreeing} not measurable here in either (undecided)."
        )
    if comparison.one_sided:
        out.append(
            f"{text.plural(comparison.one_sided, 'ratio level')} measured in one run only, "
            "not compared."
        )
    if any(line.flagged for line in comparison.lines):
        out.append(SATURATED_NOTE)
    return out


def as_text(comparison: Comparison) -> str:
    """The comparison as a table, its notes, its rules, then the summary line last."""
    rows = [list(COLUMNS), *(_cells(line) for line in shown(comparison))]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    table = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    rules = [f"Rule: {rule}" for rule in RULES]
    return "\n".join([*table, "", *notes(comparison), *rules, "", summary(comparison)])


def _estimate(value: Estimate | str) -> dict[str, Any]:
    if isinstance(value, str):
        return {"verdict": value}

    def plain(x: float) -> float | None:
        return None if math.isnan(x) else x  # strict JSON has no NaN

    return {
        "value": plain(value.value),
        "low": plain(value.low),
        "high": plain(value.high),
        "n": value.n,
        "method": value.method,
        "coverage": plain(value.coverage),
        "is_interval": value.is_interval,
    }


def as_record(comparison: Comparison) -> dict[str, Any]:
    """Every line of the comparison, agreeing verdicts included, as plain data."""
    return {
        "new_run": {"run_id": comparison.new_id, "path": str(comparison.new_path)},
        "reference_run": {
            "run_id": comparison.reference_id,
            "path": str(comparison.reference_path),
        },
        "outcome": comparison.outcome,
        "summary": summary(comparison),
        "rules": list(RULES),
        "counts": {
            "machine_independent": counts(comparison.independent),
            "machine_dependent": counts(comparison.dependent),
        },
        "ratio_levels_in_one_run_only": comparison.one_sided,
        "lines": [
            {
                "kind": line.kind,
                "subject": line.subject,
                "outcome": line.outcome,
                "machine_dependent": line.machine_dependent,
                "loadgen_bound": line.flagged,
                "new": _estimate(line.new),
                "reference": _estimate(line.reference),
                "new_over_reference": None if math.isnan(line.quotient) else line.quotient,
            }
            for line in comparison.lines
        ],
    }


def _table(lines: list[Line], table_notes: Sequence[str] = ()) -> Table:
    rows = []
    for line in lines:
        cells = _cells(line)
        rows.append(
            [
                Cell(cells[0], css=OUTCOME_CSS[line.outcome]),
                Cell(cells[1], css="muted" if line.machine_dependent else ""),
                Cell(cells[2], note=SATURATED_NOTE if line.flagged else ""),
                *(Cell(c, css="" if line.kind == VERDICT else "num") for c in cells[3:]),
            ]
        )
    return Table(COLUMNS, rows, notes=tuple(table_notes))


def section(comparison: Comparison | None) -> dict[str, Any]:
    """The report's context for its reproduction section (None: no reference, no section)."""
    if comparison is None:
        return {"reproduction": None}
    lines = shown(comparison)
    return {
        "reproduction": {
            "outcome": comparison.outcome,
            "banner_css": BANNER_CSS[comparison.outcome],
            "summary": summary(comparison),
            "reference_id": comparison.reference_id,
            "reference_path": str(comparison.reference_path),
            "json_file": JSON_FILE,
            "rules": RULES,
            "disagreeing": _table([line for line in lines if line.outcome == DISAGREE]),
            "table": _table(lines, notes(comparison)),
        }
    }
