import io
import re

import pytest

from bench.checks.bad_inputs import BAD_REQUESTS, ODD_BUT_VALID
from bench.clients.form_page import field_errors, form_fields, shown_prediction
from deployments.flask_app.app import create_app
from shared_model.model import predict
from shared_model.openapi import openapi_document
from shared_model.schema import MAX_BODY_BYTES
from tests.contract_cases import (
    BAD_IDS,
    HEADER_PATHS,
    VALID_IDS,
    assert_contract_error,
    assert_same_answers,
    assert_security_headers,
)


@pytest.fixture(scope="module")
def client():
    return create_app({"TESTING": True}).test_client()


def test_health(client, model):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "model": model.summary}


def test_api_predicts_what_the_shared_model_predicts(client, model, good_row):
    rows = [good_row, {**good_row, "petal_length_cm": 1.2}]
    response = client.post("/api/predict", json={"instances": rows})
    assert response.status_code == 200
    assert response.json == {"predictions": predict(model, rows), "model": model.summary}


@pytest.mark.parametrize("bad", BAD_REQUESTS, ids=BAD_IDS)
def test_bad_requests_get_contract_errors(client, bad):
    headers = {"Content-Type": bad.content_type} if bad.content_type else {}
    response = client.open(bad.path, method=bad.method, data=bad.body, headers=headers)
    assert_contract_error(response.status_code, response.get_json(), bad)


@pytest.mark.parametrize("valid", ODD_BUT_VALID, ids=VALID_IDS)
def test_odd_but_valid_requests_predict_like_their_plain_rows(client, model, valid):
    response = client.post(
        "/api/predict", data=valid.body, headers={"Content-Type": valid.content_type}
    )
    assert response.status_code == 200, response.json
    assert_same_answers(response.json["predictions"], predict(model, valid.same_as))


def test_a_streamed_body_over_the_limit_is_413_too(client):
    # A chunked body has no Content-Length: only the bytes read can tell it is too large.
    response = client.post(
        "/api/predict",
        input_stream=io.BytesIO(b'{"x": "' + b"a" * MAX_BODY_BYTES + b'"}'),
        headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 413
    assert response.json["error"]["code"] == "payload_too_large"


def test_serves_the_shared_openapi_document(client, model):
    response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.json == openapi_document(model.metadata)


@pytest.mark.parametrize("path", HEADER_PATHS)
def test_every_response_carries_security_headers(client, path):
    assert_security_headers(client.get(path).headers)


def test_the_page_style_is_allowed_by_its_content_security_policy(client):
    page = client.get("/")
    policy = page.headers["Content-Security-Policy"]
    [nonce] = re.findall(r'<style nonce="([^"]+)">', page.text)
    assert f"'nonce-{nonce}'" in policy
    assert "'unsafe-inline'" not in policy and "frame-ancestors 'none'" in policy
    assert "<script" not in page.text  # the policy allows no script at all


def test_the_session_cookie_works_over_plain_http(client):
    client.get("/")
    cookie = client.get_cookie("session")
    assert cookie is not None and not cookie.secure


def test_form_round_trip_with_csrf_token(client, model):
    fields = form_fields(client.get("/").data)
    assert "csrf_token" in fields
    answer = client.post("/", data=fields)
    assert answer.status_code == 200
    defaults = {f["name"]: f["default"] for f in model.metadata["features"]}
    assert_same_answers([shown_prediction(answer.data).as_prediction()], predict(model, [defaults]))


def test_form_without_csrf_token_is_refused(client, good_row):
    answer = client.post("/", data=good_row)
    assert answer.status_code == 403
    assert answer.json["error"]["code"] == "csrf_failed"


def test_form_shows_field_errors(client):
    fields = form_fields(client.get("/").data)
    answer = client.post("/", data={**fields, "sepal_width_cm": "Infinity", "petal_width_cm": ""})
    assert answer.status_code == 400
    assert shown_prediction(answer.data) is None
    assert len(field_errors(answer.data)) == 2


def test_form_escapes_what_it_reflects(client):
    fields = form_fields(client.get("/").data)
    answer = client.post("/", data={**fields, "sepal_width_cm": "<script>x</script>"})
    assert b"<script>x" not in answer.data


def test_a_missing_secret_key_stops_the_app(monkeypatch):
    monkeypatch.delenv("FLASK_SECRET_KEY")
    with pytest.raises(RuntimeError, match="FLASK_SECRET_KEY"):
        create_app()


def test_debug_is_off():
    assert create_app().debug is False
