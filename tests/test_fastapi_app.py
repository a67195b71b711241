"""The FastAPI reference deployment in-process: the same contract as Flask and Django."""

import json

import pytest

import deployments.fastapi_app.app as fastapi_app
from bench.checks.bad_inputs import BAD_REQUESTS, ODD_BUT_VALID
from shared_model.model import predict
from shared_model.openapi import openapi_document
from shared_model.schema import MAX_BODY_BYTES
from tests.asgi_client import AsgiClient
from tests.contract_cases import BAD_IDS, assert_contract_error, assert_same_answers

JSON = "application/json"


@pytest.fixture(scope="module")
def client():
    with AsgiClient(fastapi_app.app) as client:
        yield client


def post_json(client, body: bytes, **kwargs):
    return client.request("POST", "/api/predict", body, JSON, **kwargs)


def body_of(rows) -> bytes:
    return json.dumps({"instances": rows}).encode()


def test_health(client, model):
    answer = client.request("GET", "/health")
    assert answer.status == 200
    assert answer.json() == {"status": "ok", "model": model.summary}


def test_api_predicts_what_the_shared_model_predicts(client, model, good_row):
    rows = [good_row, {**good_row, "petal_length_cm": 1.2}]
    answer = post_json(client, body_of(rows))
    assert answer.status == 200
    assert answer.json() == {"predictions": predict(model, rows), "model": model.summary}


@pytest.mark.parametrize("bad", BAD_REQUESTS, ids=BAD_IDS)
def test_bad_requests_get_contract_errors(client, bad):
    answer = client.request(bad.method, bad.path, bad.body, bad.content_type)
    assert answer.headers["content-type"] == JSON
    assert_contract_error(answer.status, answer.json(), bad)


@pytest.mark.parametrize("valid", ODD_BUT_VALID, ids=[v.name for v in ODD_BUT_VALID])
def test_odd_but_valid_requests_are_answered(client, model, valid):
    answer = client.request("POST", "/api/predict", valid.body, valid.content_type)
    assert answer.status == 200
    assert_same_answers(answer.json()["predictions"], predict(model, valid.same_as))


def test_a_declared_length_over_the_limit_is_refused_before_reading(client):
    # One byte is sent: only the declared length can make this a 413 rather than a 400.
    answer = post_json(client, b"{", content_length=MAX_BODY_BYTES + 1)
    assert answer.status == 413
    assert answer.json()["error"]["code"] == "payload_too_large"


def test_a_streamed_body_over_the_limit_is_refused(client):
    chunk = b" " * (64 * 1024)
    answer = post_json(client, b"", chunks=[chunk] * (MAX_BODY_BYTES // len(chunk) + 1))
    assert answer.status == 413
    assert answer.json()["error"]["code"] == "payload_too_large"


def test_a_streamed_body_within_the_limit_is_predicted(client, model, good_row):
    body = body_of([good_row])
    answer = post_json(client, b"", chunks=[body[:10], body[10:]])
    assert answer.status == 200
    assert_same_answers(answer.json()["predictions"], predict(model, [good_row]))


def test_405_names_the_allowed_method(client):
    answer = client.request("POST", "/health")
    assert answer.status == 405
    assert answer.headers["allow"] == "GET"


def test_serves_the_shared_openapi_document_and_not_its_own(client, model):
    answer = client.request("GET", "/openapi.json")
    assert answer.status == 200
    assert answer.json() == openapi_document(model.metadata)
    for path in ("/docs", "/redoc", "/docs/oauth2-redirect"):
        assert client.request("GET", path).status == 404


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "/health", 200), ("GET", "/nope", 404), ("PUT", "/api/predict", 405)],
)
def test_security_headers_on_every_answer(client, method, path, status):
    answer = client.request(method, path)
    assert answer.status == status
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["referrer-policy"] == "same-origin"


def test_an_unexpected_error_is_a_json_500_with_the_headers(client, good_row, monkeypatch):
    def broken(*args):
        raise RuntimeError("boom")

    monkeypatch.setattr(fastapi_app, "predict", broken)
    answer = post_json(client, body_of([good_row]))
    assert answer.status == 500
    assert answer.json()["error"]["code"] == "internal_error"
    assert "boom" not in answer.body.decode()
    assert answer.headers["x-frame-options"] == "DENY"


def test_the_model_is_loaded_at_start_up_not_per_request(model, monkeypatch):
    loads = []
    monkeypatch.setattr(fastapi_app, "load_model", lambda: loads.append(1) or model)
    with AsgiClient(fastapi_app.app) as client:
        for _ in range(3):
            assert client.request("GET", "/health").status == 200
    assert loads == [1]
