"""Cases both in-process app tests share: every hostile request of the contract, and a good one."""

from bench.checks.bad_inputs import BAD_REQUESTS, ODD_BUT_VALID
from bench.checks.probes_security import REQUIRED_SECURITY_HEADERS
from bench.clients.answers import same_predictions

BAD_IDS = [bad.name for bad in BAD_REQUESTS]
VALID_IDS = [valid.name for valid in ODD_BUT_VALID]
# A page, a JSON answer, the document, and two errors: the headers must be on every response.
HEADER_PATHS = ["/", "/health", "/openapi.json", "/no/such/path"]


def assert_contract_error(status: int, body: dict, bad) -> None:
    assert status == bad.status, body
    assert body["error"]["code"] == bad.code
    assert body["error"]["message"]
    if bad.field:
        assert body["error"]["field"] == bad.field


def assert_security_headers(headers) -> None:
    for name, allowed in REQUIRED_SECURITY_HEADERS.items():
        assert headers.get(name) in allowed, f"{name}: {headers.get(name)!r}"


# Two computations of one prediction: the same labels and classes, and probabilities within
# PROBA_ATOL. Not the same bits: a test must not depend on the CPU's BLAS kernels.
PROBA_ATOL = 1e-9


def assert_same_answers(got: list[dict], expected: list[dict]) -> None:
    assert [(p["label"], p["class_id"]) for p in got] == [
        (p["label"], p["class_id"]) for p in expected
    ]
    assert same_predictions(got, expected, tolerance=PROBA_ATOL), (got, expected)
