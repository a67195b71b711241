"""A real Locust master of a distributed level, with a stranger on its port: the stranger's
messages are refused and recorded, none of its log lines reach the request log, the master
never sends its locustfile, and the level still runs on its own worker. A `bench worker` with
the wrong secret, or with other scenario code, refuses to run and says why."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
import time
from pathlib import Path

import msgpack
import psutil
import pytest
import zmq

import bench.load.locust
from bench import PROJECT_ROOT
from bench.clients.payloads import write_payload_file
from bench.load.locust import free_port, kill_locust, start_locust
from bench.load.peer_auth import (
    HELLO,
    LEVEL,
    LEVEL_QUERY,
    MAC_KEY,
    SECRET_ENV,
    SESSION_ENV,
    new_secret,
    read_refusals,
    sign,
)
from bench.load.scenarios import INTERACTIONS
from bench.load.spec import WindowRule, Workers
from bench.load.window import run_load
from bench.load.worker import unreachable
from bench.measure.metrics import read_request_logs
from tests.live import wait_until
from tests.load_runs import boundaries_of, in_background, load_spec, poll, recorded_runs

pytestmark = pytest.mark.live

SECRET = new_secret()
FORGED_MS = 0.123  # no real request takes this long exactly, with these digits
FORGED = f"1767225600.000000,predict,{FORGED_MS:.3f},1,,0\n" * 20
RULE = WindowRule(min_s=2, max_s=4)
# What the stranger's messages and frames are refused as.
REFUSED = {"client_ready", "stats", "frame", "1"}


class Stranger:
    """A peer on the master's port speaking Locust's message format."""

    def __init__(self, port: int, identity: str) -> None:
        self.identity = identity
        self.context = zmq.Context()
        self.sock = self.context.socket(zmq.DEALER)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.setsockopt(zmq.IDENTITY, identity.encode())
        self.sock.connect(f"tcp://127.0.0.1:{port}")

    def send(self, kind: str, data: object, node_id: str | None = None) -> None:
        self.sock.send(msgpack.dumps((kind, data, node_id or self.identity)))

    def replies(self, wanted: set[str], timeout_s: float) -> dict[str, object]:
        found: dict[str, object] = {}
        deadline = time.monotonic() + timeout_s
        while not wanted <= found.keys() and time.monotonic() < deadline:
            if self.sock.poll(100):
                kind, data, _ = msgpack.loads(self.sock.recv(), raw=False)
                found[kind] = data
        return found

    def close(self) -> None:
        self.sock.close()
        self.context.term()


def at_least(count: int, path: Path) -> list[dict[str, str]]:
    """The refusals recorded so far, once there are `count` of them (else none)."""
    refused = read_refusals(path)
    return refused if len(refused) >= count else []


def stats(lines: str, seq: object = None, mac: object = None) -> dict[str, object]:
    data = {"stats": [], "errors": {}, "bench_request_log": lines, "bench_last_report": False}
    return (
        data | ({} if seq is None else {"bench_seq": seq}) | ({} if mac is None else {MAC_KEY: mac})
    )


@pytest.fixture
def level(model, servers, tmp_path, monkeypatch):
    """A master with its one local worker, waiting for a remote worker that never comes: long
    enough for strangers to speak. The test ends it."""
    monkeypatch.setattr(bench.load.locust, "WORKERS_CONNECT_TIMEOUT_S", 60)
    write_payload_file(model, tmp_path / "payloads.json")
    port = free_port()
    spec = load_spec(
        servers.get("flask").base_url, (2,), tmp_path / "level", tmp_path / "payloads.json",
        RULE, warmup_s=1.0,
        workers=Workers(local=1, remote=1, master_port=port, secret=SECRET),
    )  # fmt: skip
    run = start_locust(spec, boundaries_of(spec))
    try:
        wait_until(lambda: unreachable("127.0.0.1", port) is None, 60, "the master's port",
                   watched=run.process)  # fmt: skip
        yield run, port
    finally:
        kill_locust(run)


def test_a_stranger_is_refused_and_recorded_and_never_sent_the_locustfile(level):
    run, port = level
    stranger = Stranger(port, "intruder")
    try:
        stranger.send("client_ready", "2.47.0")
        stranger.send("stats", stats(FORGED))
        stranger.send("stats", stats(FORGED), node_id="somebody-else")
        stranger.send("bench_first_interaction", {"start": 1.0})
        stranger.send("locustfile", {"version": "2.47.0"})
        stranger.send(LEVEL_QUERY, {"nonce": "n", MAC_KEY: sign("x" * 64, LEVEL_QUERY, "n")})
        replies = stranger.replies({"locustfile", LEVEL, "quit"}, timeout_s=30)
    finally:
        stranger.close()
    assert "contents" not in str(replies.get("locustfile")), "the master sent its locustfile"
    assert "error" in replies["locustfile"]
    assert "refused" in replies[LEVEL]
    assert "quit" in replies  # told to leave rather than left to retry
    refused = wait_until(lambda: at_least(6, run.refusals_log), 30, "six refusals")
    kinds = {(r["peer"], r["message"]) for r in refused}
    for message in ("client_ready", "stats", "locustfile", LEVEL_QUERY, "bench_first_interaction"):
        assert ("intruder", message) in kinds
    assert any("claims to be 'somebody-else'" in r["reason"] for r in refused)


def test_a_peer_with_the_secret_still_cannot_forge_or_replay_a_report(level):
    """Even a peer that passes the hello (it knows the secret: a test can read the master's
    session token) has each report checked: its signature, its sequence, every line."""
    run, port = level
    session = psutil.Process(run.process.pid).environ()[SESSION_ENV]
    insider = Stranger(port, "insider")

    def mac(seq: int, lines: str) -> str:
        return sign(SECRET, "stats", session, "insider", seq, lines, False)

    bad_line = "1767225600.0,predict,nan,1,,0\n"
    try:
        insider.send(HELLO, {"session": session, MAC_KEY: sign(SECRET, HELLO, session, "insider")})
        insider.send("stats", stats(FORGED, seq=1, mac=mac(1, "other lines")))
        insider.send("stats", stats(bad_line, seq=2, mac=mac(2, bad_line)))
        insider.send("stats", stats(bad_line, seq=2, mac=mac(2, bad_line)))  # the same again
        # A worker of this run left over from another level: told to quit, noted as stale.
        old = Stranger(port, "old-worker")
        old.send(HELLO, {"session": "other", MAC_KEY: sign(SECRET, HELLO, "other", old.identity)})
        refused = wait_until(lambda: at_least(4, run.refusals_log), 30, "four records")
        old.close()
    finally:
        insider.close()
    old = "old-worker"
    assert {r["kind"] for r in refused if r["peer"] == old} == {"stale"}
    refused = [r for r in refused if r["peer"] != old]
    reasons = " | ".join(r["reason"] for r in refused)
    assert "signature does not match" in reasons
    assert "finite" in reasons  # the line of a well-signed report is checked too
    assert "replayed stats report (sequence 2)" in reasons
    assert not any(r["message"] == HELLO for r in refused)  # the hello itself was good


def test_the_level_runs_on_its_own_worker_and_logs_no_forged_line(model, servers, tmp_path):
    write_payload_file(model, tmp_path / "payloads.json")
    port = free_port()
    spec = load_spec(
        servers.get("flask").base_url, (2,), tmp_path / "level", tmp_path / "payloads.json",
        RULE, warmup_s=1.0, workers=Workers(local=1, master_port=port),
    )  # fmt: skip

    refusals_log = spec.out_prefix.with_suffix(".refused.jsonl")

    def refused_messages() -> set[str]:
        return {r["message"] for r in read_refusals(refusals_log)}

    def speak_as_a_stranger() -> None:
        poll(lambda: unreachable("127.0.0.1", port) is None, 60, "the master's port")
        stranger = Stranger(port, "intruder")
        try:
            stranger.send("client_ready", "2.47.0")
            stranger.send("stats", stats(FORGED))
            # Frames that Locust cannot decode, or decodes to no message: the master's one
            # receiving loop must survive them.
            stranger.sock.send(b"\xc1")
            stranger.sock.send(msgpack.dumps((1, None, "intruder")))
            stranger.sock.send(msgpack.dumps((["stats"], {}, "intruder")))
            stranger.sock.send(msgpack.dumps(("stats", {})))
            # Open until the master has read them all (a closed socket drops what it holds).
            poll(lambda: refused_messages() >= REFUSED, 30, "the stranger's refusals")
        finally:
            stranger.close()

    with recorded_runs() as runs:
        stranger = in_background(speak_as_a_stranger)
        result = run_load(spec, servers.get("flask"))
    stranger.outcome()
    [recorded] = runs
    # The level ran to its end on its own worker, and the shape quit after it.
    assert recorded.run.process.returncode == 0
    [window] = result.windows
    assert [r for r in window.requests if r.name in INTERACTIONS and r.ok]
    requests = read_request_logs(recorded.run.request_logs)
    assert not [r for r in requests if r.ms == FORGED_MS]
    # Recorded, and the run fails for them: the runner marks it INVALID.
    assert {r["message"] for r in result.refused} >= REFUSED
    assert result.refused == read_refusals(recorded.run.refusals_log)
    assert result.failure is not None and "refused" in result.failure


def bench_worker(port: int, secret: str, cwd: Path = PROJECT_ROOT) -> subprocess.CompletedProcess:
    argv = [sys.executable, "-m", "bench", "worker", "--master", "127.0.0.1", "--once"]
    env = {"PATH": "/usr/bin:/bin", "HOME": str(cwd), "PYTHONPATH": str(cwd), SECRET_ENV: secret}
    return subprocess.run(
        [*argv, "--master-port", str(port)], cwd=cwd, env=env, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip


def test_a_worker_with_the_wrong_secret_is_refused_and_stops(level):
    run, port = level
    done = bench_worker(port, new_secret())
    assert done.returncode == 2, done.stdout + done.stderr
    assert "refused this worker" in done.stdout + done.stderr
    refused = wait_until(lambda: read_refusals(run.refusals_log), 30, "the refusal")
    assert refused[0]["message"] == LEVEL_QUERY


def test_a_worker_whose_scenario_code_differs_refuses_the_level(level, tmp_path):
    """Another checkout (a copy of this one with one scenario file changed) asks the master for
    its level and refuses to run it, naming both digests."""
    _run, port = level
    copy = tmp_path / "checkout"
    ignore = shutil.ignore_patterns("__pycache__", "results", "output", ".venv")
    for part in ("bench", "shared_model", "deployments", "stacks"):
        shutil.copytree(PROJECT_ROOT / part, copy / part, ignore=ignore)
    with (copy / "bench" / "load" / "scenarios" / "api_single.py").open("a") as handle:
        handle.write("\n# a local change\n")
    with contextlib.suppress(FileNotFoundError):
        shutil.copy(PROJECT_ROOT / "pyproject.toml", copy)
    done = bench_worker(port, SECRET, cwd=copy)
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "refusing level 1" in output and "differs from the master's" in output
