"""The reproduction check (python -m reports compare): a stored run lined up against a reference
run, from the committed fixture runs and edited copies of them."""

from __future__ import annotations

import csv
import json
import math
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

from reports import inputs, reproduction
from reports.__main__ import main
from reports.build import REPRODUCTION_FILE, build
from reports.reproduction import (
    AGREE,
    DISAGREE,
    FLOOR_TIME,
    LATENCY_RATIO,
    NOT_REPRODUCED,
    REPRODUCED,
    THROUGHPUT,
    THROUGHPUT_RATIO,
    UNDECIDED,
    VERDICT,
    Line,
)
from reports.reproduction_text import as_record, as_text
from reports.stats import Estimate
from reports.verdicts import NOT_MEASURABLE

FIXTURES = Path(__file__).parent / "fixtures"
QUICK = FIXTURES / "run-quick"  # three repetitions per level: paired ratios have intervals
QUICK_ALL = FIXTURES / "run-quick-all"  # one repetition at most levels: no intervals
RATIOS = (THROUGHPUT_RATIO, LATENCY_RATIO)
Rows = list[dict[str, str]]


def edited_copy(src: Path, dst: Path, *edits: Callable[[Rows], Rows]) -> Path:
    """A copy of a stored run whose results.csv went through `edits`, in order, stored under
    a run id of its own (the folder's name), as a rerun would be."""
    shutil.copytree(src, dst)
    info = json.loads((dst / "run.json").read_text())
    (dst / "run.json").write_text(json.dumps({**info, "run_id": dst.name}))
    edits = (*edits, lambda rows: [{**r, "run_id": dst.name} for r in rows])
    path = dst / "results.csv"
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        columns, rows = list(reader.fieldnames or ()), list(reader)
    for edit in edits:
        rows = edit(rows)
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return dst


def repetitions(total: int) -> Callable[[Rows], Rows]:
    """Repetitions added up to `total`, each a copy of a stored one (cycling through them) with
    its throughput and latencies moved by a small deterministic step, the same step for every
    deployment of the repetition, as one machine's state moves them all."""

    def edit(rows: Rows) -> Rows:
        stored = sorted({int(r["repetition"]) for r in rows} - {0})
        out = list(rows)
        for rep in range(max(stored) + 1, total + 1):
            source = stored[(rep - 1) % len(stored)]
            step = 1.0 + 0.003 * ((rep % 5) - 2)
            for row in rows:
                if int(row["repetition"]) == source:
                    out.append({**row, "repetition": str(rep), "value": _moved(row, step)})
        return out

    return edit


def floor_repetitions(total: int) -> Callable[[Rows], Rows]:
    """The in-process floor's repetition 1 copied up to `total`, each moved by its own step."""

    def edit(rows: Rows) -> Rows:
        floor = [r for r in rows if r["deployment"] == "in_process" and r["repetition"] == "1"]
        added = [
            {**r, "repetition": str(rep), "value": _moved(r, 1.0 + 0.003 * ((rep % 5) - 2))}
            for rep in range(2, total + 1)
            for r in floor
        ]
        return rows + added

    return edit


def _moved(row: dict[str, str], step: float) -> str:
    metric, value = row["metric"], float(row["value"])
    if metric == "throughput" or metric.startswith("latency_"):
        return repr(value * step)
    return row["value"]  # counts and flags stay as they were


def scaled(factor: float, metric: str, deployments: Iterable[str] | None = None):
    """Every value of `metric` (of `deployments`, else of all) times `factor`."""
    names = None if deployments is None else set(deployments)

    def edit(rows: Rows) -> Rows:
        return [
            {**r, "value": repr(float(r["value"]) * factor)}
            if r["metric"] == metric and (names is None or r["deployment"] in names)
            else r
            for r in rows
        ]

    return edit


def compared(new: Path, reference: Path) -> reproduction.Comparison:
    return reproduction.compare_runs(inputs.load(new), inputs.load(reference))


def of_kind(comparison: reproduction.Comparison, *kinds: str) -> list[Line]:
    return [line for line in comparison.lines if line.kind in kinds]


def expected(line: Line) -> str:
    """The rule the output states, applied here without the module's code."""
    if line.kind == VERDICT:
        if NOT_MEASURABLE in (line.new, line.reference):
            return UNDECIDED
        return AGREE if line.new == line.reference else DISAGREE
    a, b = line.new, line.reference
    if not (a.is_interval and b.is_interval):
        return UNDECIDED
    return DISAGREE if a.high < b.low or b.high < a.low else AGREE


@pytest.fixture(scope="module")
def itself() -> reproduction.Comparison:
    return compared(QUICK, QUICK)


