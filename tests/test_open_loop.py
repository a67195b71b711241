"""The open-loop schedule and scheduler in this process (gevent without Locust), and the
counting of late sends and of a trial's figures from a request log."""

import itertools
import math
import statistics
import time

import gevent
import pytest

from bench.load.scenarios import ARRIVALS_ENV, INTERACTIONS, LATE_SEND, RATE_ENV
from bench.load.scenarios import open_loop as open_loop_module
from bench.load.scenarios.open_loop import (
    LATE_SEND_TOLERANCE_MS,
    OpenLoop,
    arrival_offsets,
    claim_schedule,
    schedule_from_env,
)
from bench.measure.metrics import Request, Window, late_sends
from bench.measure.slo import trial_from_log


def first(offsets, count):
    return list(itertools.islice(offsets, count))


def test_poisson_gaps_have_mean_one_over_the_rate_and_repeat_with_the_seed():
    offsets = first(arrival_offsets(50.0, "poisson"), 20_000)
    gaps = [b - a for a, b in itertools.pairwise([0.0, *offsets])]
    assert statistics.fmean(gaps) == pytest.approx(1 / 50, rel=0.05)
    # Exponential gaps: the spread equals the mean (constant gaps would have none).
    assert statistics.stdev(gaps) == pytest.approx(1 / 50, rel=0.1)
    assert all(g >= 0 for g in gaps)
    assert first(arrival_offsets(50.0, "poisson"), 100) == offsets[:100]
    assert first(arrival_offsets(50.0, "poisson", seed=1), 100) != offsets[:100]


def test_constant_arrivals_are_exactly_one_over_the_rate_apart():
    assert first(arrival_offsets(4.0, "constant"), 5) == [0.0, 0.25, 0.5, 0.75, 1.0]
    # i / rate, not a running sum: no rounding error builds up over a long run.
    assert first(arrival_offsets(3.0, "constant"), 30_001)[-1] == 10_000.0


@pytest.mark.parametrize("rate", [0, -1, math.nan, math.inf, "50"])
def test_a_bad_rate_is_refused(rate):
    with pytest.raises(ValueError, match="positive number"):
        arrival_offsets(rate, "poisson")


def test_unknown_arrivals_are_refused():
    with pytest.raises(ValueError, match="poisson, constant"):
        arrival_offsets(10.0, "bursty")


def test_the_schedule_comes_from_the_environment():
    offsets = schedule_from_env({RATE_ENV: "2", ARRIVALS_ENV: "constant"})
    assert first(offsets, 3) == [0.0, 0.5, 1.0]
    default = schedule_from_env({RATE_ENV: "2"})  # poisson when not said
    assert first(default, 50) == first(arrival_offsets(2.0, "poisson"), 50)
    for env in ({}, {RATE_ENV: "fast"}):
        with pytest.raises(ValueError, match=RATE_ENV):
            schedule_from_env(env)


def test_only_one_user_per_process_may_claim_the_schedule(monkeypatch):
    monkeypatch.setattr(open_loop_module, "_schedule_claimed", False)
    claim_schedule({RATE_ENV: "5"})
    with pytest.raises(ValueError, match="--users 1"):
        claim_schedule({RATE_ENV: "5"})


class Recorder:
    """Stands for Locust's request event."""

    def __init__(self):
        self.reports = []

    def fire(self, **report):
        self.reports.append(report)

    def named(self, name):
        return [r for r in self.reports if r["name"] == name]


def run_for(loop, offsets, seconds):
    """Run the open loop for `seconds`, then stop it as Locust's stop does."""
    runner = gevent.spawn(loop.run, offsets)
    gevent.sleep(seconds)
    runner.kill()
    loop.stop()


def test_each_request_is_reported_from_when_it_was_due():
    event = Recorder()
    loop = OpenLoop(event, "predict", "POST", lambda: gevent.sleep(0.05), max_in_flight=100)
    before = time.time()
    run_for(loop, arrival_offsets(100.0, "constant"), 0.3)
    done = [r for r in event.named("predict") if r["exception"] is None]
    assert len(done) >= 5
    starts = sorted(r["start_time"] for r in done)
    assert starts[0] >= before
    # Logged start times are the schedule's, exactly 10 ms apart, not the sends'.
    assert [round(b - a, 6) for a, b in itertools.pairwise(starts)] == [0.01] * (len(starts) - 1)
    assert all(r["response_time"] >= 50 for r in done)


