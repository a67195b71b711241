"""The SLO search on synthetic targets: no server, no timing."""

import math

import pytest

from bench.measure.slo import (
    API_SLO,
    API_SLO_MS,
    MET,
    UI_SLO,
    UI_SLO_MS,
    Slo,
    Stop,
    Trial,
    search_max_rate,
)


def target(capacity, interactions=1000, failures=0, late_sends=0):
    """A server whose p99 is 5 ms below `capacity` requests/s and 10 s above it."""

    def measure(rate):
        p99 = 5.0 if rate <= capacity else 10_000.0
        return Trial(rate, p99, interactions, failures, late_sends)

    return measure


def test_the_default_bounds():
    assert (API_SLO.p99_ms, UI_SLO.p99_ms) == (API_SLO_MS, UI_SLO_MS) == (100.0, 500.0)


@pytest.mark.parametrize("capacity", [7.0, 100.0, 333.0, 5000.0])
def test_the_rate_found_is_within_the_tolerance_below_the_capacity_and_confirmed(capacity):
    result = search_max_rate(target(capacity), API_SLO, start_rate=5.0, tolerance=0.1, max_steps=20)
    assert result.confirmed
    assert result.stopped is Stop.CONVERGED
    assert capacity * 0.9 <= result.rate <= capacity
    assert result.trials[-1].rate == result.rate and result.trials[-1].met
    assert all(t.met == (t.rate <= capacity) for t in result.trials)


def test_the_search_doubles_then_bisects_then_repeats():
    rates = [t.rate for t in search_max_rate(target(100.0), API_SLO, 10.0).trials]
    assert rates[:5] == [10.0, 20.0, 40.0, 80.0, 160.0]  # bracket: the first miss is 160
    assert rates[5:8] == [120.0, 100.0, 110.0]  # bisect until 100 and 110 are within 10 %
    assert rates[8:] == [100.0]  # the repeat


def test_a_target_that_misses_at_the_lowest_rate_has_no_sustainable_rate():
    result = search_max_rate(target(1.0), API_SLO, start_rate=10.0)
    assert result.rate is None and not result.confirmed
    assert result.stopped is Stop.LOWEST_RATE_MISSED
    assert len(result.trials) == 1 and result.trials[0].verdict.startswith("p99 10000.0 ms")


def test_a_missed_confirmation_steps_down_and_confirms_again():
    seen = []

    def flaky(rate):
        # Passes up to 100/s, except that its first repeat of any rate misses.
        first_repeat = rate in seen and len(seen) == len(set(seen))
        seen.append(rate)
        return Trial(rate, 5.0 if rate <= 100 and not first_repeat else 10_000.0, 1000, 0, 0)

    result = search_max_rate(flaky, API_SLO, start_rate=10.0, tolerance=0.1)
    assert [(t.rate, t.met) for t in result.trials[-3:]] == [(110, False), (100, False), (90, True)]
    assert result.rate == 90.0 and result.confirmed


def test_no_confirmation_at_all_gives_no_rate():
    def unsteady(rate):
        unsteady.calls += 1
        return Trial(rate, 5.0 if unsteady.calls <= 5 else 10_000.0, 1000, 0, 0)

    unsteady.calls = 0
    result = search_max_rate(
        unsteady, API_SLO, 10.0, max_rate=1000.0, max_steps=5, max_confirmations=3
    )
    assert result.rate is None and not result.confirmed
    assert len(result.trials) == 5 + 3


def test_the_maximum_rate_stops_the_bracket():
    result = search_max_rate(target(1e9), API_SLO, start_rate=10.0, max_rate=50.0)
    assert [t.rate for t in result.trials] == [10.0, 20.0, 40.0, 50.0, 50.0]
    assert result.rate == 50.0 and result.confirmed and result.stopped is Stop.MAX_RATE


def test_trials_with_too_few_samples_never_pass():
    result = search_max_rate(target(1e9, interactions=99), API_SLO, start_rate=10.0)
    assert result.rate is None
    assert result.trials[0].verdict == "not enough samples: 99 interactions < 100"
    assert not Trial(10.0, 1.0, 99, 0, 0, API_SLO.judge(Trial(10.0, 1.0, 99, 0, 0))).met


