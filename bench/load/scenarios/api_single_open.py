"""Open-loop POST /api/predict, one row per request: requests arrive at BENCH_RATE per second
(BENCH_ARRIVALS poisson or constant) whatever the server answers, each timed from when it was
due (see open_loop.py). Answers are checked as in api_single.py.

Run with --users 1: that one user generates every arrival of the load generator.
"""

import os

from locust import FastHttpUser, task
from locust.event import EventHook
from locust.exception import CatchResponseError

from bench.clients.answers import same_predictions
from bench.load.scenarios import BATCH_SIZES, CHECK_ANSWERS_ENV
from bench.load.scenarios.open_loop import OpenLoop, claim_schedule, end_the_run
from bench.load.scenarios.steps import Steps  # noqa: F401 - Locust steps through the levels with it
from bench.load.scenarios.support import payloads

JSON = {"Content-Type": "application/json"}
CHECK_ANSWERS = os.environ.get(CHECK_ANSWERS_ENV, "1") != "0"
# Past this many requests waiting for an answer the server is far past any latency bound; the
# cap keeps the load generator's own sockets and memory bounded.
MAX_IN_FLIGHT = 1000


class OpenLoopApiUser(FastHttpUser):
    # One pooled connection per request in flight, so that none waits for a free connection.
    concurrency = MAX_IN_FLIGHT

    def on_start(self) -> None:
        try:
            self.schedule = claim_schedule()
        except ValueError as exc:
            end_the_run(self.environment, str(exc))
        self.requests = payloads(BATCH_SIZES["api_single"])
        # The client would report each request itself, timed from its send: it reports to a hook
        # with no listener instead, and the open loop reports it timed from when it was due.
        self.client.request_event = EventHook()
        self.loop = OpenLoop(
            self.environment.events.request, "predict", "POST", self.predict, MAX_IN_FLIGHT
        )

    def on_stop(self) -> None:
        if hasattr(self, "loop"):
            self.loop.stop()

    @task
    def generate(self) -> None:
        self.loop.run(self.schedule)

    def predict(self) -> None:
        item = next(self.requests)
        response = self.client.post("/api/predict", data=item["encoded"], headers=JSON)
        if response.status_code != 200:
            reason = f" ({response.error})" if response.error else ""
            raise CatchResponseError(f"status {response.status_code}{reason}")
        predictions = response.json()["predictions"]  # parsed even when not compared
        if CHECK_ANSWERS and not same_predictions(predictions, item["expected"]):
            raise CatchResponseError("wrong prediction")
