"""When a step's window ends (bench/load/scenarios/window_rule.py), and what a LoadSpec and its
WindowRule refuse (bench/load/spec.py). Pure: no Locust, no server."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from bench.load.scenarios.window_rule import NOISE_SIGMAS, is_steady, window_verdict
from bench.load.spec import LoadSpec, WindowRule, steps_setting

START = 1000.0


def even(count: int, start: float, end: float) -> list[float]:
    """`count` completion times spread evenly over [start, end)."""
    return [start + (i + 0.5) * (end - start) / count for i in range(count)]


def halves(first: int, second: int, seconds: float) -> list[float]:
    """Completions: `first` in the window's first half, `second` in its second."""
    middle = START + seconds / 2
    return even(first, START, middle) + even(second, middle, START + seconds)


def rule(min_s: float = 2.0, max_s: float = 10.0, min_interactions: int = 100) -> dict:
    return WindowRule(min_s, max_s, min_interactions).as_dict()


def test_a_steady_window_ends_by_the_rule_only_once_it_has_lasted_min_s():
    ends = even(1000, START, START + 5)
    assert window_verdict(ends, START, START + 1.9, rule()) is None
    assert window_verdict(ends, START, START + 2.0, rule()) == "rule"


def test_a_window_goes_on_until_it_holds_min_interactions():
    ends = even(50, START, START + 3)  # 50 in 3 s: the 100th would come at 6 s
    assert window_verdict(ends, START, START + 3, rule()) is None
    ends = even(100, START, START + 3)
    assert window_verdict(ends, START, START + 3, rule()) == "rule"


def test_only_interactions_inside_the_window_count():
    warm_up = even(1000, START - 5, START)  # completed before the window began
    late = even(1000, START + 3, START + 4)  # not yet: the window is judged at START + 3
    assert window_verdict(warm_up + late, START, START + 3, rule()) is None
    assert window_verdict(warm_up + even(100, START, START + 3), START, START + 3, rule()) == "rule"


def test_a_window_ends_capped_at_max_s_whatever_it_holds():
    assert window_verdict([], START, START + 10, rule()) == "capped"
    assert window_verdict(even(10, START, START + 10), START, START + 10.5, rule()) == "capped"
    # A window steady and full by then is still capped at max_s: the cap comes first.
    assert window_verdict(even(5000, START, START + 10), START, START + 10, rule()) == "capped"
    assert window_verdict([], START, START + 9.9, rule()) is None


def test_an_unsteady_window_does_not_end_by_the_rule():
    # Every interaction in the first half: the server stalled (or the load stopped) since.
    ends = even(1000, START, START + 2)
    for now in (START + 4, START + 6, START + 9.5):
        assert not is_steady(ends, START, now, 0.10)
        assert window_verdict(ends, START, now, rule()) is None
    assert window_verdict(ends, START, START + 10, rule()) == "capped"


def test_a_window_without_interactions_is_not_steady():
    assert not is_steady([], START, START + 5, 0.10)
    assert window_verdict([], START, START + 5, rule(min_interactions=0)) is None


def test_halves_within_the_tolerance_are_steady():
    # 10 000 interactions: 3 sigma of Poisson noise is 300, 10 % of the mean half is 500.
    assert is_steady(halves(5250, 4750, 4), START, START + 4, 0.10)
    assert not is_steady(halves(5300, 4700, 4), START, START + 4, 0.10)
    assert is_steady(halves(5300, 4700, 4), START, START + 4, 0.15)


def test_small_counts_get_the_poisson_noise_allowance():
    # 100 interactions: 10 % of the mean half is 5, but 3 sigma of a Poisson count is 30.
    allowed = NOISE_SIGMAS * math.sqrt(100)
    assert allowed > 0.10 * 100 / 2
    assert is_steady(halves(65, 35, 4), START, START + 4, 0.10)  # differ by 30
    assert not is_steady(halves(66, 34, 4), START, START + 4, 0.10)  # differ by 32
    assert window_verdict(halves(65, 35, 4), START, START + 4, rule()) == "rule"


@pytest.mark.parametrize(
    ("min_s", "max_s"), [(0, 5), (-1, 5), (6, 5), (1, math.inf), (1, math.nan)]
)
def test_a_rule_needs_0_lt_min_s_le_max_s_finite(min_s, max_s):
    with pytest.raises(ValueError, match="min_s"):
        WindowRule(min_s, max_s)


@pytest.mark.parametrize(
    ("min_interactions", "tolerance"), [(-1, 0.1), (0, 0.0), (0, 1.0), (0, -0.1)]
)
def test_a_rule_refuses_a_negative_minimum_or_a_tolerance_outside_0_1(min_interactions, tolerance):
    with pytest.raises(ValueError, match="min_interactions"):
        WindowRule(1, 2, min_interactions, tolerance)


def test_a_fixed_window_has_min_and_max_the_same():
    fixed = WindowRule.fixed(5)
    assert (fixed.min_s, fixed.max_s, fixed.min_interactions) == (5, 5, 0)
    assert window_verdict([], START, START + 4.9, fixed.as_dict()) is None
    assert window_verdict([], START, START + 5, fixed.as_dict()) == "capped"


def spec(**changes) -> LoadSpec:
    fields = {
        "scenario": "api_single",
        "base_url": "http://127.0.0.1:1",
        "steps": (1, 4),
        "warmup_s": 1.0,
        "rule": WindowRule(1, 3),
        "cores": (0,),
        "payload_file": Path("payloads.json"),
        "out_prefix": Path("level"),
    }
    return LoadSpec(**(fields | changes))


@pytest.mark.parametrize("steps", [(), (0,), (4, 0), (-1,)])
def test_a_spec_needs_one_or_more_steps_of_at_least_one_user(steps):
    with pytest.raises(ValueError, match="steps"):
        spec(steps=steps)


def test_a_spec_refuses_a_negative_warm_up():
    with pytest.raises(ValueError, match="warm-up"):
        spec(warmup_s=-0.5)


@pytest.mark.parametrize(("steps", "rate"), [((1, 4), 10.0), ((2,), 10.0), ((1,), 0.0)])
def test_an_open_loop_spec_is_one_step_of_one_user_at_a_positive_rate(steps, rate):
    with pytest.raises(ValueError, match="open-loop"):
        spec(steps=steps, rate=rate)
    assert spec(steps=(1,), rate=10.0).rate == 10.0


def test_the_bound_of_a_run_grows_with_its_steps():
    assert spec(steps=(1, 4)).longest_s > spec(steps=(1,)).longest_s > spec().rule.max_s


def test_the_locust_side_is_told_the_steps_and_the_rule():
    setting = steps_setting(spec(warm_each_step=False), Path("level.steps.jsonl"))
    assert setting["steps"] == [1, 4]
    assert setting["rule"] == {
        "min_s": 1,
        "max_s": 3,
        "min_interactions": 0,
        "steady_tolerance": 0.10,
    }
    assert setting["warm_each_step"] is False
    assert setting["boundaries"] == "level.steps.jsonl"


def test_a_server_is_dead_from_the_first_sample_that_no_longer_sees_it():
    from bench.load.window import death_time
    from bench.measure.sampler import Sample

    def at(t: float, processes: int) -> Sample:
        return Sample(t, 0.0, 0, 0, processes)

    assert death_time([at(0, 0), at(1, 3), at(2, 3), at(3, 0), at(4, 0)]) == 3
    assert death_time([at(1, 3), at(2, 3)]) == float("inf")  # never seen gone
    assert death_time([]) == float("inf")
