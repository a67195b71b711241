"""The reference and calibration deployments served for real, on this test's own ports."""

import contextlib

import pytest
import requests

from bench.manifest import discover
from bench.payloads import canonical_instances
from bench.process import available_cores, serving
from bench.verify import HOSTILE, verify

pytestmark = pytest.mark.live

# Away from the manifests' ports (8101-8109), so that a running benchmark is not disturbed.
PORTS = {"fastapi": 8211, "wsgi": 8212, "null": 8213, "flask": 8214}


@pytest.fixture(scope="module")
def deployments():
    return {d.name: d for d in discover()}


def failures(results):
    return [f"{r.check}: {r.reason}" for r in results if not r.passed]


@pytest.mark.parametrize("name", ["fastapi", "wsgi"])
@pytest.mark.parametrize("config", ["default", "recommended"])
def test_the_api_references_pass_every_check(deployments, model, tmp_path, name, config):
    # One core: the recommended configuration then runs (2 x 1) + 1 = 3 workers.
    with serving(
        deployments[name],
        config,
        port=PORTS[name],
        cores=available_cores()[:1],
        log_path=tmp_path / f"{name}.log",
    ) as running:
        results = verify(running, model)
        processes = len(running.tree())
    assert not failures(results), (tmp_path / f"{name}.log").read_text()
    assert any(r.check.startswith(HOSTILE) for r in results)
    if config == "recommended":
        assert processes >= 4  # a parent and its three workers


def test_the_null_target_passes_its_checks(deployments, model, tmp_path):
    with serving(
        deployments["null"], port=PORTS["null"], log_path=tmp_path / "null.log"
    ) as running:
        results = verify(running, model)
    assert [r.check for r in results] == ["health", "answers POST /api/predict with JSON"]
    assert not failures(results)


def test_the_references_predict_exactly_what_flask_predicts(deployments, model, tmp_path):
    body = {"instances": canonical_instances(model)}
    answers = {}
    with contextlib.ExitStack() as stack:
        for name in ("flask", "fastapi", "wsgi"):
            running = stack.enter_context(
                serving(deployments[name], port=PORTS[name], log_path=tmp_path / f"{name}.log")
            )
            response = requests.post(running.base_url + "/api/predict", json=body, timeout=10)
            assert response.status_code == 200, response.text
            answers[name] = response.json()["predictions"]
    assert answers["fastapi"] == answers["flask"]
    assert answers["wsgi"] == answers["flask"]
