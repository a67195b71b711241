"""The bare WSGI reference deployment in-process: the same contract as Flask and Django."""

import io
import json

import pytest
from werkzeug.test import Client

import deployments.wsgi_app.app as wsgi_app
from bench.checks.bad_inputs import BAD_REQUESTS, ODD_BUT_VALID
from shared_model.model import predict
from shared_model.openapi import openapi_document
from shared_model.schema import MAX_BODY_BYTES
from tests.contract_cases import BAD_IDS, assert_contract_error, assert_same_answers

JSON = "application/json"
# What gunicorn tells the app: the body's end is marked, so a body without a length is readable.
GUNICORN_ENVIRON = {"wsgi.input_terminated": True}


@pytest.fixture(scope="module")
def client():
    return Client(wsgi_app.create_app())


def send(client, method, path, body=b"", content_type=None, **kwargs):
    headers = {"Content-Type": content_type} if content_type else {}
    return client.open(
        path,
        method=method,
        data=body,
        headers=headers,
        environ_overrides=GUNICORN_ENVIRON,
        **kwargs,
    )


def test_health(client, model):
    answer = send(client, "GET", "/health")
    assert answer.status_code == 200
    assert answer.json == {"status": "ok", "model": model.summary}


def test_api_predicts_what_the_shared_model_predicts(client, model, good_row):
    rows = [good_row, {**good_row, "petal_length_cm": 1.2}]
    answer = send(client, "POST", "/api/predict", json.dumps({"instances": rows}), JSON)
    assert answer.status_code == 200
    assert answer.json == {"predictions": predict(model, rows), "model": model.summary}


@pytest.mark.parametrize("bad", BAD_REQUESTS, ids=BAD_IDS)
def test_bad_requests_get_contract_errors(client, bad):
    answer = send(client, bad.method, bad.path, bad.body, bad.content_type)
    assert answer.mimetype == JSON
    assert_contract_error(answer.status_code, answer.get_json(), bad)


@pytest.mark.parametrize("valid", ODD_BUT_VALID, ids=[v.name for v in ODD_BUT_VALID])
def test_odd_but_valid_requests_are_answered(client, model, valid):
    answer = send(client, "POST", "/api/predict", valid.body, valid.content_type)
    assert answer.status_code == 200
    assert_same_answers(answer.json["predictions"], predict(model, valid.same_as))


def test_a_declared_length_over_the_limit_is_refused_before_reading(client):
    # One byte is there: only the declared length can make this a 413 rather than a 400.
    answer = client.post(
        "/api/predict",
        input_stream=io.BytesIO(b"{"),
        content_type=JSON,
        environ_overrides={"CONTENT_LENGTH": str(MAX_BODY_BYTES + 1)},
    )
    assert answer.status_code == 413
    assert answer.json["error"]["code"] == "payload_too_large"


@pytest.mark.parametrize("declared", ["abc", "-1"])
def test_an_invalid_content_length_is_a_bad_request(client, declared):
    answer = client.post(
        "/api/predict",
        data=b"{}",
        content_type=JSON,
        environ_overrides={"CONTENT_LENGTH": declared},
    )
    assert answer.status_code == 400
    assert answer.json["error"]["code"] == "bad_request"


def streamed(client, body: bytes):
    """A body without a Content-Length, as gunicorn hands over a chunked one."""
    return client.post(
        "/api/predict",
        input_stream=io.BytesIO(body),
        content_type=JSON,
        environ_overrides={**GUNICORN_ENVIRON, "CONTENT_LENGTH": ""},
    )


def test_a_streamed_body_over_the_limit_is_refused(client):
    answer = streamed(client, b" " * (MAX_BODY_BYTES + 10))
    assert answer.status_code == 413
    assert answer.json["error"]["code"] == "payload_too_large"


def test_a_streamed_body_within_the_limit_is_predicted(client, model, good_row):
    answer = streamed(client, json.dumps({"instances": [good_row]}).encode())
    assert answer.status_code == 200
    assert_same_answers(answer.json["predictions"], predict(model, [good_row]))


def test_405_names_the_allowed_method(client):
    answer = send(client, "POST", "/health")
    assert answer.status_code == 405
    assert answer.headers["Allow"] == "GET"


def test_serves_the_shared_openapi_document(client, model):
    answer = send(client, "GET", "/openapi.json")
    assert answer.status_code == 200
    assert answer.json == openapi_document(model.metadata)


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "/health", 200), ("GET", "/nope", 404), ("PUT", "/api/predict", 405)],
)
def test_security_headers_on_every_answer(client, method, path, status):
    answer = send(client, method, path)
    assert answer.status_code == status
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["X-Frame-Options"] == "DENY"
    assert answer.headers["Referrer-Policy"] == "same-origin"


def test_an_unexpected_error_is_a_json_500_and_logged(client, good_row, monkeypatch):
    def broken(*args):
        raise RuntimeError("boom")

    monkeypatch.setattr(wsgi_app, "predict", broken)
    log = io.StringIO()
    answer = client.post(
        "/api/predict",
        data=json.dumps({"instances": [good_row]}),
        content_type=JSON,
        environ_overrides={"wsgi.errors": log},
    )
    assert answer.status_code == 500
    assert answer.json["error"]["code"] == "internal_error"
    assert "boom" not in answer.get_data(as_text=True)
    assert "RuntimeError: boom" in log.getvalue()
