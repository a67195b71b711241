import json

import pytest

from bench.checks.bad_inputs import BAD_REQUESTS, GOOD
from shared_model.schema import InputError, parse_json_body, validate_instance, validate_request

FEATURES = list(GOOD)
# The cases the shared validator decides (the rest are HTTP-level: 404, 405, 413, 415).
BODY_CASES = [bad for bad in BAD_REQUESTS if bad.status == 400]


@pytest.mark.parametrize("bad", BODY_CASES, ids=[b.name for b in BODY_CASES])
def test_bad_bodies_get_the_contract_code_and_field(bad):
    with pytest.raises(InputError) as caught:
        validate_request(parse_json_body(bad.body), FEATURES)
    assert (caught.value.status, caught.value.code, caught.value.field) == (
        400,
        bad.code,
        bad.field,
    )


def test_a_good_body_passes_and_becomes_floats():
    body = json.dumps({"instances": [{**GOOD, "sepal_width_cm": 3}]}).encode()
    [row] = validate_request(parse_json_body(body), FEATURES)
    assert row == {**GOOD, "sepal_width_cm": 3.0}
    assert all(type(v) is float for v in row.values())


def test_negative_zero_is_a_number():
    assert validate_instance({**GOOD, "sepal_width_cm": -0.0}, FEATURES)["sepal_width_cm"] == 0.0


def test_an_integer_too_large_for_a_float_is_not_finite():
    with pytest.raises(InputError, match="too large"):
        validate_instance({**GOOD, "sepal_width_cm": 10**400}, FEATURES)


def test_oversized_body_is_413():
    with pytest.raises(InputError) as caught:
        parse_json_body(b" " * (1024 * 1024 + 1))
    assert caught.value.status == 413


def test_error_body_shape():
    error = InputError("missing_feature", "missing feature 'x'", "instances[0].x")
    assert error.body() == {
        "error": {
            "code": "missing_feature",
            "message": "missing feature 'x'",
            "field": "instances[0].x",
        }
    }
