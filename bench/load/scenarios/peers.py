"""Locust's side of bench.load.peer_auth, installed in every Locust process the harness starts.

A master passes a peer's message on to Locust only when the peer proved the run's secret with
a signed hello, and only when a data message carries a valid signature; everything else is
refused and recorded (REFUSALS_ENV), which makes the run INVALID. A master never sends its
locustfile. A worker signs its hello, its stats reports and its first-interaction message.

Locust has no hook before a worker's "client_ready" or around a master's message handling, so
this wraps those two methods, in this process only.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from locust.exception import RPCError, RPCReceiveError
from locust.rpc import Message, zmqrpc
from locust.runners import STATE_INIT, MasterRunner, WorkerRunner

from bench.load.peer_auth import (
    HELLO,
    LEVEL,
    LEVEL_QUERY,
    MAC_KEY,
    REFUSALS_ENV,
    SECRET_ENV,
    SEQ_KEY,
    SESSION_ENV,
    scenario_digest,
    sign,
    signed_by,
)

REQUEST_LOG_KEY = "bench_request_log"
LAST_REPORT_KEY = "bench_last_report"
# Sent by any peer, admitted or not: answered by the master without passing them on.
_ANSWERED_HERE = frozenset({HELLO, LEVEL_QUERY, "locustfile"})
# Refusals recorded per level: a stranger that varies its name cannot fill the disk.
MAX_RECORDED = 100
# A refusal, or a worker of this run left over from another level (it holds the secret; it is
# told to quit, and noted, but the run is not spoiled by it).
REFUSED, STALE = "refused", "stale"


def _secret() -> str:
    return os.environ.get(SECRET_ENV, "")


def _session() -> str:
    return os.environ.get(SESSION_ENV, "")


class Guard:
    """The master's record of admitted workers, their report sequence and what it refused."""

    def __init__(self) -> None:
        self.admitted: set[str] = set()
        self.stale: set[str] = set()
        self.last_seq: dict[str, int] = {}
        self._recorded: set[tuple[str, str, str]] = set()

    def refuse(self, peer: object, message: object, reason: str, kind: str = REFUSED) -> None:
        key = (_shown(peer)[:120], _shown(message)[:60], _shown(reason))
        if key in self._recorded or len(self._recorded) > MAX_RECORDED:
            return  # a peer that retries (heartbeats) is recorded once
        self._recorded.add(key)
        if len(self._recorded) > MAX_RECORDED:
            key = (key[0], key[1], f"more than {MAX_RECORDED} refusals: the rest not recorded")
        logging.error("%s %s from %s: %s", kind, key[1], key[0], key[2])
        path = os.environ.get(REFUSALS_ENV)
        if path:
            entry = {"peer": key[0], "message": key[1], "reason": key[2], "kind": kind}
            with Path(path).open("a") as handle:
                handle.write(json.dumps(entry) + "\n")

    def admit(self, runner: MasterRunner, client_id: str, msg: Message) -> bool:
        """True to pass the message on to Locust; answers or refuses it otherwise."""
        if not isinstance(msg.type, str) or not isinstance(msg.node_id, str):
            self.refuse(client_id, msg.type, "a message without a type or sender name")
            return False
        if msg.node_id != client_id:
            self.refuse(client_id, msg.type, f"claims to be {_shown(msg.node_id)[:60]!r}")
            return False
        if msg.type in _ANSWERED_HERE:
            self._answer(runner, client_id, msg)
            return False
        if client_id not in self.admitted:
            if client_id not in self.stale:
                self.refuse(client_id, msg.type, "an unknown worker (no valid hello)")
            # Told to leave, whatever it sent: a worker with a wrong secret or from another
            # level then exits rather than retries.
            runner.server.send_to_client(Message("quit", None, client_id))
            return False
        problem = self._data_problem(client_id, msg)
        if problem:
            self.refuse(client_id, msg.type, problem)
            return False
        if msg.type == "quit":  # its name is free again: whoever takes it must say hello
            self.admitted.discard(client_id)
        return True

    def _answer(self, runner: MasterRunner, client_id: str, msg: Message) -> None:
        data = msg.data if isinstance(msg.data, dict) else {}
        if msg.type == HELLO:
            session = str(data.get("session", ""))
            if not (
                _secret() and signed_by(_secret(), data.get(MAC_KEY), HELLO, session, client_id)
            ):
                self.refuse(client_id, HELLO, "not signed with this run's secret")
            elif session != _session():
                self.stale.add(client_id)
                self.refuse(client_id, HELLO, "a worker of another level", kind=STALE)
            else:
                self.admitted.add(client_id)
        elif msg.type == LEVEL_QUERY:
            nonce = str(data.get("nonce", ""))
            if not (_secret() and signed_by(_secret(), data.get(MAC_KEY), LEVEL_QUERY, nonce)):
                self.refuse(client_id, LEVEL_QUERY, "not signed with this run's secret")
                # Said, so that a worker handed the wrong secret stops rather than waits.
                refusal = {"refused": "the worker's secret is not this run's"}
                runner.server.send_to_client(Message(LEVEL, refusal, client_id))
                return
            runner.server.send_to_client(Message(LEVEL, _level(runner, nonce), client_id))
        else:
            self.refuse(client_id, msg.type, "this harness never sends its locustfile")
            error = "this master sends no locustfile: run `python -m bench worker`"
            runner.server.send_to_client(Message("locustfile", {"error": error}, client_id))

    def _data_problem(self, client_id: str, msg: Message) -> str | None:
        data = msg.data if isinstance(msg.data, dict) else {}
        if msg.type == "stats":
            seq = data.get(SEQ_KEY)
            lines, last = data.get(REQUEST_LOG_KEY), data.get(LAST_REPORT_KEY)
            if not isinstance(seq, int) or not isinstance(lines, str) or not isinstance(last, bool):
                return "a stats report without its signed request log"
            if not signed_by(
                _secret(), data.get(MAC_KEY), "stats", _session(), client_id, seq, lines, last
            ):
                return "a stats report whose signature does not match"
            if seq <= self.last_seq.get(client_id, -1):
                return f"a replayed stats report (sequence {seq})"
            self.last_seq[client_id] = seq
        return None


