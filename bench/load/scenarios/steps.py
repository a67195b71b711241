"""Locust's side of a stepped load run: one process holds each level in turn (Locust's
LoadTestShape), and records where each step's warm-up and window began and ended.

Every locustfile imports `Steps`, so that Locust finds it. The runner gives the steps, the
warm-up and the window rule in STEPS_ENV (bench.load.spec.steps_setting). For each step:
  1. set-up: the step's users are started; it is over once each new user has set up (logged a
     "page load" or "connect"), or, in a scenario without set-up, once an interaction came;
  2. warm-up: `warmup_s` of load that is not recorded;
  3. window: recorded until bench/load/scenarios/window_rule.py says it may end.
The process that runs the shape (the single Locust process, or a distributed run's master, which
hears of every worker's requests with its stats reports) writes one JSON line per step to the
boundaries file, then starts the next step; after the last it quits. The runner cuts each window
from the per-request log with those boundaries.

Run by hand without STEPS_ENV, Steps holds --users until --run-time is over.
"""

from __future__ import annotations

import json
import os
import signal
import time
from dataclasses import dataclass, field
from typing import Any

import gevent
from locust import LoadTestShape
from locust.runners import WORKER_REPORT_INTERVAL, MasterRunner

from bench.load.scenarios import INTERACTIONS, SET_UP, STEPS_ENV
from bench.load.scenarios.window_rule import is_steady, window_verdict

# How often the steps are checked: the precision of a window's end.
CHECK_INTERVAL_S = 0.25
# A master hears of its workers' requests with their stats reports, up to this late: it judges
# (and ends) a window only up to that long ago, by when it has heard of all of it.
REPORT_LAG_S = WORKER_REPORT_INTERVAL + 1.0


@dataclass
class _Step:
    users: int
    added: int
    started: float
    setups: int = 0
    interactions: int = 0
    ready_at: float | None = None
    window_start: float | None = None
    ends: list[float] = field(default_factory=list)
    failed_ends: list[float] = field(default_factory=list)


class _Tracker:
    """The state of the stepped run, fed with every request the shape's process logs."""

    def __init__(self, setting: dict[str, Any], lag_s: float) -> None:
        self.setting = setting
        self.lag_s = lag_s
        self.index = 0
        self.step: _Step | None = None
        self.setups_ever = 0
        self.done = False
        self.boundaries = open(setting["boundaries"], "w", buffering=1)  # noqa: SIM115

    def begin(self, now: float) -> int:
        """Start the current step; return its users."""
        steps = self.setting["steps"]
        previous = steps[self.index - 1] if self.index else 0
        users = steps[self.index]
        self.step = _Step(users=users, added=max(0, users - previous), started=now)
        return users

    def observe(self, name: str, start: float, ms: float, ok: bool) -> None:
        step = self.step
        if step is None:
            return
        if name in SET_UP:
            self.setups_ever += 1
            step.setups += 1
        elif name in INTERACTIONS:
            step.interactions += 1
            (step.ends if ok else step.failed_ends).append(start + ms / 1000)

    def check(self, now: float) -> None:
        step = self.step
        if step is None or self.done:
            return
        if step.ready_at is None:
            self._check_setup(step, now)
            return
        heard_until = now - self.lag_s
        if heard_until >= step.window_start:
            rule = self.setting["rule"]
            ended = window_verdict(step.ends, step.window_start, heard_until, rule)
            if ended:
                self._record(step, heard_until, ended)

    def _check_setup(self, step: _Step, now: float) -> None:
        set_up = step.setups >= step.added if self.setups_ever else step.interactions > 0
        if set_up and _running_users() >= step.users:
            step.ready_at = now
            warm = self.index == 0 or self.setting["warm_each_step"]
            step.window_start = now + (self.setting["warmup_s"] if warm else 0.0)
        elif now - step.started > self.setting["setup_s"]:
            self._write(step, now, now, "no_setup", False)
            self.done = True

    def _record(self, step: _Step, now: float, ended: str) -> None:
        tolerance = self.setting["rule"]["steady_tolerance"]
        steady = is_steady(step.ends, step.window_start, now, tolerance)
        self._write(step, step.window_start, now, ended, steady)
        self.index += 1
        self.step = None
        self.done = self.index >= len(self.setting["steps"])

    def _write(self, step: _Step, start: float, end: float, ended: str, steady: bool) -> None:
        record = {
            "step": self.index,
            "users": step.users,
            "started": step.started,
            "ready_at": step.ready_at,
            "window_start": start,
            "window_end": end,
            "ended": ended,
            "steady": steady,
            # Counts for progress while the run goes on; the figures come from the log.
            "interactions": sum(start <= at < end for at in step.ends),
            "failures": sum(start <= at < end for at in step.failed_ends),
        }
        self.boundaries.write(json.dumps(record) + "\n")
        self.boundaries.flush()


