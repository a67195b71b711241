"""What a claim is, what checking it yields, and how per-framework findings add up to a verdict."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

SUPPORTED = "supported"
PARTLY = "partly supported"
CONTRADICTED = "contradicted"
NOT_MEASURABLE = "not measurable here"
VERDICTS = (SUPPORTED, PARTLY, CONTRADICTED, NOT_MEASURABLE)


@dataclass(frozen=True)
class Claim:
    """One checkable statement of a source document, as registered in claims.toml."""

    id: str
    document: str  # key into the registry's [documents]
    where: str  # table row or list item, as the document numbers it
    group: str  # the heading the report lists it under
    evaluator: str
    how: str  # how it is checked, in words
    topic: str = ""  # the table row's label, e.g. "Open Source"
    statement: str = ""  # the sentence, verbatim, for claims that are not a table row
    says: Mapping[str, str] = field(default_factory=dict)  # framework -> words, verbatim
    expects: Mapping[str, Any] = field(default_factory=dict)  # framework -> the reading checked
    params: Mapping[str, Any] = field(default_factory=dict)
    note: str = ""  # e.g. what is garbled in the printed row
    unmeasured_part: str = ""  # part of the statement no data here can decide
    written_about: str = ""  # when it was written, so which versions it is about ("" unknown)

    @property
    def is_table_row(self) -> bool:
        return bool(self.says)


@dataclass(frozen=True)
class Finding:
    """What was found for one framework's cell of a claim."""

    text: str
    verdict: str
    # What was found in the source's own terms (Yes/No, a year, a server name, a figure), for a
    # table cell beside the words the source printed; "" where no short form says it.
    value: str = ""


@dataclass(frozen=True)
class Verdict:
    verdict: str
    evidence: str
    numbers: Mapping[str, float] = field(default_factory=dict)
    findings: Mapping[str, Finding] = field(default_factory=dict)  # framework -> finding
    details: tuple[str, ...] = ()
    unmeasured: str = ""  # the part of the statement no data here can decide

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"unknown verdict {self.verdict!r}")


def not_measurable(reason: str, **extra: Any) -> Verdict:
    return Verdict(NOT_MEASURABLE, reason, **extra)


def combine(verdicts: list[str]) -> str:
    """The verdict of a claim from the verdicts of its parts (cells, configs, checks).

    A part that could not be measured keeps the whole from being "supported": only what was
    checked is vouched for. One contradicted part with none supported contradicts the claim.
    """
    measured = [v for v in verdicts if v != NOT_MEASURABLE]
    if not measured:
        return NOT_MEASURABLE
    if all(v == SUPPORTED for v in measured):
        return SUPPORTED if len(measured) == len(verdicts) else PARTLY
    if all(v == CONTRADICTED for v in measured):
        return CONTRADICTED
    return PARTLY


def with_unmeasured_part(verdict: Verdict, unmeasured: str) -> Verdict:
    """A statement that is only partly checkable cannot be wholly supported."""
    if not unmeasured or verdict.verdict == NOT_MEASURABLE:
        return verdict
    overall = PARTLY if verdict.verdict == SUPPORTED else verdict.verdict
    return replace(verdict, verdict=overall, unmeasured=unmeasured)