def _level(runner: MasterRunner, nonce: str) -> dict[str, Any]:
    """Which scenario this master runs, or that it takes no more workers (a master that has
    finished its level and is about to exit: the worker asks again, for the next one)."""
    if runner.state != STATE_INIT:
        return {"busy": str(runner.state)}  # nothing to trust in it: the worker asks again
    scenario = Path(runner.environment.parsed_locustfiles[0]).stem
    digest = scenario_digest(scenario)
    mac = sign(_secret(), LEVEL, nonce, scenario, digest, _session())
    return {"scenario": scenario, "digest": digest, "session": _session(), MAC_KEY: mac}


def _shown(value: object) -> str:
    """A name a stranger chose, as it may reach a terminal and the report: printable ASCII."""
    return "".join(c if c.isascii() and c.isprintable() else "?" for c in str(value))


GUARD = Guard()


def sign_report(data: dict[str, Any], client_id: str, seq: int) -> None:
    """A worker's side: sign the log lines its stats report carries."""
    data[SEQ_KEY] = seq
    parts = (client_id, seq, data[REQUEST_LOG_KEY], data[LAST_REPORT_KEY])
    data[MAC_KEY] = sign(_secret(), "stats", _session(), *parts)


def install() -> None:
    original_handle = MasterRunner.handle_message
    original_connect = WorkerRunner.connect_to_master

    original_recv = zmqrpc.Server.recv_from_client

    def guarded_handle(self: MasterRunner, client_id: str, msg: Message) -> None:
        # The master's one receiving loop calls this unguarded: whatever a stranger's message
        # breaks here must not end the loop (and with it the level).
        try:
            admitted = GUARD.admit(self, client_id, msg)
        except Exception as exc:
            GUARD.refuse(client_id, getattr(msg, "type", "?"), f"unreadable: {exc!r}"[:200])
            return
        if admitted:
            original_handle(self, client_id, msg)

    def guarded_recv(self: zmqrpc.Server) -> tuple[str, Message]:
        # Locust turns only some undecodable frames into RPCReceiveError; any other error
        # would end the receiving loop.
        try:
            return original_recv(self)
        except RPCError:
            raise
        except Exception as exc:
            GUARD.refuse("?", "frame", f"undecodable: {type(exc).__name__}")
            raise RPCReceiveError("undecodable message") from exc

    def connect_to_master(self: WorkerRunner) -> None:
        mac = sign(_secret(), HELLO, _session(), self.client_id)
        self.client.send(Message(HELLO, {"session": _session(), MAC_KEY: mac}, self.client_id))
        original_connect(self)

    MasterRunner.handle_message = guarded_handle  # type: ignore[method-assign]
    WorkerRunner.connect_to_master = connect_to_master  # type: ignore[method-assign]
    zmqrpc.Server.recv_from_client = guarded_recv  # type: ignore[method-assign]