def test_requests_past_the_cap_are_dropped_and_those_in_flight_at_stop_are_unfinished():
    event = Recorder()
    loop = OpenLoop(event, "predict", "POST", lambda: gevent.sleep(60), max_in_flight=2)
    run_for(loop, arrival_offsets(1000.0, "constant"), 0.1)
    errors = [type(r["exception"]).__name__ for r in event.named("predict")]
    assert errors.count("Unfinished") == 2
    assert errors.count("DroppedAtCap") >= 1
    assert set(errors) == {"Unfinished", "DroppedAtCap"}
    assert loop.in_flight == {}


def test_a_blocked_generator_logs_late_sends():
    event = Recorder()
    # time.sleep is not patched here: it blocks the whole loop, as a CPU-bound generator would.
    loop = OpenLoop(event, "predict", "POST", lambda: time.sleep(0.02), max_in_flight=100)
    run_for(loop, arrival_offsets(1000.0, "constant"), 0.2)
    late = event.named(LATE_SEND)
    assert len(late) >= 5
    assert all(r["response_time"] > LATE_SEND_TOLERANCE_MS and r["exception"] is None for r in late)
    assert LATE_SEND not in INTERACTIONS


def test_a_failing_interaction_is_a_failed_report_not_a_crash():
    def fail():
        raise ConnectionRefusedError("no server")

    event = Recorder()
    run_for(OpenLoop(event, "rerun", "WS", fail, 10), arrival_offsets(200.0, "constant"), 0.1)
    errors = [type(r["exception"]).__name__ for r in event.named("rerun")]
    # Those sent before the stop failed; one due just then may not have been sent.
    assert errors.count("ConnectionRefusedError") >= 5
    assert set(errors) <= {"ConnectionRefusedError", "Unfinished"}


def log(*rows):
    return [Request(start, name, ms, ok, "" if ok else "X: y") for start, name, ms, ok in rows]


def test_late_sends_are_counted_by_when_they_were_due():
    requests = log(
        (99.9, LATE_SEND, 5.0, True),  # due before the window
        (100.1, LATE_SEND, 5.0, True),
        (100.2, "predict", 3.0, True),
        (100.9, LATE_SEND, 300.0, True),  # due inside, sent after the end: still counted
        (101.0, LATE_SEND, 1.0, True),  # due at the end: outside
    )
    assert late_sends(requests, Window(100.0, 101.0)) == 2
    assert late_sends(log((100.5, "predict", 3.0, True)), Window(100.0, 101.0)) == 0


def test_a_trial_counts_every_interaction_due_in_the_window_answered_or_not():
    window = Window(100.0, 102.0)
    answered = log(*((100.0 + i / 100, "predict", 2.0, True) for i in range(198)))
    unfinished = log((101.99, "predict", 900.0, False))  # ends after the window: still counted
    before = log((99.5, "predict", 2.0, True))
    setup = log((100.5, "connect", 50.0, True))
    late = log((100.5, LATE_SEND, 4.0, True))
    trial = trial_from_log(100.0, answered + unfinished + before + setup + late, window)
    assert (trial.interactions, trial.failures, trial.late_sends) == (199, 1, 1)
    assert trial.p99_ms == pytest.approx(2.0)
    assert math.isnan(trial_from_log(1.0, unfinished, window).p99_ms)


def test_each_trial_seed_draws_its_own_arrivals():
    from bench.load.scenarios import ARRIVAL_SEED_ENV

    seeded = {seed: first(schedule_from_env({RATE_ENV: "2", ARRIVAL_SEED_ENV: seed}), 20)
              for seed in ("1", "2")}  # fmt: skip
    assert seeded["1"] != seeded["2"]
    assert seeded["1"] == first(arrival_offsets(2.0, "poisson", 1), 20)
    with pytest.raises(ValueError, match=ARRIVAL_SEED_ENV):
        schedule_from_env({RATE_ENV: "2", ARRIVAL_SEED_ENV: "x"})
