"""Open-loop load: requests sent at the arrival times of a fixed-rate schedule, whatever the
server answers, each timed from the moment it was due.

A closed-loop user waits for each answer before it sends again, so a stalled server also stalls
the load and only one request per user sees the stall ("coordinated omission", see wrk2). Here
the schedule runs on regardless: every request due during a stall waits, and its latency counts
the wait. Locust has no open-loop mode; the *_open.py locustfiles build one from a single Locust
user (run them with --users 1) whose task runs an OpenLoop: each arrival gets its own greenlet,
and is reported through Locust's request event under its interaction's name with start_time =
when it was due, so the per-request log (support.py) and bench/measure/metrics.py read it unchanged.

No locust import here (gevent only), so the schedule can be tested without patching a process.
"""

from __future__ import annotations

import itertools
import logging
import math
import os
import random
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import gevent

from bench.load.scenarios import (
    ARRIVAL_KINDS,
    ARRIVAL_SEED,
    ARRIVAL_SEED_ENV,
    ARRIVALS_ENV,
    LATE_SEND,
    RATE_ENV,
)

SEED = ARRIVAL_SEED
# A request whose greenlet starts later than this after it was due is logged as a late send:
# the load generator was behind its schedule (CPU-bound), so the offered rate was not met.
# gevent's timers wake up to 1 ms late by design (epoll waits in whole milliseconds): the
# tolerance is twice that, so that only a generator that is behind counts.
LATE_SEND_TOLERANCE_MS = 2.0


class DroppedAtCap(Exception):
    """The request was not sent: the cap on requests in flight was reached."""


class Unfinished(Exception):
    """The request had no answer yet when the run stopped."""


@dataclass(frozen=True)
class Due:
    """When a request is due, on both clocks: wall time for the log, perf_counter to time it."""

    wall: float
    perf: float


def arrival_offsets(rate: float, arrivals: str, seed: int = SEED) -> Iterator[float]:
    """Seconds from the start of the schedule at which each request is due, endlessly.

    "poisson": exponential gaps of mean 1/rate (seeded); "constant": exactly 1/rate apart.
    """
    if not (isinstance(rate, int | float) and math.isfinite(rate) and rate > 0):
        raise ValueError(f"the arrival rate must be a positive number of requests/s, not {rate!r}")
    if arrivals == "constant":
        return (index / rate for index in itertools.count())  # no summed rounding error
    if arrivals == "poisson":
        rng = random.Random(seed)
        return itertools.accumulate(rng.expovariate(rate) for _ in itertools.count())
    raise ValueError(f"arrivals must be one of {', '.join(ARRIVAL_KINDS)}, not {arrivals!r}")


def schedule_from_env(environ: Mapping[str, str] = os.environ) -> Iterator[float]:
    """The arrival offsets that RATE_ENV, ARRIVALS_ENV (default poisson) and ARRIVAL_SEED_ENV
    (default SEED) ask for."""
    text = environ.get(RATE_ENV, "")
    try:
        rate = float(text)
    except ValueError:
        raise ValueError(
            f"{RATE_ENV} must give the arrival rate in requests/s (e.g. 50), not {text!r}"
        ) from None
    seed = environ.get(ARRIVAL_SEED_ENV, str(SEED))
    if not seed.isdigit():
        raise ValueError(f"{ARRIVAL_SEED_ENV} must be a whole number, not {seed!r}")
    return arrival_offsets(rate, environ.get(ARRIVALS_ENV, "poisson"), int(seed))


_schedule_claimed = False


def claim_schedule(environ: Mapping[str, str] = os.environ) -> Iterator[float]:
    """The schedule from the environment, for the one user of this process that sends it all
    (a second user would double the rate): a locustfile's on_start calls it."""
    global _schedule_claimed
    if _schedule_claimed:
        raise ValueError(
            "an open-loop locustfile sends every arrival from one user: run it with --users 1"
        )
    schedule = schedule_from_env(environ)
    _schedule_claimed = True
    return schedule


def end_the_run(environment: Any, why: str) -> None:
    """Say why and end the whole Locust run now, with exit code 2: a bad setting is said once,
    not once per retry (a user's StopTest would end only that user). Called from a user, it
    does not return: the quit, run apart from the user, ends the user too."""
    logging.getLogger(__name__).error("open loop: %s", why)
    environment.process_exit_code = 2
    gevent.spawn(environment.runner.quit).join()


class OpenLoop:
    """Runs `interaction` once per arrival, each in its own greenlet, and reports each one.

    `interaction` raises to fail; it is timed from when it was due until it returns. At most
    `max_in_flight` run at once: an arrival beyond that is not sent and is reported as failed.
    """

    def __init__(
        self,
        request_event: Any,
        name: str,
        request_type: str,
        interaction: Callable[[], None],
        max_in_flight: int,
    ) -> None:
        self.request_event = request_event
        self.name = name
        self.request_type = request_type
        self.interaction = interaction
        self.max_in_flight = max_in_flight
        self.in_flight: dict[gevent.Greenlet, Due] = {}

    def run(self, offsets: Iterable[float]) -> None:
        """Send on schedule until the greenlet running this is killed (Locust's stop)."""
        wall_start, perf_start = time.time(), time.perf_counter()
        for offset in offsets:
            due = Due(wall_start + offset, perf_start + offset)
            # Yield even when behind, so that the requests already sent make progress.
            gevent.sleep(max(0.0, due.perf - time.perf_counter()))
            while (early := due.perf - time.perf_counter()) > 0:  # gevent's clock is cached
                gevent.sleep(early)
            if len(self.in_flight) >= self.max_in_flight:
                cap = DroppedAtCap(f"not sent: {self.max_in_flight} requests already in flight")
                self._report(self.name, due, cap)
                continue
            sender = gevent.spawn(self._send, due)
            self.in_flight[sender] = due

    def stop(self) -> None:
        """Report the requests still waiting as unfinished, then end them."""
        waiting = dict(self.in_flight)
        for due in waiting.values():
            self._report(self.name, due, Unfinished("no answer when the run stopped"))
        self.in_flight.clear()  # before the kill: a killed sender reports nothing
        gevent.killall(list(waiting), block=True)

    def _send(self, due: Due) -> None:
        late_ms = (time.perf_counter() - due.perf) * 1000
        if late_ms > LATE_SEND_TOLERANCE_MS:
            self._report(LATE_SEND, due, None)
        error: Exception | None = None
        try:
            self.interaction()
        except Exception as exc:  # every failure is a failed interaction, reported not raised
            error = exc
        if self.in_flight.pop(gevent.getcurrent(), None) is not None:
            self._report(self.name, due, error)

    def _report(self, name: str, due: Due, error: Exception | None) -> None:
        """One line of the request log; ms is the time since the request was due."""
        self.request_event.fire(
            request_type=self.request_type,
            name=name,
            response_time=(time.perf_counter() - due.perf) * 1000,
            response_length=0,
            exception=error,
            context={},
            start_time=due.wall,
        )