_tracker: _Tracker | None = None
_runner: Any = None


def observe(name: str, start: float, ms: float, ok: bool) -> None:
    """Called by support.py for every request the shape's process logs."""
    if _tracker is not None:
        _tracker.observe(name, start, ms, ok)


def _running_users() -> int:
    return _runner.user_count if _runner is not None else 0


def _watch(tracker: _Tracker) -> None:
    while not tracker.done:
        step = tracker.step
        tracker.check(time.time())
        if tracker.step is None and step is not None and not tracker.done:
            _advance(tracker)
        gevent.sleep(CHECK_INTERVAL_S)


def _advance(tracker: _Tracker) -> None:
    """Start the next step as soon as the last one is recorded: Locust asks the shape for its
    users only once a second, which would idle up to a second between every two steps. The
    shape's next tick then finds its answer already applied (shape_last_tick), so Locust does
    not start the same users twice."""
    users = tracker.begin(time.time())
    answer = (users, _spawn_rate(users))
    _runner.start(*answer)
    _runner.shape_last_tick = answer


def _spawn_rate(users: int) -> float:
    # Locust spawns `spawn_rate` users per dispatch, a second apart: all of a step's at once.
    return float(max(users, 1))


class Steps(LoadTestShape):
    use_common_options = True  # by hand (no STEPS_ENV) it holds --users for --run-time

    def tick(self) -> tuple[int, float] | None:
        global _tracker, _runner
        _runner = self.runner
        setting = os.environ.get(STEPS_ENV)
        if not setting:
            return self._by_hand()
        master = isinstance(self.runner, MasterRunner)
        if _tracker is None:
            _tracker = _Tracker(json.loads(setting), lag_s=REPORT_LAG_S if master else 0.0)
            # Locust installs its SIGTERM handler only once the shape has ended: until then the
            # runner's SIGTERM (bench.load.locust.stop_locust) would kill this process with its
            # request log unflushed. Taken as Ctrl-C, it ends the run by Locust's own path (quit,
            # the quitting event that flushes the log, the summary), even where SIGINT is ignored.
            signal.signal(signal.SIGTERM, signal.default_int_handler)
            gevent.spawn(_watch, _tracker)
        if _tracker.done:
            if master:  # the workers' last lines, before Locust's quit (which waits 0.5 s)
                from bench.load.scenarios.support import quit_workers_and_await_their_last_reports

                quit_workers_and_await_their_last_reports(self.runner)
            return None
        if _tracker.step is None:
            users = _tracker.begin(time.time())
            return users, _spawn_rate(users)
        return _tracker.step.users, _spawn_rate(_tracker.step.users)

    def _by_hand(self) -> tuple[int, float] | None:
        options = self.runner.environment.parsed_options
        run_time = getattr(options, "run_time", None)
        if run_time and self.get_run_time() > run_time:
            return None
        users = getattr(options, "num_users", None) or 1
        return users, float(getattr(options, "spawn_rate", None) or users)
