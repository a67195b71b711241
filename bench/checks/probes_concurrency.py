"""The concurrency probe: can the server handle several requests at once?

Its result's shape is documented in bench/checks/probes.py.
"""

from __future__ import annotations

import contextlib
import select
import socket
import time
from dataclasses import dataclass, field
from typing import Any

import psutil

from bench.checks.probes_common import TIMEOUT_S, status_of
from bench.targets.servers import HOST, RunningDeployment, wait_until_idle

CHUNKS = 10  # pieces of the slow request; the last goes out request_seconds after the first
POLL_S = 0.005


@dataclass
class _SlowClient:
    sock: socket.socket
    port: int  # the client's local port: the server sees it as the remote port
    accepted_at: float | None = None
    chunks_sent: int = 0
    answer: bytearray = field(default_factory=bytearray)
    answered_at: float | None = None
    error: str | None = None

    @property
    def done(self) -> bool:
        return self.answered_at is not None or self.error is not None

    @property
    def status(self) -> int | None:
        return status_of(bytes(self.answer))


def probe_concurrency(
    running: RunningDeployment, clients: int = 4, request_seconds: float = 1.0
) -> dict[str, Any]:
    """Can the server handle several requests at once? Send `clients` requests that each keep
    their handler busy for request_seconds without using CPU, and time them.

    All connections are opened at once. Each request to the health path is dribbled in CHUNKS
    pieces over request_seconds, starting when the server has accepted that connection (seen
    in its process tree with psutil). Starting at accept matters: the kernel buffers bytes sent
    to a connection still waiting in the listen backlog, so a request dribbled from connect
    would be complete by the time a busy worker got to it, and a server handling one request
    at a time would look as fast as a concurrent one.

    One at a time, the wall time is at least clients x request_seconds; all at once, about
    request_seconds. overlapped is wall < (clients - 0.5) x request_seconds: at least half a
    request's time was saved, which needs two requests in the server at the same moment.
    all_at_once is wall < 1.5 x request_seconds: every request was in at the same time.
    """
    request = (
        f"GET {running.deployment.health_path} HTTP/1.1\r\nHost: {HOST}:{running.port}\r\n"
        "User-Agent: bench-concurrency-probe\r\nAccept: */*\r\nConnection: close\r\n\r\n"
    ).encode()
    pieces = [
        request[i * len(request) // CHUNKS : (i + 1) * len(request) // CHUNKS]
        for i in range(CHUNKS)
    ]
    settled = wait_until_idle(running)
    budget = clients * request_seconds + TIMEOUT_S
    slow: list[_SlowClient] = []
    try:
        for _ in range(clients):
            slow.append(_connect(running.port, budget))
        started = time.monotonic()
        _drive(running, slow, pieces, request_seconds, started + budget)
    finally:
        for client in slow:
            client.sock.close()
    result = _concurrency_result(running, slow, started, clients, request_seconds)
    return {**result, "settle_seconds": round(settled, 2)}


def _connect(port: int, timeout_s: float) -> _SlowClient:
    sock = socket.create_connection((HOST, port), timeout=timeout_s)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # each piece goes out at once
    return _SlowClient(sock, sock.getsockname()[1])


def _drive(
    running: RunningDeployment,
    slow: list[_SlowClient],
    pieces: list[bytes],
    request_seconds: float,
    deadline: float,
) -> None:
    """One loop: notice accepts, send the pieces that are due, read the answers."""
    interval = request_seconds / (len(pieces) - 1)
    while not all(c.done for c in slow):
        now = time.monotonic()
        if now > deadline:
            for client in slow:
                if not client.done:
                    client.error = "not answered before the deadline" + (
                        "" if client.accepted_at else " (never accepted)"
                    )
            return
        waiting = [c for c in slow if c.accepted_at is None]
        if waiting:
            accepted = _accepted_ports(running)
            for client in waiting:
                if client.port in accepted:
                    client.accepted_at = now
        for client in slow:
            _send_due(client, pieces, interval, now)
        _read_ready([c for c in slow if c.chunks_sent == len(pieces) and not c.done])


def _accepted_ports(running: RunningDeployment) -> set[int]:
    """Remote ports of the connections the server's processes have accepted."""
    ports = set()
    for proc in running.tree():
        with contextlib.suppress(psutil.Error):
            for conn in proc.net_connections(kind="tcp"):
                if conn.raddr and conn.laddr.port == running.port:
                    ports.add(conn.raddr.port)
    return ports


def _send_due(client: _SlowClient, pieces: list[bytes], interval: float, now: float) -> None:
    if client.accepted_at is None or client.done:
        return
    due = min(len(pieces), int((now - client.accepted_at) / interval) + 1)
    try:
        while client.chunks_sent < due:
            client.sock.sendall(pieces[client.chunks_sent])
            client.chunks_sent += 1
    except OSError as exc:
        client.error = f"send failed: {exc}"


def _read_ready(clients: list[_SlowClient]) -> None:
    if not clients:
        time.sleep(POLL_S)
        return
    ready, _, _ = select.select([c.sock for c in clients], [], [], POLL_S)
    for client in clients:
        if client.sock not in ready:
            continue
        try:
            data = client.sock.recv(65536)
        except OSError as exc:
            client.error = f"receive failed: {exc}"
            continue
        if data:
            client.answer += data
        else:  # Connection: close, so the answer ends when the server closes
            client.answered_at = time.monotonic()
            # Close at once, as a browser does: gunicorn lingers up to 2 s after its FIN for
            # the peer's, and a worker lingering would delay the next accept.
            client.sock.close()


def _concurrency_result(
    running: RunningDeployment,
    slow: list[_SlowClient],
    started: float,
    clients: int,
    request_seconds: float,
) -> dict[str, Any]:
    def since(t: float | None) -> float | None:
        return None if t is None else round(t - started, 3)

    statuses = [c.status for c in slow]
    completion = [since(c.answered_at) for c in slow]
    accepted = [since(c.accepted_at) for c in slow]
    all_ok = all(s == 200 for s in statuses) and all(t is not None for t in completion)
    wall = max(completion) if all_ok else None  # type: ignore[type-var]
    in_flight = _max_in_flight(accepted, completion, tolerance=0.1 * request_seconds)
    result = {
        "clients": clients,
        "request_seconds": request_seconds,
        "wall_seconds": wall,
        "overlapped": None if wall is None else wall < (clients - 0.5) * request_seconds,
        "all_at_once": None if wall is None else wall < 1.5 * request_seconds,
        "max_in_flight": in_flight,
        "accepted_seconds": accepted,
        "completion_seconds": completion,
        "statuses": statuses,
        "server_processes": len(running.tree()),
    }
    errors = "; ".join(f"client {i}: {c.error}" for i, c in enumerate(slow) if c.error)
    result["evidence"] = (
        f"{clients} connections opened at once to {running.deployment.health_path}; each request "
        f"dribbled over {request_seconds:g} s from the moment the server accepted it. Accepted "
        f"at {accepted} s, answered {statuses} at {completion} s; at most {in_flight} in the "
        f"server at once ({result['server_processes']} server process(es)). One at a time would "
        f"take >= {clients * request_seconds:g} s; all at once about {request_seconds:g} s."
        + (f" Failures: {errors}" if errors else "")
    )
    return result


def _max_in_flight(starts: list[float | None], ends: list[float | None], tolerance: float) -> int:
    """Most [accepted, answered] intervals open at one instant; an interval that begins within
    `tolerance` of another's end counts as following it, not overlapping it."""
    events = []
    for begin, end in zip(starts, ends, strict=True):
        if begin is not None and end is not None:
            events += [(begin + tolerance, 1), (end, -1)]
    most = current = 0
    for _, step in sorted(events):  # at equal times the end (-1) sorts first
        current += step
        most = max(most, current)
    return most
