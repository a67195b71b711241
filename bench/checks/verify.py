"""Conformance checks run over the network against a running deployment before it is measured.

Each check gives (deployment, check, status, reason, http_status). A deployment that fails any
check is not measured. The hostile-input checks are named "hostile: <case>" so that a report can
tabulate them; each records the HTTP status it got, and a 5xx always fails as a server error.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import requests

from bench.checks.bad_inputs import (
    BAD_REQUESTS,
    FOREIGN_HOST_REQUESTS,
    FOREIGN_HOST_WEBSOCKET,
    ODD_BUT_VALID,
    BadRequest,
    ForeignHostRequest,
    ValidRequest,
)
from bench.checks.foreign_host import http_refusal, websocket_refusal
from bench.clients.answers import same_predictions
from bench.clients.form_page import field_errors, form_fields, shown_prediction
from bench.clients.payloads import canonical_instances
from bench.clients.streamlit import StreamlitSession
from bench.targets.servers import RunningDeployment
from shared_model.model import LoadedModel, predict
from shared_model.openapi import OPENAPI_PATH, openapi_document

PASS, FAIL = "pass", "fail"
TIMEOUT_S = 10
HOSTILE = "hostile: "


@dataclass(frozen=True)
class CheckResult:
    deployment: str
    check: str
    status: str
    reason: str = ""
    http_status: int | None = None  # what the server answered, for checks of one request

    @property
    def passed(self) -> bool:
        return self.status == PASS


@dataclass(frozen=True)
class Answered:
    """What a one-request check got, where it keeps no requests.Response (a websocket)."""

    reason: str
    http_status: int | None


class CheckFailed(AssertionError):
    def __init__(self, reason: str, http_status: int | None = None) -> None:
        super().__init__(reason)
        self.http_status = http_status


def require(condition: bool, reason: str, http_status: int | None = None) -> None:
    if not condition:
        raise CheckFailed(reason, http_status)


def verify(running: RunningDeployment, model: LoadedModel) -> list[CheckResult]:
    """Run every check that applies to the deployment's scenarios."""
    return [
        _run(running.deployment.name, name, check, running, model)
        for name, check in checks_for(running)
    ]


def checks_for(running: RunningDeployment) -> Iterator[tuple[str, Callable]]:
    if running.deployment.role == "calibration":
        # A null target answers constants: it must answer, not predict or refuse anything but
        # a foreign Host, as every deployment refuses it.
        yield "health", check_plain_health
        yield "answers POST /api/predict with JSON", check_answers_json
        yield from _foreign_host_checks(FOREIGN_HOST_REQUESTS)
        return
    scenarios = running.deployment.scenarios
    if running.deployment.has_api:
        yield "health", check_health
        yield "OpenAPI document", check_openapi
        yield "canonical predictions", check_predictions
        for bad in BAD_REQUESTS:
            yield HOSTILE + bad.name, _bad_request_check(bad)
        for valid in ODD_BUT_VALID:
            yield HOSTILE + valid.name, _valid_request_check(valid)
        yield from _foreign_host_checks(FOREIGN_HOST_REQUESTS)
        yield HOSTILE + "still healthy afterwards", check_still_healthy
    if "form" in scenarios:
        yield "form round trip with CSRF token", check_form
        yield "form without CSRF token refused", check_form_csrf
        yield "form rejects NaN", check_form_rejects_nan
        yield "form rejects 1e308", _form_refuses("1e308")
    if "ui_session" in scenarios:
        yield "streamlit health", check_plain_health
        yield "streamlit session predictions", check_streamlit_session
        for name, value in HOSTILE_WIDGET_VALUES.items():
            yield HOSTILE + f"widget value {name}", _streamlit_refuses(value)
        yield from _foreign_host_checks([FOREIGN_HOST_WEBSOCKET])
        yield HOSTILE + "still predicts afterwards", check_streamlit_session


