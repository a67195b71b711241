"""Does a rerun of the benchmark agree with a reference run? Line the two stored runs up.

Machine-independent quantities come first: the ratios between frameworks (reports/compare.py's
like-for-like pairings, each paired by repetition within its own run) and the claims' verdicts,
computed for both runs from their stored data by the code the report uses. A machine twice as
fast should move neither. Each deployment's absolute throughput comes second: set new against
reference, it is shown, and judged by the same interval rule, but another machine serves at
another rate, so it never counts toward the outcome. Nothing is re-run.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from reports import REFERENCE_DIR, claims, compare, inputs, scale, stack_claims, stacks, stats, text
from reports.intervals import percent
from reports.perf_tables import pairs
from reports.tables import label, ordered
from reports.verdicts import CONTRADICTED, NOT_MEASURABLE, PARTLY, SUPPORTED

AGREE = "agree"
DISAGREE = "disagree"
UNDECIDED = "undecided"
OUTCOMES = (AGREE, DISAGREE, UNDECIDED)
REPRODUCED = "reproduced"
NOT_REPRODUCED = "not reproduced"

THROUGHPUT_RATIO = "throughput ratio"
LATENCY_RATIO = "p50 latency ratio"
VERDICT = "claim verdict"
THROUGHPUT = "throughput"  # the absolute figure, machine-dependent
# The model's in-process time: the machine's own speed at the model alone.
FLOOR_TIME = "in-process predict() ms"

RULES = (
    f"A ratio between two deployments (throughput or p50 latency, paired by repetition within "
    f"each run): {AGREE} when both runs give an interval (bounds whose real coverage reaches "
    f"{percent(stats.MIN_COVERAGE)}) and the two overlap; {DISAGREE} when both give intervals "
    f"that do not overlap; {UNDECIDED} otherwise (a range, fewer than {stats.MIN_N_FOR_CI} "
    "paired repetitions, or missing on one side).",
    f"A claim's verdict: {AGREE} when both runs give the same one; {DISAGREE} when both are "
    f"decided ({SUPPORTED}, {PARTLY} or {CONTRADICTED}) and differ; {UNDECIDED} when either is "
    f"{NOT_MEASURABLE}.",
    "A deployment's median throughput at one level (new ÷ reference beside it): the ratios' "
    "interval rule on the medians' intervals, but it is machine-dependent (another machine "
    "serves at another rate) and never counts toward the outcome.",
    f"The model's median time in process ({FLOOR_TIME}, machine-dependent, not counted either): "
    "each machine's speed at the model alone. What it leaves out (the loopback network, "
    "process scheduling) shows in the null target's throughput, which has no framework.",
    f"Outcome: {REPRODUCED} when no machine-independent line (ratio or verdict) disagrees and "
    f"at least one agrees; {NOT_REPRODUCED} when any disagrees; {UNDECIDED} otherwise.",
)


class MissingReference(inputs.RunError):
    """There is no reference run where one was asked for."""


@dataclass(frozen=True)
class Line:
    """One quantity of both runs, and whether they agree. `new` and `reference` are Estimates
    for ratios and absolute figures, verdict words for claims."""

    kind: str
    subject: str
    new: stats.Estimate | str
    reference: stats.Estimate | str
    outcome: str
    machine_dependent: bool = False
    flagged: bool = False  # either run saturated its load generator at this level

    @property
    def quotient(self) -> float:
        """new ÷ reference of an absolute figure (NaN for the other kinds)."""
        if isinstance(self.new, str) or isinstance(self.reference, str):
            return math.nan
        if not self.machine_dependent or not self.reference.value > 0:
            return math.nan
        return self.new.value / self.reference.value


@dataclass(frozen=True)
class Comparison:
    new_id: str
    reference_id: str
    new_path: Path
    reference_path: Path
    lines: tuple[Line, ...]
    one_sided: int  # ratio levels measured in one run only, not compared

    @property
    def independent(self) -> list[Line]:
        return [line for line in self.lines if not line.machine_dependent]

    @property
    def dependent(self) -> list[Line]:
        return [line for line in self.lines if line.machine_dependent]

    @property
    def outcome(self) -> str:
        return overall(self.lines)


def counts(lines: list[Line]) -> dict[str, int]:
    return {o: sum(line.outcome == o for line in lines) for o in OUTCOMES}


def overall(lines: tuple[Line, ...] | list[Line]) -> str:
    """The reproduction's outcome, from its machine-independent lines only."""
    found = counts([line for line in lines if not line.machine_dependent])
    if found[DISAGREE]:
        return NOT_REPRODUCED
    return REPRODUCED if found[AGREE] else UNDECIDED


