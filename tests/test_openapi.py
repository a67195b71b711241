import copy

import pytest
import schemathesis

from bench.checks.bad_inputs import BAD_REQUESTS, GOOD
from shared_model.openapi import OPENAPI_PATH, openapi_document
from shared_model.schema import MAX_INSTANCES


@pytest.fixture(scope="module")
def document():
    return openapi_document()


def schema_of(document: dict, name: str) -> dict:
    return document["components"]["schemas"][name]


def test_the_default_document_describes_the_shipped_model(document, model):
    assert document == openapi_document(model.metadata)
    assert set(document["paths"]) == {"/api/predict", "/health", OPENAPI_PATH}


def test_a_row_is_exactly_the_models_features(document, model):
    row = schema_of(document, "Instance")
    assert row["required"] == model.feature_names == list(GOOD)
    assert row["additionalProperties"] is False
    instances = schema_of(document, "PredictRequest")["properties"]["instances"]
    assert (instances["minItems"], instances["maxItems"]) == (1, MAX_INSTANCES)


def test_the_model_in_each_answer_is_the_loaded_one(document, model):
    described = schema_of(document, "Model")["properties"]
    assert {key: spec["enum"] for key, spec in described.items()} == {
        key: [value] for key, value in model.summary.items()
    }


BODY_CASES = [bad for bad in BAD_REQUESTS if bad.path == "/api/predict" and bad.method == "POST"]


@pytest.mark.parametrize("bad", BODY_CASES, ids=[bad.name for bad in BODY_CASES])
def test_every_refusal_of_a_prediction_is_documented(document, bad):
    responses = document["paths"]["/api/predict"]["post"]["responses"]
    assert str(bad.status) in responses
    error = schema_of(document, f"Error{bad.status}")["properties"]["error"]
    assert bad.code in error["properties"]["code"]["enum"]


def test_metadata_without_features_is_a_clear_error(model):
    broken = copy.deepcopy(model.metadata)
    del broken["features"]
    with pytest.raises(ValueError, match="features"):
        openapi_document(broken)


def test_schemathesis_loads_every_operation(document):
    operations = list(schemathesis.openapi.from_dict(document).get_all_operations())
    assert len(operations) == 3
    assert all(operation.ok() for operation in operations)