def _run(
    deployment: str, name: str, check: Callable, running: RunningDeployment, model: LoadedModel
) -> CheckResult:
    try:
        answer = check(running, model)
    except CheckFailed as exc:
        return CheckResult(deployment, name, FAIL, str(exc), exc.http_status)
    except Exception as exc:  # a check that breaks is a failed check, not a crashed verify
        return CheckResult(deployment, name, FAIL, f"{type(exc).__name__}: {exc}")
    if isinstance(answer, requests.Response):  # a one-request check: keep what it answered
        return CheckResult(deployment, name, PASS, _summary(answer), answer.status_code)
    if isinstance(answer, Answered):
        return CheckResult(deployment, name, PASS, answer.reason, answer.http_status)
    return CheckResult(deployment, name, PASS, answer if isinstance(answer, str) else "")


def _summary(response: requests.Response) -> str:
    try:
        code = response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return f"answered {response.status_code}"
    return f"answered {response.status_code} {code}"


def check_health(running: RunningDeployment, model: LoadedModel) -> None:
    response = requests.get(running.base_url + "/health", timeout=TIMEOUT_S)
    require(response.status_code == 200, f"GET /health answered {response.status_code}")
    body = response.json()
    require(body.get("status") == "ok", f"status is {body.get('status')!r}, not 'ok'")
    require(
        body.get("model") == model.summary,
        f"model is {body.get('model')}, expected {model.summary}",
    )


def check_openapi(running: RunningDeployment, model: LoadedModel) -> requests.Response:
    response = requests.get(running.base_url + OPENAPI_PATH, timeout=TIMEOUT_S)
    status = response.status_code
    require(status == 200, f"GET {OPENAPI_PATH} answered {status}", status)
    try:
        document = response.json()
    except ValueError:
        raise CheckFailed(f"not JSON: {response.text[:160]!r}", status) from None
    require(isinstance(document, dict) and "openapi" in document, "no 'openapi' key", status)
    require(
        document == openapi_document(model.metadata),
        "differs from shared_model.openapi.openapi_document(): every API serves that one",
        status,
    )
    return response


def check_still_healthy(running: RunningDeployment, model: LoadedModel) -> None:
    check_health(running, model)
    check_predictions(running, model)


def check_plain_health(running: RunningDeployment, model: LoadedModel) -> None:
    url = running.base_url + running.deployment.health_path
    response = requests.get(url, timeout=TIMEOUT_S)
    require(response.status_code == 200, f"GET {url} answered {response.status_code}")


def check_answers_json(running: RunningDeployment, model: LoadedModel) -> None:
    response = requests.post(
        running.base_url + "/api/predict",
        json={"instances": canonical_instances(model)[:1]},
        timeout=TIMEOUT_S,
    )
    require(response.status_code == 200, f"answered {response.status_code}: {response.text[:200]}")
    try:
        response.json()
    except ValueError:
        raise CheckFailed(f"not JSON: {response.text[:160]!r}") from None


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


def _bad_request_check(bad: BadRequest) -> Callable:
    def check(running: RunningDeployment, model: LoadedModel) -> requests.Response:
        response = _send(running, bad.method, bad.path, bad.body, bad.content_type)
        status = response.status_code
        require(
            status == bad.status,
            f"answered {status}, expected {bad.status}: {response.text[:160]}",
            status,
        )
        try:
            error = response.json()["error"]
        except (ValueError, KeyError, TypeError):
            raise CheckFailed(
                f"body is not a JSON error: {response.text[:160]!r}", status
            ) from None
        require(
            error.get("code") == bad.code,
            f"error code {error.get('code')!r}, expected {bad.code!r}",
            status,
        )
        require(bool(error.get("message")), "error has no message", status)
        if status == 405:
            allow = response.headers.get("Allow", "")
            require(bool(allow), "a 405 without an Allow header (RFC 9110 requires one)", status)
        if bad.field:
            require(
                error.get("field") == bad.field,
                f"field {error.get('field')!r}, expected {bad.field!r}",
                status,
            )
        return response

    return check


