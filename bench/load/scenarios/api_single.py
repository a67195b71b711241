"""One instance per call to POST /api/predict; every answer checked against predict() (see
CHECK_ANSWERS_ENV for the one exception, a calibration target)."""

import os

from locust import FastHttpUser, task

from bench.clients.answers import same_predictions
from bench.load.scenarios import BATCH_SIZES, CHECK_ANSWERS_ENV
from bench.load.scenarios.steps import Steps  # noqa: F401 - Locust steps through the levels with it
from bench.load.scenarios.support import payloads

JSON = {"Content-Type": "application/json"}
CHECK_ANSWERS = os.environ.get(CHECK_ANSWERS_ENV, "1") != "0"


class ApiUser(FastHttpUser):
    batch_size = BATCH_SIZES["api_single"]

    def on_start(self) -> None:
        self.requests = payloads(self.batch_size)

    @task
    def predict(self) -> None:
        item = next(self.requests)
        with self.client.post(
            "/api/predict", data=item["encoded"], headers=JSON, name="predict", catch_response=True
        ) as response:
            if response.status_code != 200:
                response.failure(f"status {response.status_code}")
                return
            predictions = response.json()["predictions"]  # parsed even when not compared
            if CHECK_ANSWERS and not same_predictions(predictions, item["expected"]):
                response.failure("wrong prediction")
