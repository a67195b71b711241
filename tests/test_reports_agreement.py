"""python -m reports agreement: runs of one plan by the code before and after a change, level by
level (reports/agreement.py)."""

import json
import math

import pytest

from bench.store.table import Row, write_rows
from reports import agreement
from reports.__main__ import main

LEVELS = {  # (scenario, users) -> (before's throughputs, after's), one per run
    ("api_single", 1): ([100.0, 102.0, 98.0], [101.0, 99.0, 103.0]),  # medians inside
    ("api_single", 16): ([100.0, 101.0, 102.0], [102.0, 104.0, 106.0]),  # ranges overlap
    ("form", 1): ([100.0, 101.0, 102.0], [105.0, 106.0, 107.0]),  # ranges disjoint
}


def store_run(folder, name, values, status="complete"):
    run = folder / name
    run.mkdir(parents=True)
    rows = [
        Row(name, "flask", "default", scenario, users, 1, "throughput", value, "1/s")
        for (scenario, users), value in values.items()
    ]
    write_rows(run / "results.csv", rows)
    (run / "run.json").write_text(json.dumps({"status": status}))
    return run


@pytest.fixture
def sides(tmp_path):
    """Three runs a side, named by the turn they were made in, as run folders are."""
    for side, index in (("before", 0), ("after", 1)):
        for turn in range(3):
            values = {level: pair[index][turn] for level, pair in LEVELS.items()}
            store_run(tmp_path / side, f"2026120{turn}T000000Z-same", values)
    return tmp_path / "before", tmp_path / "after"


def test_each_level_is_classed_by_its_medians_and_ranges(sides):
    before, after = sides
    lines = agreement.compare(agreement.run_folders([before]), agreement.run_folders([after]))
    verdicts = {line.level[2:4]: line.verdict for line in lines}
    assert verdicts == {
        ("api_single", 1): agreement.INSIDE,
        ("api_single", 16): agreement.OVERLAP,
        ("form", 1): agreement.DISJOINT,
    }
    inside = lines[0]
    assert (inside.before.median, inside.before.low, inside.before.high) == (100.0, 98.0, 102.0)
    # after ÷ before, paired by turn: 101/100, 99/102, 103/98, their geometric mean.
    expected = math.exp(sum(math.log(r) for r in (1.01, 99 / 102, 103 / 98)) / 3)
    assert inside.ratio.value == pytest.approx(expected)
    assert inside.ratio.low < 1 < inside.ratio.high and inside.ratio.n == 3
    assert agreement.counts(lines) == dict.fromkeys(agreement.CLASSES, 1)


def test_unfinished_runs_and_the_latest_link_are_left_out(sides):
    before, _ = sides
    store_run(before, "20261209T000000Z-same", {("api_single", 1): 1e6}, status="interrupted")
    (before / "latest").symlink_to(before / "20261200T000000Z-same")
    runs = agreement.run_folders([before])
    assert [r.name for r in runs] == [f"2026120{turn}T000000Z-same" for turn in range(3)]


def test_the_command_prints_the_table_and_exits_1_when_a_level_disagrees(sides, capsys):
    before, after = sides
    assert main(["agreement", "--before", str(before), "--after", str(after)]) == 1
    out = capsys.readouterr().out
    assert "medians inside: 1, ranges overlap: 1, ranges disjoint: 1 (of 3 levels)" in out
    assert "paired log-ratio" in out or "t-interval" in out


def test_the_command_exits_0_when_every_level_agrees(sides, capsys):
    before, _ = sides
    assert main(["agreement", "--before", str(before), "--after", str(before)]) == 0


def test_bad_input_is_a_one_line_error(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["agreement", "--before", str(empty), "--after", str(tmp_path / "none")]) == 2
    assert capsys.readouterr().err.startswith("error: no complete stored run")
