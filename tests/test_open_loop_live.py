"""Open loop against closed loop on a server that stalls for a second: the real Locust
subprocess through the engine (bench/load/window.py), a small threaded server written here (on a
port the OS picks)."""

import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bench.clients.payloads import write_payload_file
from bench.load import locust as loadgen
from bench.load.scenarios import INTERACTIONS
from bench.load.spec import LoadSpec, WindowRule
from bench.load.window import run_load
from bench.measure.slo import open_loop_spec, run_open_loop_trial
from bench.targets.manifest import discover
from bench.targets.servers import ExternalDeployment

pytestmark = pytest.mark.live

WARMUP_S, WINDOW_S = 1.0, 5.0
# The pause starts this long after the first request, about two seconds into the recorded window
# (which starts the warm-up after the first interaction came).
STALL_AFTER_S, STALL_S = WARMUP_S + 2.0, 1.0
STALLED_MS = 0.4 * STALL_S * 1000  # a request that waited through much of the pause
CORES = sorted(os.sched_getaffinity(0))


class StallingServer(ThreadingHTTPServer):
    """POST /api/predict with the expected answers of the payload file; every request that
    arrives during one pause waits until the pause is over, as in a stop-the-world pause."""

    daemon_threads = True
    request_queue_size = 256  # a burst of new connections after the pause is not refused

    def __init__(self, payload_file):
        pools = json.loads(payload_file.read_text())
        self.answers = {
            self.key(item["body"]["instances"]): item["expected"]
            for pool in pools.values()
            for item in pool
        }
        self.pause_start = None
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), PredictHandler)  # the OS picks the port

    @staticmethod
    def key(instances):
        return json.dumps(instances, sort_keys=True)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server_address[1]}"

    def rearm(self):
        """The pause of the next run is timed from its first request."""
        self.pause_start = None

    def wait_if_paused(self):
        now = time.time()
        with self.lock:
            if self.pause_start is None:
                self.pause_start = now + STALL_AFTER_S
        if self.pause_start <= now < self.pause_start + STALL_S:
            time.sleep(self.pause_start + STALL_S - now)


class PredictHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the real servers' clients use
    # Headers and body go in separate writes: without this, Nagle's algorithm and delayed ACKs
    # hold every answer for 40 ms.
    disable_nagle_algorithm = True

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.wait_if_paused()
        expected = self.server.answers.get(self.server.key(json.loads(body)["instances"]))
        status, answer = (200, {"predictions": expected}) if expected else (400, {"error": {}})
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def payload_file(model, tmp_path_factory):
    path = tmp_path_factory.mktemp("payloads") / "payloads.json"
    write_payload_file(model, path)
    return path


@pytest.fixture(scope="module")
def stalling_server(payload_file):
    server = StallingServer(payload_file)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def target_at(url: str) -> ExternalDeployment:
    """A server this harness did not start (the engine samples no process of it)."""
    return ExternalDeployment({d.name: d for d in discover()}["flask"], url)


def base_spec(url, payload_file, out_prefix, warmup_s=WARMUP_S, cores=CORES) -> LoadSpec:
    """One closed-loop user for a fixed window; the open-loop trials take the rest from it."""
    return LoadSpec(
        scenario="api_single",
        base_url=url,
        steps=(1,),
        warmup_s=warmup_s,
        rule=WindowRule.fixed(WINDOW_S),
        cores=tuple(cores),
        payload_file=payload_file,
        out_prefix=out_prefix,
        setup_s=10.0,
    )


def closed_loop_latencies(host, payload_file, out_prefix):
    result = run_load(base_spec(host, payload_file, out_prefix), target_at(host))
    assert result.failure is None, result.failure
    [window] = result.windows
    done = [r for r in window.requests if r.name in INTERACTIONS and window.window.holds(r.end)]
    assert done and all(r.ok for r in done)
    return [r.ms for r in done]


def test_open_loop_p99_shows_a_stall_that_closed_loop_hides(
    stalling_server, payload_file, tmp_path
):
    host = stalling_server.url
    stalling_server.rearm()
    base = base_spec(host, payload_file, tmp_path / "open")
    spec = open_loop_spec("api_single_open", 50.0, WINDOW_S, base)
    trial = run_open_loop_trial(spec, target_at(host))
    stalling_server.rearm()
    closed = closed_loop_latencies(host, payload_file, tmp_path / "closed")
    stalled = [ms for ms in closed if ms > STALLED_MS]
    print(f"open loop 50/s: {trial}; closed loop 1 user: {len(stalled)} of {len(closed)} stalled")
    # About 50 requests were due during the 1 s pause: they waited up to a second from when they
    # were due, far more than 1 % of the ~250 in the window.
    assert trial.interactions >= 150 and trial.failures == 0
    assert trial.p99_ms > STALLED_MS
    # The closed-loop user had one request waiting through the pause, among hundreds or more
    # (counts, not a latency bound: they hold however fast the machine is).
    assert len(closed) >= 200
    assert 1 <= len(stalled) <= 2


BUSY_LOCUSTFILE = '''
"""An open loop whose every interaction burns the generator's CPU: it cannot keep up."""
import time

from locust import User, task

from bench.load.scenarios import support  # noqa: F401 - the request log
from bench.load.scenarios.open_loop import OpenLoop, claim_schedule
from bench.load.scenarios.steps import Steps  # noqa: F401 - the step, its window, the quit after it


class BusyUser(User):
    def on_start(self):
        self.schedule = claim_schedule()
        self.loop = OpenLoop(self.environment.events.request, "predict", "CPU", self.busy, 100)

    def on_stop(self):
        self.loop.stop()

    @task
    def generate(self):
        self.loop.run(self.schedule)

    def busy(self):
        end = time.perf_counter() + 0.004
        while time.perf_counter() < end:
            pass
'''


def test_a_generator_that_falls_behind_logs_late_sends(payload_file, tmp_path, monkeypatch):
    (tmp_path / "busy_open.py").write_text(BUSY_LOCUSTFILE)
    monkeypatch.setattr(loadgen, "SCENARIO_DIR", tmp_path)
    # 400 interactions/s of 4 ms of CPU each: 1.6 s of work per second on one core.
    nothing_there = "http://127.0.0.1:9"
    base = base_spec(nothing_there, payload_file, tmp_path / "busy", 0.5, CORES[:1])
    spec = open_loop_spec("busy_open", 400.0, 2.0, base)
    trial = run_open_loop_trial(spec, target_at(nothing_there))
    print(f"busy generator at 400/s: {trial}")
    assert trial.interactions >= 20
    assert trial.late_sends > trial.interactions / 2