@pytest.fixture(scope="module")
def different() -> reproduction.Comparison:
    return compared(QUICK_ALL, QUICK)


@pytest.fixture(scope="module")
def wider(tmp_path_factory) -> Path:
    """run-quick with six repetitions: enough for the medians' intervals too."""
    return edited_copy(QUICK, tmp_path_factory.mktemp("runs") / "six", repetitions(6))


@pytest.mark.parametrize(
    ("new", "reference", "outcome"),
    [
        (Estimate(1.0, 0.9, 1.1, 5, "t", 0.95), Estimate(1.05, 1.0, 1.2, 5, "t", 0.95), AGREE),
        (Estimate(1.0, 0.9, 1.1, 5, "t", 0.95), Estimate(3.0, 2.8, 3.2, 5, "t", 0.95), DISAGREE),
        (
            Estimate(1.0, 0.9, 1.1, 3, "range", 0.75),
            Estimate(3.0, 2.8, 3.2, 5, "t", 0.95),
            UNDECIDED,
        ),
        (
            Estimate(1.0, math.nan, math.nan, 2, "none"),
            Estimate(3.0, 2.8, 3.2, 5, "t", 0.95),
            UNDECIDED,
        ),
    ],
)
def test_the_interval_rule(new, reference, outcome):
    assert reproduction.intervals_agree(new, reference) == outcome


@pytest.mark.parametrize(
    ("new", "reference", "outcome"),
    [
        ("supported", "supported", AGREE),
        ("supported", "partly supported", DISAGREE),
        ("contradicted", NOT_MEASURABLE, UNDECIDED),
        (NOT_MEASURABLE, NOT_MEASURABLE, UNDECIDED),  # neither measured: nothing agreed on
    ],
)
def test_the_verdict_rule(new, reference, outcome):
    assert reproduction.verdicts_agree(new, reference) == outcome


def test_a_run_against_itself_agrees_wherever_it_can_decide(itself):
    ratios = of_kind(itself, *RATIOS)
    assert ratios and any(line.new.is_interval for line in ratios)
    for line in ratios:
        assert line.outcome == (AGREE if line.new.is_interval else UNDECIDED), line.subject
    verdicts = of_kind(itself, VERDICT)
    assert verdicts and all(line.outcome != DISAGREE for line in verdicts)
    assert all(line.outcome == AGREE for line in verdicts if line.new != NOT_MEASURABLE)
    assert itself.outcome == REPRODUCED and itself.one_sided == 0


def test_two_different_runs_get_the_outcomes_the_rules_state(different):
    kinds = {line.kind for line in different.lines}
    assert kinds == {THROUGHPUT_RATIO, LATENCY_RATIO, VERDICT, THROUGHPUT}
    for line in different.lines:
        assert line.outcome == expected(line), line.subject
        assert line.machine_dependent == (line.kind == THROUGHPUT)
    # One repetition per level in the new run: no ratio has an interval, none decides.
    assert all(line.outcome == UNDECIDED for line in of_kind(different, *RATIOS))
    independent = [line.outcome for line in different.independent]
    want = (
        NOT_REPRODUCED
        if DISAGREE in independent
        else REPRODUCED
        if AGREE in independent
        else UNDECIDED
    )
    assert different.outcome == want


def test_a_framework_ratio_moved_far_is_not_reproduced(tmp_path):
    faster = edited_copy(QUICK, tmp_path / "flask-x3", scaled(3.0, "throughput", ["flask"]))
    comparison = compared(faster, QUICK)
    moved = [
        line
        for line in of_kind(comparison, THROUGHPUT_RATIO)
        if line.subject.startswith("Flask ÷ Django") and line.new.is_interval
    ]
    assert moved and all(line.outcome == DISAGREE for line in moved)
    # Latency was left alone: its ratios still agree.
    latency = [line for line in of_kind(comparison, LATENCY_RATIO) if line.new.is_interval]
    assert latency and all(line.outcome == AGREE for line in latency)
    assert comparison.outcome == NOT_REPRODUCED
    assert main(["compare", str(faster), "--reference", str(QUICK)]) == 1


def test_a_faster_machine_moves_only_the_machine_dependent_lines(tmp_path, wider):
    faster = edited_copy(
        wider, tmp_path / "twice", scaled(2.0, "throughput"), scaled(0.5, "latency_p50")
    )
    comparison = compared(faster, wider)
    absolute = [line for line in comparison.dependent if line.reference.is_interval]
    assert absolute and all(line.outcome == DISAGREE for line in absolute)
    assert all(math.isclose(line.quotient, 2.0, rel_tol=1e-6) for line in absolute)
    ratios = [line for line in of_kind(comparison, *RATIOS) if line.new.is_interval]
    assert ratios and all(line.outcome == AGREE for line in ratios)
    assert all(line.outcome != DISAGREE for line in comparison.independent)
    assert comparison.outcome == REPRODUCED


