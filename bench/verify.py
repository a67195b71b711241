"""Conformance checks run over the network against a running deployment before it is measured.

Each check gives (deployment, check, status, reason). A deployment that fails any check is not
measured.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import requests

from bench.answers import same_predictions
from bench.bad_inputs import BAD_REQUESTS, BadRequest
from bench.pages import field_errors, form_fields, shown_prediction
from bench.payloads import canonical_instances
from bench.process import RunningDeployment
from bench.streamlit_client import StreamlitSession
from shared_model.model import LoadedModel, predict

PASS, FAIL = "pass", "fail"
TIMEOUT_S = 10


@dataclass(frozen=True)
class CheckResult:
    deployment: str
    check: str
    status: str
    reason: str = ""

    @property
    def passed(self) -> bool:
        return self.status == PASS


class CheckFailed(AssertionError):
    pass


def require(condition: bool, reason: str) -> None:
    if not condition:
        raise CheckFailed(reason)


def verify(running: RunningDeployment, model: LoadedModel) -> list[CheckResult]:
    """Run every check that applies to the deployment's scenarios."""
    return [
        _run(running.deployment.name, name, check, running, model)
        for name, check in checks_for(running)
    ]


def checks_for(running: RunningDeployment) -> Iterator[tuple[str, Callable]]:
    scenarios = running.deployment.scenarios
    if running.deployment.has_api:
        yield "health", check_health
        yield "canonical predictions", check_predictions
        for bad in BAD_REQUESTS:
            yield f"bad input: {bad.name}", _bad_input_check(bad)
        yield "still healthy after bad input", check_predictions
    if "form" in scenarios:
        yield "form round trip with CSRF token", check_form
        yield "form without CSRF token refused", check_form_csrf
        yield "form rejects NaN", check_form_rejects_nan
    if "ui_session" in scenarios:
        yield "streamlit health", check_plain_health
        yield "streamlit session predictions", check_streamlit_session


def _run(
    deployment: str, name: str, check: Callable, running: RunningDeployment, model: LoadedModel
) -> CheckResult:
    try:
        check(running, model)
    except CheckFailed as exc:
        return CheckResult(deployment, name, FAIL, str(exc))
    except Exception as exc:  # a check that breaks is a failed check, not a crashed verify
        return CheckResult(deployment, name, FAIL, f"{type(exc).__name__}: {exc}")
    return CheckResult(deployment, name, PASS)


def check_health(running: RunningDeployment, model: LoadedModel) -> None:
    response = requests.get(running.base_url + "/health", timeout=TIMEOUT_S)
    require(response.status_code == 200, f"GET /health answered {response.status_code}")
    body = response.json()
    require(body.get("status") == "ok", f"status is {body.get('status')!r}, not 'ok'")
    require(
        body.get("model") == model.summary,
        f"model is {body.get('model')}, expected {model.summary}",
    )


def check_plain_health(running: RunningDeployment, model: LoadedModel) -> None:
    url = running.base_url + running.deployment.health_path
    response = requests.get(url, timeout=TIMEOUT_S)
    require(response.status_code == 200, f"GET {url} answered {response.status_code}")


def check_predictions(running: RunningDeployment, model: LoadedModel) -> None:
    rows = canonical_instances(model)
    response = requests.post(
        running.base_url + "/api/predict", json={"instances": rows}, timeout=TIMEOUT_S
    )
    require(response.status_code == 200, f"answered {response.status_code}: {response.text[:200]}")
    body = response.json()
    # Exact equality: every deployment calls the same predict(), and JSON floats round-trip.
    require(
        same_predictions(body.get("predictions", []), predict(model, rows), tolerance=0.0),
        "predictions differ from shared_model.predict() for the canonical rows",
    )
    require(body.get("model") == model.summary, f"model is {body.get('model')}")


