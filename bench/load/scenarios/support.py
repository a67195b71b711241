"""What every locustfile shares: request bodies with their expected answers, and a per-request log.

Locust's own summary rounds response times to two significant digits; the runner computes
percentiles from this log instead, one line per request with its exact time.

One process writes the log: the single Locust process, or a distributed run's master. A worker
(on this host or another) writes no file: it attaches the lines of its requests to the stats
report it sends its master every few seconds, and the master appends them to its log with the
worker's index in a last column, so that the master's log holds every worker's requests.
"""

from __future__ import annotations

import atexit
import itertools
import json
import logging
import os
import random
import time
from collections.abc import Iterator
from functools import cache
from typing import Any

import gevent
from locust import events
from locust.runners import STATE_STOPPED, MasterRunner, WorkerRunner

from bench.load.peer_auth import log_line_problem
from bench.load.scenarios import (
    INCOMPLETE_LOG_EXIT_CODE,
    PAYLOADS_ENV,
    REQUEST_LOG_ENV,
    peers,
    steps,
)
from bench.load.scenarios.peers import (
    GUARD,
    LAST_REPORT_KEY,
    REQUEST_LOG_KEY,
)

peers.install()

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

        from bench.clients.payloads import write_payload_file
        from shared_model.model import load_model

        target = Path(tempfile.mkdtemp()) / "payloads.json"
        write_payload_file(load_model(), target)
        pools = json.loads(target.read_text())
    for pool in pools.values():
        for item in pool:
            item["encoded"] = json.dumps(item["body"]).encode()
    return pools


LOG_HEADER = "start,name,ms,ok,error"
# A distributed run's log: the Locust index of the worker that sent each request (0, 1, ...).
DISTRIBUTED_LOG_HEADER = LOG_HEADER + ",worker"
# How long a master waits for its workers' last reports after telling them to quit. Locust's own
# quit waits half a second, which a worker stopping many users or far away can overrun.
LAST_REPORTS_TIMEOUT_S = 10.0


def _open_request_log(header: str) -> Any:
    path = os.environ.get(REQUEST_LOG_ENV)
    if not path:
        return None
    handle = open(path, "w", buffering=1 << 16)  # noqa: SIM115 - closed at exit
    handle.write(header + "\n")
    atexit.register(handle.close)
    return handle


# The log file of the single process or the master; None in a worker.
_log: Any = None
# A worker's log lines not yet sent to its master; None elsewhere.
_unsent: list[str] | None = None
# The master's bookkeeping: the workers it told to quit, and those whose last report came.
_quit_workers: set[str] = set()
_last_reports: set[str] = set()

_environment: Any = None
# A worker's stats reports, numbered so that the master can refuse a replayed one.
_reports_sent = 0


def quit_workers_and_await_their_last_reports(runner: MasterRunner) -> None:
    """MasterRunner.quit's first half (stop dispatching, tell every worker to quit), then a wait
    for each worker's last report instead of its fixed half second.

    A worker told to quit stops its users, sends a last report (with its last log lines) and only
    then its "quit"; once the last worker's "quit" arrives, Locust ends the master by itself.
    """
    runner.stop(send_stop_to_client=False)
    _quit_workers.update(client.id for client in runner.clients.all)
    runner.send_message("quit")
    deadline = time.monotonic() + LAST_REPORTS_TIMEOUT_S
    while not _quit_workers <= _last_reports and time.monotonic() < deadline:
        gevent.sleep(0.05)


def _request_line(name: str, response_time: float, exception: Any, start_time: float) -> str:
    error = "" if exception is None else type(exception).__name__ + ": " + str(exception)[:80]
    # One CSV field on one line, whatever the exception said (a master splits at newlines).
    error = "".join(c if c.isprintable() else " " for c in error).replace(",", ";")
    return f"{start_time:.6f},{name},{response_time:.3f},{int(exception is None)},{error}"


@events.request.add_listener
def _log_request(
    name: str, response_time: float, exception: Any, start_time: float = 0.0, **_: Any
) -> None:
    if _unsent is not None:
        line = _request_line(name, response_time, exception, start_time)
        _unsent.append(f"{line},{_environment.runner.worker_index}\n")
    elif _log is not None:
        _log.write(_request_line(name, response_time, exception, start_time) + "\n")
        steps.observe(name, start_time, response_time, exception is None)


@events.report_to_master.add_listener
def _send_log_lines(data: dict[str, Any], **_: Any) -> None:
    """A worker's side: its lines ride, signed, on the stats report Locust sends every few
    seconds."""
    global _reports_sent
    if _unsent is None:
        return
    data[REQUEST_LOG_KEY] = "".join(_unsent)
    _unsent.clear()
    # A worker told to quit stops its users, then sends one last report: nothing follows it.
    data[LAST_REPORT_KEY] = _environment.runner.state == STATE_STOPPED
    _reports_sent += 1
    peers.sign_report(data, _environment.runner.client_id, _reports_sent)


@events.worker_report.add_listener
def _append_log_lines(client_id: str, data: dict[str, Any], **_: Any) -> None:
    """The master's side: each report's lines go to the one log, as they arrive, once checked
    (the master's guard has checked the report's signature) and given the index the master
    knows the worker by."""
    if _log is not None:
        index = _environment.runner.get_worker_index(client_id)
        for line in filter(None, data.get(REQUEST_LOG_KEY, "").split("\n")):
            problem = log_line_problem(line)
            if problem:
                GUARD.refuse(client_id, "request-log line", problem)
            else:
                _log.write(f"{line.rsplit(',', 1)[0]},{index}\n")
                start, name, ms, ok = line.split(",", 4)[:4]
                steps.observe(name, float(start), float(ms), ok == "1")
    if data.get(LAST_REPORT_KEY):
        _last_reports.add(client_id)


@events.init.add_listener
def _prepare(environment: Any, **_: Any) -> None:
    global _environment, _log, _unsent
    _environment = environment
    runner = environment.runner
    if isinstance(runner, MasterRunner):
        # A master runs no users (so needs no request bodies).
        _log = _open_request_log(DISTRIBUTED_LOG_HEADER)
    elif isinstance(runner, WorkerRunner):
        _unsent = []
        _pools()
    else:
        _log = _open_request_log(LOG_HEADER)
        _pools()
    # Imports and file reads above block gevent's loop before it first runs; its cached clock
    # would then end Locust's --run-time that much too early. (Init runs in every process: the
    # single one, a master and each worker.)
    gevent.get_hub().loop.update_now()


@events.quitting.add_listener
def _flush(environment: Any, **_: Any) -> None:
    missing = _quit_workers - _last_reports
    if missing:
        # The log lacks those workers' last lines: the run must not pass for complete.
        runner = environment.runner
        named = (f"{worker} (index {runner.get_worker_index(worker)})" for worker in missing)
        logging.error(
            "request log incomplete: no last report from worker(s) %s", ", ".join(sorted(named))
        )
        environment.process_exit_code = INCOMPLETE_LOG_EXIT_CODE
    if _log is not None:
        _log.flush()
