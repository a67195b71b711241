"""What a browser does with the HTML page: load the form once, then submit it again and again,
each time with the fields (and CSRF token) of the page the last submission returned."""

from urllib.parse import urlencode

from locust import FastHttpUser, task

from bench.clients.answers import same_predictions
from bench.clients.form_page import form_fields, shown_prediction
from bench.load.scenarios.steps import Steps  # noqa: F401 - Locust steps through the levels with it
from bench.load.scenarios.support import payloads

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


class FormUser(FastHttpUser):
    def on_start(self) -> None:
        self.requests = payloads(1)
        self.fields = form_fields(self.client.get("/", name="page load").text)

    @task
    def submit(self) -> None:
        item = next(self.requests)
        body = urlencode({**self.fields, **item["body"]["instances"][0]})
        with self.client.post(
            "/", data=body, headers=FORM, name="submit", catch_response=True
        ) as response:
            shown = shown_prediction(response.text) if response.status_code == 200 else None
            if shown is None:
                response.failure(f"status {response.status_code}, no prediction shown")
            elif not same_predictions([shown.as_prediction()], item["expected"]):
                response.failure("wrong prediction")
            else:
                self.fields = form_fields(response.text)