def _valid_request_check(valid: ValidRequest) -> Callable:
    def check(running: RunningDeployment, model: LoadedModel) -> requests.Response:
        response = _send(running, "POST", "/api/predict", valid.body, valid.content_type)
        status = response.status_code
        require(status == 200, f"answered {status}, expected 200: {response.text[:160]}", status)
        require(
            same_predictions(
                response.json().get("predictions", []),
                predict(model, valid.same_as),
                tolerance=0.0,
            ),
            "predictions differ from those of the plain equivalent rows",
            status,
        )
        return response

    return check


def _send(
    running: RunningDeployment, method: str, path: str, body: bytes, content_type: str | None
) -> requests.Response:
    """One raw request; any 5xx answer fails the check as a server error."""
    headers = {"Content-Type": content_type} if content_type else {}
    response = requests.request(
        method, running.base_url + path, data=body, headers=headers, timeout=TIMEOUT_S
    )
    require(
        response.status_code < 500,
        f"server error: answered {response.status_code}: {response.text[:160]}",
        response.status_code,
    )
    return response


def _foreign_host_checks(cases: list[ForeignHostRequest]) -> Iterator[tuple[str, Callable]]:
    for case in cases:
        yield HOSTILE + case.name, _foreign_host_check(case)


def _foreign_host_check(case: ForeignHostRequest) -> Callable:
    """A request naming FOREIGN_HOST must be refused (a 4xx) before anything is served."""

    def check(running: RunningDeployment, model: LoadedModel) -> Answered:
        found = (
            websocket_refusal(running.base_url, running.port, TIMEOUT_S)
            if case.websocket
            else http_refusal(running.base_url, running.port, case, TIMEOUT_S)
        )
        require(bool(found.refused), found.reason, found.http_status)
        return Answered(found.reason, found.http_status)

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


def _form_refuses(value: str) -> Callable:
    def check(running: RunningDeployment, model: LoadedModel) -> requests.Response:
        session = requests.Session()
        fields = form_fields(session.get(running.base_url + "/", timeout=TIMEOUT_S).text)
        answer = session.post(
            running.base_url + "/", data={**fields, model.feature_names[0]: value},
            timeout=TIMEOUT_S,
        )  # fmt: skip
        status = answer.status_code
        require(status == 400, f"answered {status}, expected 400", status)
        require(shown_prediction(answer.text) is None, f"a prediction is shown for {value}", status)
        require(bool(field_errors(answer.text)), "no field error is shown", status)
        return answer

    return check


check_form_rejects_nan = _form_refuses("nan")


# Values a browser's number input would never send, sent straight over the websocket: the app
# must show no prediction and raise nothing (Streamlit's own range check, or the shared validator).
HOSTILE_WIDGET_VALUES = {
    "NaN": math.nan,
    "Infinity": math.inf,
    "1e308": 1e308,
}


def _streamlit_refuses(value: float) -> Callable:
    """The value must not reach the model: either the app refuses it (no prediction), or
    Streamlit's own range check puts the widget back to its default, and the prediction shown
    is the default's (the other inputs are at their defaults too here)."""

    def check(running: RunningDeployment, model: LoadedModel) -> str | None:
        row = {f["name"]: f["default"] for f in model.metadata["features"]}
        with StreamlitSession(running.base_url, timeout_s=30) as session:
            session.connect()
            run = session.submit({**row, model.feature_names[0]: value}, "Predict")
        require(not run.exceptions, f"the script raised: {run.exceptions}")
        if run.prediction_label is None:
            return None
        kept = predict(model, [row])[0]
        require(
            run.prediction_label == kept["label"] and run.json_bodies == [kept["probabilities"]],
            f"a prediction for the hostile value is shown: {run.headings}",
        )
        return RESET_TO_DEFAULT

    return check


# Streamlit 1.67 checks a number input's value against the widget's range on the server and,
# when it is out of range (NaN compares out), silently puts the widget back to its default: the
# run predicts for the default, and the user is not told. (Measured: a valid 5.0 then NaN gives
# the prediction for the default 5.8, not for 5.0.)
RESET_TO_DEFAULT = "not used: Streamlit silently reset the widget to its default (out of range)"


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
