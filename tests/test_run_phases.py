"""Where a run's minutes went: the phases are counted, the rest is named, run.json keeps them."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bench.run.context import PHASES, Run, phase_table, timed
from bench.run.plan import load_plan


@pytest.fixture
def run(tmp_path: Path) -> Run:
    return Run(load_plan("quick"), [], None, tmp_path, (0,), (0,))  # type: ignore[arg-type]


def test_time_inside_a_phase_adds_up(run):
    with timed(run, PHASES[0]):
        pass
    first = run.phases[PHASES[0]]
    with timed(run, PHASES[0]):
        deadline = time.monotonic() + 0.01
        while time.monotonic() < deadline:
            pass
    assert run.phases[PHASES[0]] > first and set(run.phases) == {PHASES[0]}


def test_a_phase_that_raises_still_counts(run):
    with pytest.raises(RuntimeError), timed(run, PHASES[1]):
        raise RuntimeError("broken")
    assert PHASES[1] in run.phases


def test_the_table_names_every_phase_and_the_rest(run):
    run.phases = {PHASES[0]: 30.0, PHASES[3]: 60.0}
    text = phase_table(run, wall_s=120.0)
    for name in PHASES:
        assert name in text
    assert "other" in text and "25%" in text and "50%" in text
