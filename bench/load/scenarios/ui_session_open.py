"""Open-loop Streamlit interactions: presses of Predict arrive at BENCH_RATE per second
(BENCH_ARRIVALS poisson or constant) whatever the server answers, each timed from when it was
due (see open_loop.py). Each press takes an idle session (a browser tab that has already loaded
the page); when none is idle it starts opening a new one (up to MAX_SESSIONS) and takes the first
session free, that one or one another press gives back. Opening a session is logged as "connect"
(set-up, not an interaction), but a press's wait for a session counts in its latency. Answers are
checked as in ui_session.py.

Run with --users 1: that one user generates every arrival of the load generator.
"""

import time

import gevent
from gevent.queue import Queue
from locust import User, task

from bench.clients.answers import same_predictions
from bench.clients.streamlit import StreamlitProtocolError, StreamlitSession
from bench.load.scenarios.open_loop import OpenLoop, claim_schedule, end_the_run
from bench.load.scenarios.steps import Steps  # noqa: F401 - Locust steps through the levels with it
from bench.load.scenarios.support import payloads

# Streamlit keeps a thread and the widget state of every session: a bound on what a run leaves
# open on the server. Presses past it wait for a session, and their wait counts.
MAX_SESSIONS = 128
MAX_IN_FLIGHT = 1000


class OpenLoopStreamlitUser(User):
    def on_start(self) -> None:
        try:
            self.schedule = claim_schedule()
        except ValueError as exc:
            end_the_run(self.environment, str(exc))
            return
        self.requests = payloads(1)
        # Sessions free for a press, or the error of one that could not be opened.
        self.idle: Queue[StreamlitSession | Exception] = Queue()
        self.sessions = 0  # open or being opened
        self.loop = OpenLoop(
            self.environment.events.request, "rerun", "WS", self.press_predict, MAX_IN_FLIGHT
        )
        # The first session's first run loads the model: set-up, opened before the clock starts.
        try:
            self.idle.put(self.open_session())
            self.sessions = 1
        except Exception as exc:
            end_the_run(self.environment, f"cannot open a first Streamlit session: {exc}")

    def on_stop(self) -> None:
        if hasattr(self, "loop"):
            self.loop.stop()  # sessions in use go back to idle as their presses end
        while not getattr(self, "idle", Queue()).empty():
            session = self.idle.get_nowait()
            if isinstance(session, StreamlitSession):
                session.close()

    @task
    def generate(self) -> None:
        self.loop.run(self.schedule)

    def press_predict(self) -> None:
        if self.idle.empty() and self.sessions < MAX_SESSIONS:
            self.sessions += 1
            gevent.spawn(self.open_into_idle)
        session = self.idle.get()
        if isinstance(session, Exception):
            raise session
        try:
            self.submit_next(session)
        except StreamlitProtocolError:
            session.close()  # a broken session is not reused
            raise
        finally:
            if session.ws is not None:
                self.idle.put(session)
            else:
                self.sessions -= 1

    def open_into_idle(self) -> None:
        try:
            self.idle.put(self.open_session())
        except Exception as exc:  # the press waiting for it fails with this error
            self.sessions -= 1
            self.idle.put(exc)

    def submit_next(self, session: StreamlitSession) -> None:
        item = next(self.requests)
        run = session.submit(item["body"]["instances"][0], "Predict")
        shown = {"label": run.prediction_label, "probabilities": (run.json_bodies or [None])[0]}
        expected = item["expected"][0]
        # The page shows the label and the probabilities, not the class id: compare those two.
        if run.exceptions or not same_predictions(
            [{**shown, "class_id": expected["class_id"]}], [expected]
        ):
            raise AssertionError(f"wrong prediction: {shown} (exceptions: {run.exceptions})")

    def open_session(self) -> StreamlitSession:
        """Connect and check the first run, reported as "connect"; raises if it fails."""
        session = StreamlitSession(self.host, timeout_s=60)
        started, wall = time.perf_counter(), time.time()
        error = None
        try:
            run = session.connect()
            if run.exceptions or not session.buttons:
                raise StreamlitProtocolError(f"first run shows no form: {run.exceptions}")
        except Exception as exc:
            error = exc
            session.close()
        self.environment.events.request.fire(
            request_type="WS",
            name="connect",
            response_time=(time.perf_counter() - started) * 1000,
            response_length=0,
            exception=error,
            context={},
            start_time=wall,
        )
        if error is not None:
            raise error
        return session