def intervals_agree(new: stats.Estimate, reference: stats.Estimate) -> str:
    """The interval rule: only bounds that may decide something decide."""
    if not (new.is_interval and reference.is_interval):
        return UNDECIDED
    overlap = new.low <= reference.high and reference.low <= new.high
    return AGREE if overlap else DISAGREE


def verdicts_agree(new: str, reference: str) -> str:
    # Two runs that both measured nothing have not agreed on anything.
    if NOT_MEASURABLE in (new, reference):
        return UNDECIDED
    return AGREE if new == reference else DISAGREE


def load_reference(path: Path) -> inputs.StoredRun:
    """The reference run, or one clear error saying how to get one."""
    if not (path / "run.json").exists():
        raise MissingReference(
            f"no reference run at {path}: copy a stored run there "
            "(cp -r bench/results/<run-id> reference) or pass --reference DIR"
        )
    return inputs.load(path)


def default_reference(run: inputs.StoredRun, reference: Path | None) -> inputs.StoredRun | None:
    """The reference a report of `run` is set against: `reference` when given, else
    REFERENCE_DIR when it holds a run; never the run itself."""
    if reference is None:
        if not (REFERENCE_DIR / "run.json").exists():
            return None
        try:  # the default reference: a broken one must not stop every report from building
            loaded = load_reference(REFERENCE_DIR)
        except inputs.RunError as exc:
            print(f"warning: no reproduction check: {exc}", file=sys.stderr)
            return None
    else:
        loaded = load_reference(reference)
    if loaded.path == run.path or loaded.run_id == run.run_id:
        return None
    return loaded


def compare_runs(
    new: inputs.StoredRun,
    reference: inputs.StoredRun,
    registry: claims.Registry | None = None,
    new_verdicts: Mapping[str, list[claims.Checked]] | None = None,
) -> Comparison:
    """Every line of the comparison; `new_verdicts` (stack -> checked claims) saves checking
    the new run's claims again where the report has just done so."""
    registry = registry or claims.load_registry()
    if new_verdicts is None:
        new_verdicts = stack_claims.check_stacks(registry, stacks.views(new))
    old_verdicts = stack_claims.check_stacks(registry, stacks.views(reference))
    ratios, one_sided = ratio_lines(new, reference)
    lines = (
        *ratios,
        *verdict_lines(new.info, new_verdicts, old_verdicts),
        *floor_lines(new, reference),
        *absolute_lines(new, reference),
    )
    return Comparison(
        new.run_id, reference.run_id, new.path, reference.path, tuple(lines), one_sided
    )


PointKey = tuple[str, str, str, str, str, str, int]


def framework_points(stored: inputs.StoredRun) -> dict[PointKey, compare.Point]:
    """Every ratio of the report's ratio table, by what it compares: the same pairs of
    deployments, one stack at a time, the calibration target left out."""
    levels = stored.load_levels
    measured = set(levels["deployment"])
    names = [
        n
        for n in ordered(stored.info)
        if n in measured and stored.deployments[n].get("role") != "calibration"
    ]
    found = {}
    for a, b in pairs(stored.info, names):
        if not stacks.same_stack(stored.info, a, b):
            continue
        for point in compare.all_points(levels, a, b):
            p = point.pairing
            key = (p.a, p.b, p.a_scenario, p.b_scenario, p.a_config, p.b_config, point.users)
            found[key] = point
    return found