def _bad_input_check(bad: BadRequest) -> Callable:
    def check(running: RunningDeployment, model: LoadedModel) -> None:
        headers = {"Content-Type": bad.content_type} if bad.content_type else {}
        response = requests.request(
            bad.method,
            running.base_url + bad.path,
            data=bad.body,
            headers=headers,
            timeout=TIMEOUT_S,
        )
        require(response.status_code < 500, f"server error {response.status_code}")
        require(
            response.status_code == bad.status,
            f"answered {response.status_code}, expected {bad.status}: {response.text[:160]}",
        )
        try:
            error = response.json()["error"]
        except (ValueError, KeyError, TypeError):
            raise CheckFailed(f"body is not a JSON error: {response.text[:160]!r}") from None
        require(
            error.get("code") == bad.code,
            f"error code {error.get('code')!r}, expected {bad.code!r}",
        )
        require(bool(error.get("message")), "error has no message")
        if bad.field:
            require(
                error.get("field") == bad.field,
                f"field {error.get('field')!r}, expected {bad.field!r}",
            )

    return check


def check_form(running: RunningDeployment, model: LoadedModel) -> None:
    session = requests.Session()
    page = session.get(running.base_url + "/", timeout=TIMEOUT_S)
    require(page.status_code == 200, f"GET / answered {page.status_code}")
    fields = form_fields(page.text)
    defaults = {f["name"]: f["default"] for f in model.metadata["features"]}
    shown_defaults = {name: float(fields.get(name, "nan")) for name in defaults}
    require(
        shown_defaults == defaults,
        f"form defaults {shown_defaults} differ from the model's {defaults}",
    )
    for row in canonical_instances(model)[:4]:
        answer = session.post(running.base_url + "/", data={**fields, **row}, timeout=TIMEOUT_S)
        require(
            answer.status_code == 200,
            f"form POST answered {answer.status_code}: {answer.text[:160]}",
        )
        shown = shown_prediction(answer.text)
        require(shown is not None, "the page shows no prediction")
        require(
            same_predictions([shown.as_prediction()], predict(model, [row]), tolerance=0.0),
            f"page shows {shown} for {row}",
        )


def check_form_csrf(running: RunningDeployment, model: LoadedModel) -> None:
    session = requests.Session()
    fields = form_fields(session.get(running.base_url + "/", timeout=TIMEOUT_S).text)
    tokenless = {name: value for name, value in fields.items() if name in model.feature_names}
    answer = session.post(running.base_url + "/", data=tokenless, timeout=TIMEOUT_S)
    require(
        answer.status_code == 403, f"a POST without the CSRF token answered {answer.status_code}"
    )
    require("csrf_failed" in answer.text, f"the refusal does not say why: {answer.text[:160]!r}")


def check_form_rejects_nan(running: RunningDeployment, model: LoadedModel) -> None:
    session = requests.Session()
    fields = form_fields(session.get(running.base_url + "/", timeout=TIMEOUT_S).text)
    answer = session.post(
        running.base_url + "/", data={**fields, model.feature_names[0]: "nan"}, timeout=TIMEOUT_S
    )
    require(answer.status_code == 400, f"answered {answer.status_code}, expected 400")
    require(shown_prediction(answer.text) is None, "a prediction is shown for NaN")
    require(bool(field_errors(answer.text)), "no field error is shown")


def check_streamlit_session(running: RunningDeployment, model: LoadedModel) -> None:
    with StreamlitSession(running.base_url, timeout_s=30) as session:
        first = session.connect()
        require(not first.exceptions, f"the script raised: {first.exceptions}")
        require(first.status == "FINISHED_SUCCESSFULLY", f"first run ended {first.status}")
        inputs = {label: widget.default for label, widget in session.number_inputs.items()}
        defaults = {f["name"]: f["default"] for f in model.metadata["features"]}
        require(
            inputs == defaults, f"inputs and defaults {inputs} differ from the model's {defaults}"
        )
        for row in canonical_instances(model)[:4]:
            run = session.submit(row, "Predict")
            # A script that raises still "finishes successfully": look for the element.
            require(not run.exceptions, f"the script raised: {run.exceptions}")
            expected = predict(model, [row])[0]
            require(
                run.prediction_label == expected["label"],
                f"headings {run.headings} for {row}",
            )
            require(
                run.json_bodies == [expected["probabilities"]],
                f"probabilities {run.json_bodies} for {row}",
            )
