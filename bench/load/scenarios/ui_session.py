"""A Streamlit user: open a session over Streamlit's websocket, then change the inputs and press
Predict again and again; each press is one interaction (one script rerun)."""

import time

from locust import User, task

from bench.clients.answers import same_predictions
from bench.clients.streamlit import StreamlitProtocolError, StreamlitSession
from bench.load.scenarios.steps import Steps  # noqa: F401 - Locust steps through the levels with it
from bench.load.scenarios.support import payloads


class StreamlitUser(User):
    def on_start(self) -> None:
        self.requests = payloads(1)
        self.session = StreamlitSession(self.host, timeout_s=60)
        self.measure("connect", self.check_first_run)

    def on_stop(self) -> None:
        self.session.close()

    @task
    def predict(self) -> None:
        if self.session.ws is None:  # the last interaction broke the connection: reconnect
            self.measure("connect", self.check_first_run)
        else:
            self.measure("rerun", self.submit_next)

    def check_first_run(self) -> None:
        run = self.session.connect()
        if run.exceptions or not self.session.buttons:
            raise AssertionError(f"first run shows no form: {run.exceptions}")

    def submit_next(self) -> None:
        item = next(self.requests)
        row = item["body"]["instances"][0]
        run = self.session.submit(row, "Predict")
        shown = {"label": run.prediction_label, "probabilities": (run.json_bodies or [None])[0]}
        expected = item["expected"][0]
        # The page shows the label and the probabilities, not the class id: compare those two.
        if run.exceptions or not same_predictions(
            [{**shown, "class_id": expected["class_id"]}], [expected]
        ):
            raise AssertionError(f"wrong prediction: {shown} (exceptions: {run.exceptions})")

    def measure(self, name: str, action) -> None:
        """Time one interaction and report it through Locust's request event, like HTTP users do."""
        started, wall = time.perf_counter(), time.time()
        error = None
        try:
            action()
        except Exception as exc:  # every failure is a failed interaction, reported not raised
            error = exc
        self.environment.events.request.fire(
            request_type="WS",
            name=name,
            response_time=(time.perf_counter() - started) * 1000,
            response_length=0,
            exception=error,
            context={},
            start_time=wall,
        )
        if isinstance(error, StreamlitProtocolError):
            self.session.close()
