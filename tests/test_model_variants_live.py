"""Every deployment serves the variant SHARED_MODEL_NAME names, without a change to its code."""

import json
import urllib.request

import pytest

from bench.clients.payloads import canonical_instances
from bench.clients.streamlit import StreamlitSession
from bench.targets.manifest import discover
from shared_model.model import MODEL_NAME_ENV, load_model, predict
from tests.live import ServerPool

pytestmark = pytest.mark.live

VARIANT = "iris-forest"
SERVED = [
    d for d in discover() if d.role != "calibration" and (d.has_api or "ui_session" in d.scenarios)
]


@pytest.fixture(scope="module")
def forest():
    return load_model(name=VARIANT)


@pytest.fixture(scope="module")
def forest_servers(tmp_path_factory):
    """Every served deployment started side by side with SHARED_MODEL_NAME set to the variant."""
    pool = ServerPool(SERVED, tmp_path_factory.mktemp("forest"), {MODEL_NAME_ENV: VARIANT})
    try:
        pool.warm(d.name for d in SERVED)
        yield pool
    finally:
        left = pool.close()
    assert not left, f"servers outlived stop(): {left}"


def get_json(url: str, body: dict | None = None) -> dict:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def assert_same_prediction(served: dict, expected: dict) -> None:
    assert (served["label"], served["class_id"]) == (expected["label"], expected["class_id"])
    assert served["probabilities"] == pytest.approx(expected["probabilities"], abs=1e-12)


def test_the_variants_give_different_probabilities_so_this_test_can_fail(forest):
    rows = canonical_instances(forest)
    assert predict(forest, rows) != predict(load_model(name="iris-logreg"), rows)


@pytest.mark.parametrize("deployment", SERVED, ids=lambda d: d.name)
def test_the_deployment_serves_the_variant_the_environment_names(
    deployment, forest, forest_servers
):
    running = forest_servers.get(deployment.name)
    rows = canonical_instances(forest)
    if deployment.has_api:
        health = get_json(running.base_url + deployment.health_path)
        assert health["model"] == forest.summary
        answer = get_json(running.base_url + "/api/predict", {"instances": rows})
        assert answer["model"] == forest.summary
        for served, expected in zip(answer["predictions"], predict(forest, rows), strict=True):
            assert_same_prediction(served, expected)
    else:
        with StreamlitSession(running.base_url, timeout_s=30) as session:
            first = session.connect()
            captions = [m.body for m in first.of_type("markdown")]
            assert any(f"Model {VARIANT} v" in caption for caption in captions), captions
            for row in rows[:3]:
                run = session.submit(row, "Predict")
                [expected] = predict(forest, [row])
                assert run.prediction_label == expected["label"]
                assert run.json_bodies == [pytest.approx(expected["probabilities"])]