def test_a_slower_machine_shows_in_the_model_s_own_time_which_counts_for_nothing(tmp_path):
    """The in-process floor: machine-dependent, its quotient the machine's slowdown."""
    six = edited_copy(QUICK_ALL, tmp_path / "six", floor_repetitions(6))
    slower = edited_copy(
        six, tmp_path / "half-speed", scaled(2.0, "latency_p50", ["in_process"])
    )  # fmt: skip
    same = of_kind(compared(six, six), FLOOR_TIME)
    assert same and all(line.outcome == AGREE for line in same)
    comparison = compared(slower, six)
    floor = of_kind(comparison, FLOOR_TIME)
    assert {line.subject for line in floor} == {"iris-logreg", "iris-forest"}
    assert all(line.machine_dependent and line.outcome == DISAGREE for line in floor)
    assert all(math.isclose(line.quotient, 2.0, rel_tol=1e-6) for line in floor)
    assert FLOOR_TIME in as_text(comparison)
    assert reproduction.overall(comparison.lines) == reproduction.overall(
        [line for line in comparison.lines if line.kind != FLOOR_TIME]
    )


def test_the_text_names_its_rules_and_ends_with_the_summary(itself):
    out = as_text(itself).splitlines()
    assert out[-1].startswith(f"{REPRODUCED}: run ") and "machine-dependent" in out[-1]
    assert sum(line.startswith("Rule: ") for line in out) == len(reproduction.RULES)
    assert not any(line.startswith("disagree ") for line in out)


def test_a_missing_reference_is_one_line_and_exit_2(tmp_path, capsys):
    assert main(["compare", str(QUICK), "--reference", str(tmp_path / "none")]) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: no reference run at ") and "--reference" in error
    assert "Traceback" not in error and len(error.strip().splitlines()) == 1


def test_a_missing_run_is_one_line_and_exit_2(tmp_path, capsys):
    assert main(["compare", str(tmp_path / "none"), "--reference", str(QUICK)]) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: no stored run") and len(error.strip().splitlines()) == 1


def test_the_default_reference_is_the_constant(tmp_path, capsys, monkeypatch):
    import reports.__main__ as cli

    monkeypatch.setattr(cli, "REFERENCE_DIR", tmp_path / "reference")
    assert main(["compare", str(QUICK)]) == 2
    assert str(tmp_path / "reference") in capsys.readouterr().err


def test_the_json_file_holds_every_line(tmp_path, capsys, itself):
    out = tmp_path / "comparison.json"
    assert main(["compare", str(QUICK), "--reference", str(QUICK), "--json", str(out)]) == 0
    record = json.loads(out.read_text())
    assert record["outcome"] == REPRODUCED
    assert len(record["lines"]) == len(itself.lines)
    assert record["summary"] == capsys.readouterr().out.strip().splitlines()[-1]
    assert record == json.loads(json.dumps(as_record(itself)))


def test_the_report_with_a_reference_has_the_section(tmp_path, wider):
    page = build(wider, tmp_path / "with", reference=QUICK)
    html = page.read_text()
    assert 'id="reproduction"' in html and 'href="#reproduction"' in html
    record = json.loads((page.parent / REPRODUCTION_FILE).read_text())
    assert record["reference_run"]["run_id"] == inputs.load(QUICK).run_id


def test_the_report_without_a_reference_has_none(tmp_path, monkeypatch):
    monkeypatch.setattr(reproduction, "REFERENCE_DIR", tmp_path / "no-reference")
    page = build(QUICK, tmp_path / "without")
    assert 'id="reproduction"' not in page.read_text()
    assert not (page.parent / REPRODUCTION_FILE).exists()


def test_the_reference_itself_gets_no_section(tmp_path, monkeypatch):
    monkeypatch.setattr(reproduction, "REFERENCE_DIR", QUICK)
    assert 'id="reproduction"' not in build(QUICK, tmp_path / "same").read_text()
    # The default reference holds a run: any other run is set against it.
    assert 'id="reproduction"' in build(QUICK_ALL, tmp_path / "other").read_text()


def test_an_explicit_reference_that_is_missing_is_a_clear_error(tmp_path, capsys):
    args = ["--run", str(QUICK), "--out", str(tmp_path / "out")]
    assert main([*args, "--reference", str(tmp_path / "none")]) == 2
    assert capsys.readouterr().err.startswith("error: no reference run at ")
