"""The REST API's conformance checks: health, the OpenAPI document, the canonical predictions,
and the hostile-input suite's requests (bench/checks/bad_inputs.py)."""

from __future__ import annotations

import requests

from bench.checks.bad_inputs import (
    BAD_REQUESTS,
    FOREIGN_HOST_REQUESTS,
    ODD_BUT_VALID,
    BadRequest,
    ValidRequest,
)
from bench.checks.verify_common import (
    HOSTILE,
    TIMEOUT_S,
    Check,
    CheckFailed,
    NamedChecks,
    foreign_host_checks,
    require,
)
from bench.clients.answers import same_predictions
from bench.clients.payloads import canonical_instances
from bench.clients.rest import PREDICT_PATH, RestClient
from bench.targets.servers import RunningDeployment
from shared_model.model import LoadedModel, predict
from shared_model.openapi import OPENAPI_PATH, openapi_document

REST = RestClient()
PROTOCOL = REST.protocol


def checks() -> NamedChecks:
    yield "health", check_health
    yield "OpenAPI document", check_openapi
    yield "canonical predictions", check_predictions
    for bad in BAD_REQUESTS:
        yield HOSTILE + bad.name, _bad_request_check(bad)
    for valid in ODD_BUT_VALID:
        yield HOSTILE + valid.name, _valid_request_check(valid)
    yield from foreign_host_checks(FOREIGN_HOST_REQUESTS)
    yield HOSTILE + "still healthy afterwards", check_still_healthy


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


def check_answers_json(running: RunningDeployment, model: LoadedModel) -> None:
    """It answers a prediction request with JSON (the null target's constant counts)."""
    response = REST.post(running.base_url, canonical_instances(model)[:1], TIMEOUT_S)
    require(response.status_code == 200, f"answered {response.status_code}: {response.text[:200]}")
    try:
        response.json()
    except ValueError:
        raise CheckFailed(f"not JSON: {response.text[:160]!r}") from None


def check_predictions(running: RunningDeployment, model: LoadedModel) -> None:
    rows = canonical_instances(model)
    response = REST.post(running.base_url, rows, TIMEOUT_S)
    require(response.status_code == 200, f"answered {response.status_code}: {response.text[:200]}")
    body = response.json()
    # Exact equality: every deployment calls the same predict(), and JSON floats round-trip.
    require(
        same_predictions(body.get("predictions", []), predict(model, rows), tolerance=0.0),
        "predictions differ from shared_model.predict() for the canonical rows",
    )
    require(body.get("model") == model.summary, f"model is {body.get('model')}")


def _bad_request_check(bad: BadRequest) -> Check:
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


def _valid_request_check(valid: ValidRequest) -> Check:
    def check(running: RunningDeployment, model: LoadedModel) -> requests.Response:
        response = _send(running, "POST", PREDICT_PATH, valid.body, valid.content_type)
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
