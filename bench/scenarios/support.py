"""What every locustfile shares: request bodies with their expected answers, and a per-request log.

Locust's own summary rounds response times to two significant digits; the runner computes
percentiles from this log instead, one line per request with its exact time.
"""

from __future__ import annotations

import atexit
import itertools
import json
import os
import random
import time
from collections.abc import Iterator
from functools import cache
from typing import Any

import gevent
from locust import events

from bench.scenarios import INTERACTIONS, PAYLOADS_ENV, REQUEST_LOG_ENV, WINDOW_ENV

_offsets = random.Random(20220222)


def payloads(batch_size: int) -> Iterator[dict[str, Any]]:
    """An endless cycle of request bodies with their expected answers, each user starting at a
    different (seeded) place so that users do not move in lockstep."""
    pool = _pools()[str(batch_size)]
    return itertools.islice(itertools.cycle(pool), _offsets.randrange(len(pool)), None)


@cache
def _pools() -> dict[str, list[dict[str, Any]]]:
    path = os.environ.get(PAYLOADS_ENV)
    if path:
        pools = json.loads(open(path).read())  # noqa: SIM115
    else:  # run by hand: compute them here (this imports the model)
        import tempfile
        from pathlib import Path

        from bench.payloads import write_payload_file
        from shared_model.model import load_model

        target = Path(tempfile.mkdtemp()) / "payloads.json"
        write_payload_file(load_model(), target)
        pools = json.loads(target.read_text())
    for pool in pools.values():
        for item in pool:
            item["encoded"] = json.dumps(item["body"]).encode()
    return pools


def _open_request_log() -> Any:
    path = os.environ.get(REQUEST_LOG_ENV)
    if not path:
        return None
    handle = open(path, "w", buffering=1 << 16)  # noqa: SIM115 - closed at exit
    handle.write("start,name,ms,ok,error\n")
    atexit.register(handle.close)
    return handle


_log = _open_request_log()


_environment: Any = None
_stop_scheduled = False


@events.request.add_listener
def _stop_after_the_window(name: str, start_time: float = 0.0, **_: Any) -> None:
    """Quit once warm-up and window have passed since the first interaction was sent."""
    global _stop_scheduled
    if _stop_scheduled or name not in INTERACTIONS or not os.environ.get(WINDOW_ENV):
        return
    _stop_scheduled = True
    warmup_s, window_s = (float(x) for x in os.environ[WINDOW_ENV].split(","))
    # Requests in flight at the end of the window are let finish (they end inside it or not).
    delay = max(0.0, start_time + warmup_s + window_s + 0.5 - time.time())
    gevent.spawn_later(delay, _environment.runner.quit)


@events.request.add_listener
def _log_request(
    name: str, response_time: float, exception: Any, start_time: float = 0.0, **_: Any
) -> None:
    if _log is not None:
        error = "" if exception is None else type(exception).__name__ + ": " + str(exception)[:80]
        error = error.replace(",", ";").replace("\n", " ")
        _log.write(
            f"{start_time:.6f},{name},{response_time:.3f},{int(exception is None)},{error}\n"
        )


@events.init.add_listener
def _prepare(environment: Any, **_: Any) -> None:
    global _environment
    _environment = environment
    _pools()
    # Imports and file reads above block gevent's loop before it first runs; its cached clock
    # would then end Locust's --run-time that much too early.
    gevent.get_hub().loop.update_now()


@events.quitting.add_listener
def _flush(**_: Any) -> None:
    if _log is not None:
        _log.flush()
