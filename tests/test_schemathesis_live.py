"""Schemathesis against every deployment with an API, driven by the OpenAPI document it serves.

Each deployment is the session's running server (on a port the OS picked), its /openapi.json is
loaded as served, and Hypothesis generates requests from it: valid ones must be accepted and
answered as documented, invalid ones refused with a documented 4xx, and none may get a 5xx.
The generation is derandomized, so a run repeats exactly; MAX_EXAMPLES bounds its length.
"""

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    negative_data_rejection,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)

from bench.targets.manifest import discover
from bench.targets.servers import RunningDeployment
from shared_model.openapi import OPENAPI_PATH

pytestmark = pytest.mark.live

MAX_EXAMPLES = 50
API_DEPLOYMENTS = [d for d in discover() if d.has_api and d.role != "calibration"]
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance]
# (method, path, mode): only the prediction takes input, so only it has invalid input to send.
RUNS = [
    ("POST", "/api/predict", GenerationMode.POSITIVE),
    ("POST", "/api/predict", GenerationMode.NEGATIVE),
    ("GET", "/health", GenerationMode.POSITIVE),
    ("GET", OPENAPI_PATH, GenerationMode.POSITIVE),
]
MODE_CHECK = {
    GenerationMode.POSITIVE: positive_data_acceptance,
    GenerationMode.NEGATIVE: negative_data_rejection,
}


@pytest.fixture(scope="module", params=API_DEPLOYMENTS, ids=lambda d: d.name)
def running(request, servers) -> RunningDeployment:
    return servers.get(request.param.name)


@pytest.fixture(scope="module")
def served_schema(running):
    return schemathesis.openapi.from_url(running.base_url + OPENAPI_PATH)


@pytest.mark.parametrize(
    ("method", "path", "mode"), RUNS, ids=[f"{m} {p} {mode.value}" for m, p, mode in RUNS]
)
def test_answers_conform_to_the_served_openapi_document(running, served_schema, method, path, mode):
    operation = served_schema[path][method]
    checks = [*CHECKS, MODE_CHECK[mode]]

    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def answers_as_documented(case):
        response = case.call(base_url=running.base_url)
        case.validate_response(response, checks=checks)

    answers_as_documented()