def ratio_lines(new: inputs.StoredRun, reference: inputs.StoredRun) -> tuple[list[Line], int]:
    """The ratio lines of the levels both runs measured, and how many were in one run only."""
    ours, theirs = framework_points(new), framework_points(reference)
    lines = []
    for key, point in ours.items():
        if key not in theirs:
            continue
        other = theirs[key]
        subject = (
            f"{label(new.info, key[0])} ÷ {label(new.info, key[1])} · {point.pairing.label} · "
            f"{text.plural(point.users, 'user')}"
        )
        flagged = point.loadgen_bound or other.loadgen_bound
        for kind, ours_e, theirs_e in (
            (THROUGHPUT_RATIO, point.throughput, other.throughput),
            (LATENCY_RATIO, point.latency_p50, other.latency_p50),
        ):
            outcome = intervals_agree(ours_e, theirs_e)
            lines.append(Line(kind, subject, ours_e, theirs_e, outcome, flagged=flagged))
    return lines, len(set(ours) ^ set(theirs))


def verdict_lines(
    run: Mapping[str, object],
    new: Mapping[str, list[claims.Checked]],
    reference: Mapping[str, list[claims.Checked]],
) -> list[Line]:
    """One line per claim and stack both runs were checked on (both check the one registry)."""
    lines = []
    for stack in stacks.shown_order(set(new) & set(reference)):
        theirs = {c.claim.id: c.verdict.verdict for c in reference[stack]}
        where = "" if stack == stacks.TODAY else f" ({stacks.stack_label(run, stack)} stack)"
        for checked in new[stack]:
            ours = checked.verdict.verdict
            other = theirs.get(checked.claim.id, NOT_MEASURABLE)
            subject = f"{checked.claim.id}{where}"
            lines.append(Line(VERDICT, subject, ours, other, verdicts_agree(ours, other)))
    return lines


def floor_lines(new: inputs.StoredRun, reference: inputs.StoredRun) -> list[Line]:
    """shared_model.predict()'s median time in process, per model both runs timed (one row,
    as api_single sends): how fast each machine computed it."""
    lines = []
    for model in scale.models_in(new):
        ours = scale.floor_estimate(new, "api_single", model, "predict")
        theirs = scale.floor_estimate(reference, "api_single", model, "predict")
        if math.isnan(ours.value) or math.isnan(theirs.value):
            continue
        outcome = intervals_agree(ours, theirs)
        lines.append(Line(FLOOR_TIME, model, ours, theirs, outcome, machine_dependent=True))
    return lines


def _medians(stored: inputs.StoredRun) -> dict[tuple, stats.Estimate]:
    table = stats.summarise(stored.load_levels, "throughput")
    return {
        (r.deployment, r.config, r.scenario, int(r.users)): stats.estimate_of(r)
        for r in table.itertuples(index=False)
    }


def absolute_lines(new: inputs.StoredRun, reference: inputs.StoredRun) -> list[Line]:
    """Each deployment's median throughput at each level both runs measured."""
    ours, theirs = _medians(new), _medians(reference)
    order = ordered(new.info)
    position = {n: i for i, n in enumerate(order)}
    shared = sorted(set(ours) & set(theirs), key=lambda k: (position.get(k[0], len(order)), k))
    bound = stats.any_flag(new.load_levels) | stats.any_flag(reference.load_levels)
    return [
        Line(
            THROUGHPUT,
            f"{label(new.info, d)} · {scenario}, {config} · {text.plural(users, 'user')}",
            ours[key],
            theirs[key],
            intervals_agree(ours[key], theirs[key]),
            machine_dependent=True,
            flagged=key in bound,
        )
        for key in shared
        for d, config, scenario, users in [key]
    ]
