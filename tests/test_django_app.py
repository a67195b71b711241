import pytest
from django.test import Client

from bench.checks.bad_inputs import BAD_REQUESTS, ODD_BUT_VALID
from bench.clients.form_page import field_errors, form_fields, shown_prediction
from shared_model.model import predict
from shared_model.openapi import openapi_document
from tests.contract_cases import (
    BAD_IDS,
    HEADER_PATHS,
    VALID_IDS,
    assert_contract_error,
    assert_same_answers,
    assert_security_headers,
)


@pytest.fixture(scope="module", autouse=True)
def django_ready():
    import django
    from django.test.utils import setup_test_environment, teardown_test_environment

    django.setup()
    setup_test_environment()  # lets the test client's host through ALLOWED_HOSTS
    yield
    teardown_test_environment()


@pytest.fixture
def client():
    return Client(enforce_csrf_checks=True)


def test_health(client, model):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "model": model.summary}


def test_api_predicts_what_the_shared_model_predicts(client, model, good_row):
    rows = [good_row, {**good_row, "petal_length_cm": 1.2}]
    response = client.post("/api/predict", {"instances": rows}, content_type="application/json")
    assert response.status_code == 200
    assert response.json() == {"predictions": predict(model, rows), "model": model.summary}


@pytest.mark.parametrize("bad", BAD_REQUESTS, ids=BAD_IDS)
def test_bad_requests_get_contract_errors(client, bad):
    # The test client leaves out the Content-Type of an empty body, as a real client may not.
    extra = {"CONTENT_TYPE": bad.content_type or "", "CONTENT_LENGTH": str(len(bad.body))}
    response = client.generic(bad.method, bad.path, data=bad.body, **extra)
    assert_contract_error(response.status_code, response.json(), bad)


@pytest.mark.parametrize("valid", ODD_BUT_VALID, ids=VALID_IDS)
def test_odd_but_valid_requests_predict_like_their_plain_rows(client, model, valid):
    response = client.post("/api/predict", valid.body, content_type=valid.content_type)
    assert response.status_code == 200, response.json()
    assert_same_answers(response.json()["predictions"], predict(model, valid.same_as))


def test_serves_the_shared_openapi_document(client, model):
    response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.json() == openapi_document(model.metadata)


@pytest.mark.parametrize("path", HEADER_PATHS)
def test_every_response_carries_security_headers(client, path):
    assert_security_headers(client.get(path).headers)


def test_form_round_trip_with_csrf_token(client, model):
    fields = form_fields(client.get("/").content)
    assert "csrfmiddlewaretoken" in fields
    answer = client.post("/", data=fields)
    assert answer.status_code == 200
    defaults = {f["name"]: f["default"] for f in model.metadata["features"]}
    assert_same_answers(
        [shown_prediction(answer.content).as_prediction()], predict(model, [defaults])
    )


def test_form_without_csrf_token_is_refused(client, good_row):
    answer = client.post("/", data=good_row)
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "csrf_failed"


def test_form_shows_field_errors(client):
    fields = form_fields(client.get("/").content)
    answer = client.post("/", data={**fields, "sepal_width_cm": "Infinity", "petal_width_cm": ""})
    assert answer.status_code == 400
    assert shown_prediction(answer.content) is None
    assert len(field_errors(answer.content)) == 2


def test_form_escapes_what_it_reflects(client):
    fields = form_fields(client.get("/").content)
    answer = client.post("/", data={**fields, "sepal_width_cm": "<script>x</script>"})
    assert b"<script>x" not in answer.content


def test_debug_is_off():
    from django.conf import settings

    assert settings.DEBUG is False