def test_failures_past_their_allowance_miss():
    slo = Slo(100.0, failure_allowance=0.01)
    assert slo.judge(Trial(1, 5.0, 1000, 10, 0)) == MET
    assert slo.judge(Trial(1, 5.0, 1000, 11, 0)) == "failures: 11 of 1000"
    assert slo.judge(Trial(1, math.nan, 1000, 0, 0)).startswith("p99 nan")
    assert API_SLO.judge(Trial(1, 5.0, 1000, 1, 0)) == MET  # 0.1 % allowed by default
    assert API_SLO.judge(Trial(1, 5.0, 1000, 2, 0)) != MET


def test_late_sends_never_fail_a_pass_but_mark_a_miss_as_the_generators():
    slo = Slo(100.0, late_send_allowance=0.05)
    assert slo.judge(Trial(1, 5.0, 1000, 0, 900)) == MET  # the lateness is in the latency
    assert slo.judge(Trial(1, 500.0, 1000, 0, 50)) == "p99 500.0 ms > 100 ms"
    assert slo.judge(Trial(1, 500.0, 1000, 0, 51)) == (
        "load generator behind: 51 of 1000 sent late; p99 500.0 ms > 100 ms"
    )

    def behind_above_100(rate):
        return Trial(rate, 5.0 if rate <= 100 else 500.0, 1000, 0, 0 if rate <= 100 else 500)

    assert search_max_rate(behind_above_100, API_SLO, 10.0).generator_bound
    assert not search_max_rate(target(100.0), API_SLO, 10.0).generator_bound


def test_a_trial_the_generator_fell_behind_in_is_void_and_the_search_goes_no_higher():
    def behind_above_100(rate):
        return Trial(rate, 5.0 if rate <= 100 else 500.0, 1000, 0, 0 if rate <= 100 else 500)

    result = search_max_rate(behind_above_100, API_SLO, 10.0)
    # 10, 20, 40, 80 met; 160 void: no bisection toward it, 80 is a lower bound, confirmed.
    assert [t.rate for t in result.trials] == [10.0, 20.0, 40.0, 80.0, 160.0, 80.0]
    assert result.stopped is Stop.GENERATOR_BEHIND and result.rate == 80.0 and result.confirmed
    # A miss the generator kept up with is the server's: the search bisects toward it.
    plain = search_max_rate(target(100.0), API_SLO, 10.0)
    assert plain.stopped is Stop.CONVERGED and 90.0 <= (plain.rate or 0) <= 100.0

    def behind_in_bisection(rate):
        behind = 110 < rate < 190
        return Trial(rate, 500.0 if rate > 100 else 5.0, 1000, 0, 500 if behind else 0)

    bisected = search_max_rate(behind_in_bisection, API_SLO, 25.0)
    # 25, 50, 100 met, 200 missed (the server's), 150 void: no further bisection.
    assert [t.rate for t in bisected.trials] == [25.0, 50.0, 100.0, 200.0, 150.0, 100.0]
    assert bisected.stopped is Stop.GENERATOR_BEHIND and bisected.rate == 100.0


@pytest.mark.parametrize("max_steps", [1, 2, 3, 5, 8, 13])
def test_the_step_budget_is_respected_and_a_larger_one_never_does_worse(max_steps):
    result = search_max_rate(target(730.0), API_SLO, 1.0, max_steps=max_steps)
    assert len(result.trials) <= max_steps + 3
    more = search_max_rate(target(730.0), API_SLO, 1.0, max_steps=max_steps + 1)
    assert (more.rate or 0) >= (result.rate or 0)
    if result.stopped is Stop.STEP_BUDGET:
        assert len([t for t in result.trials if t.rate != result.rate]) <= max_steps


@pytest.mark.parametrize(
    "arguments",
    [
        {"start_rate": 0.0},
        {"start_rate": math.nan},
        {"start_rate": 10.0, "max_rate": 5.0},
        {"start_rate": 10.0, "tolerance": 0.0},
        {"start_rate": 10.0, "tolerance": 1.0},
        {"start_rate": 10.0, "max_steps": 0},
    ],
)
def test_bad_search_settings_are_refused(arguments):
    with pytest.raises(ValueError):
        search_max_rate(target(100.0), API_SLO, **arguments)


@pytest.mark.parametrize(
    "settings",
    [{"p99_ms": 0}, {"p99_ms": math.inf}, {"min_interactions": 0}, {"failure_allowance": 1.0}],
)
def test_bad_objectives_are_refused(settings):
    with pytest.raises(ValueError):
        Slo(**{"p99_ms": 100.0, **settings})
