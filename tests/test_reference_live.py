"""The reference and calibration deployments served for real, on ports the OS picks."""

import pytest
import requests

from bench.checks.bad_inputs import FOREIGN_HOST_REQUESTS
from bench.checks.verify import HOSTILE, verify
from bench.clients.payloads import canonical_instances
from bench.targets.cores import available_cores
from bench.targets.manifest import discover
from tests.live import ServerPool

pytestmark = pytest.mark.live

NAMES = ("fastapi", "wsgi")


@pytest.fixture(scope="module")
def deployments():
    return {d.name: d for d in discover()}


def failures(results):
    return [f"{r.check}: {r.reason}" for r in results if not r.passed]


@pytest.fixture(scope="module")
def recommended(deployments, tmp_path_factory):
    """FastAPI and the bare WSGI app at their recommended worker counts, started side by side,
    each given one core (a core of its own where there are two): (2 x 1) + 1 = 3 workers."""
    cores = available_cores()
    pool = ServerPool(deployments.values(), tmp_path_factory.mktemp("recommended"))
    try:
        pool.warm(NAMES, "recommended", {n: [cores[i % len(cores)]] for i, n in enumerate(NAMES)})
        yield pool
    finally:
        left = pool.close()
    assert not left, f"servers outlived stop(): {left}"


# The default configurations pass every check in test_verify_live (the session's servers).
@pytest.mark.parametrize("name", NAMES)
def test_the_api_references_pass_every_check_with_the_recommended_workers(recommended, model, name):
    running = recommended.get(name, "recommended")
    results = verify(running, model)
    assert not failures(results), running.log_tail()
    assert any(r.check.startswith(HOSTILE) for r in results)
    assert len(running.tree()) >= 4  # a parent and its three workers


def test_the_null_target_passes_only_its_own_checks(servers, model):
    results = verify(servers.get("null"), model)
    assert [r.check for r in results] == [
        "health",
        "answers POST /api/predict with JSON",
        *(HOSTILE + case.name for case in FOREIGN_HOST_REQUESTS),  # as every deployment
    ]
    assert not failures(results)


def test_the_references_predict_what_flask_predicts(servers, model):
    body = {"instances": canonical_instances(model)}
    answers = {}
    for name in ("flask", "fastapi", "wsgi"):
        url = servers.get(name).base_url + "/api/predict"
        response = requests.post(url, json=body, timeout=10)
        assert response.status_code == 200, response.text
        answers[name] = response.json()["predictions"]
    # Each server computes its own answers: the same labels, probabilities to 1e-12.
    for name in ("fastapi", "wsgi"):
        for got, flask in zip(answers[name], answers["flask"], strict=True):
            assert (got["label"], got["class_id"]) == (flask["label"], flask["class_id"])
            assert got["probabilities"] == pytest.approx(flask["probabilities"], rel=0, abs=1e-12)
