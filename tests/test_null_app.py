"""The null target: a constant answer shaped like a real one, and no model work at all."""

import io
import json
import os
import subprocess
import sys

import pytest
from werkzeug.test import Client

from bench import PROJECT_ROOT
from bench.load.scenarios import CHECK_ANSWERS_ENV
from bench.targets.manifest import discover
from deployments.null_app.app import ANSWER, MAX_BODY_BYTES, application
from shared_model.model import predict
from shared_model.schema import MAX_BODY_BYTES as CONTRACT_MAX_BODY_BYTES
from shared_model.schema import http_error_body


@pytest.fixture(scope="module")
def client():
    return Client(application)


def shape(value):
    """The keys and types of a JSON value, without its numbers and strings."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(item) for item in value]
    return type(value).__name__


def test_health_and_predict_answer_the_same_constant(client):
    health = client.get("/health")
    predicted = client.post("/api/predict", data=b"anything at all", content_type="text/plain")
    assert health.status_code == predicted.status_code == 200
    assert health.data == predicted.data == ANSWER
    assert predicted.mimetype == "application/json"


def test_the_answer_is_shaped_and_sized_like_a_one_row_prediction(model, good_row):
    real = json.dumps(
        {"predictions": predict(model, [good_row]), "model": model.summary}, separators=(",", ":")
    ).encode()
    assert shape(json.loads(ANSWER)) == shape(json.loads(real))
    assert abs(len(ANSWER) - len(real)) < 0.1 * len(real)


@pytest.mark.parametrize(("method", "path"), [("GET", "/nope"), ("GET", "/api/predict")])
def test_other_requests_get_404(client, method, path):
    answer = client.open(path, method=method)
    assert answer.status_code == 404
    assert answer.json["error"]["code"] == "not_found"


class Unreadable(io.BytesIO):
    """A request body that fails the test if the app reads it."""

    def read(self, *args):
        raise AssertionError("the body was read")


def test_a_body_over_the_contracts_cap_is_refused_unread(client):
    assert MAX_BODY_BYTES == CONTRACT_MAX_BODY_BYTES
    answer = client.post(
        "/api/predict",
        input_stream=Unreadable(),
        content_type="application/json",
        environ_overrides={"CONTENT_LENGTH": str(MAX_BODY_BYTES + 1)},
    )
    assert answer.status_code == 413
    assert answer.json == http_error_body(413)


def test_a_body_at_the_cap_is_read_and_answered(client):
    answer = client.post("/api/predict", data=b" " * MAX_BODY_BYTES, content_type="text/plain")
    assert answer.status_code == 200
    assert answer.data == ANSWER


def test_it_imports_no_model_code():
    probe = (
        "import sys, deployments.null_app.app; "
        "print(sorted(m for m in ('shared_model', 'sklearn', 'numpy') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_manifest_is_a_calibration_with_one_worker():
    null = {d.name: d for d in discover()}["null"]
    assert null.role == "calibration"
    assert null.scenarios == ("api_single",)
    # Its kept-alive configuration calibrates the deployments whose servers keep connections.
    assert list(null.configs) == ["default", "keepalive"] and null.configs["keepalive"].work
    assert null.environment("default", 1, 8) == {"WEB_CONCURRENCY": "1"}


@pytest.mark.parametrize(("value", "checks"), [(None, True), ("1", True), ("0", False)])
def test_the_scenario_skips_the_answer_check_only_when_told(value, checks):
    # In a subprocess: importing locust patches the process with gevent.
    env = {k: v for k, v in os.environ.items() if k != CHECK_ANSWERS_ENV}
    if value is not None:
        env[CHECK_ANSWERS_ENV] = value
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import bench.load.scenarios.api_single as s; print(s.CHECK_ANSWERS)",
        ],
        cwd=PROJECT_ROOT,
        env={**env, "PYTHONPATH": str(PROJECT_ROOT)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == str(checks)
