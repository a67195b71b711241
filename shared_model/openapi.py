"""The REST contract as an OpenAPI 3.0.3 document: the one description every API serves.

Built from schema.py's constants and the model's metadata, so the document cannot drift from
the validator: the feature names, the row limits, the error codes and their statuses all come
from there. Every deployment with an API serves `openapi_document()` at GET /openapi.json.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from shared_model.model import read_metadata
from shared_model.schema import (
    ERROR_STATUS,
    HTTP_ERRORS,
    JSON_MEDIA_TYPE,
    MAX_ABS_FEATURE,
    MAX_BODY_BYTES,
    MAX_INSTANCES,
    MIN_INSTANCES,
)

OPENAPI_VERSION = "3.0.3"
CONTRACT_VERSION = "1"
OPENAPI_PATH = "/openapi.json"
# Statuses each operation can answer besides 200; 404 answers any path not listed here.
PREDICT_ERRORS = (400, 404, 405, 413, 415)
READ_ONLY_ERRORS = (404, 405)
STATUS_DESCRIPTIONS = {
    400: "Bad input: malformed JSON or a body that breaks the contract",
    404: "No such path",
    405: "Method not allowed for this path",
    413: "Request body too large",
    415: "Content-Type is not application/json",
}


def openapi_document(metadata: dict[str, Any] | None = None) -> dict[str, Any]:
    """The contract for the model described by `metadata` (default: the selected model's JSON,
    as shared_model.model.read_metadata() finds it; the estimator is never loaded).

    Raises ValueError naming what is missing when the metadata does not describe features,
    classes, name, version and sha256 (and ModelIntegrityError when it cannot be read).
    """
    meta = metadata if metadata is not None else read_metadata()
    try:
        features = [feature["name"] for feature in meta["features"]]
        classes = list(meta["classes"])
        model = {key: str(meta[key]) for key in ("name", "version", "sha256")}
    except (KeyError, TypeError) as exc:
        raise ValueError(f"model metadata lacks {exc}: cannot describe the API") from exc
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": f"{model['name']} prediction API",
            "version": CONTRACT_VERSION,
            "description": (
                f"Predicts the class of {model['name']} v{model['version']} "
                f"(sha256 {model['sha256']}). Duplicate JSON keys are refused (duplicate_key), "
                f"bodies over {MAX_BODY_BYTES} bytes get 413, and every feature must be a "
                "finite number (NaN, Infinity and numbers beyond a float's range get "
                "not_finite; -0 is 0)."
            ),
        },
        "paths": {
            "/api/predict": {"post": _predict_operation()},
            "/health": {"get": _health_operation()},
            OPENAPI_PATH: {"get": _openapi_operation()},
        },
        "components": {"schemas": _schemas(features, classes, model)},
    }


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json_content(schema: dict[str, Any]) -> dict[str, Any]:
    return {JSON_MEDIA_TYPE: {"schema": schema}}


def _error_responses(statuses: tuple[int, ...]) -> dict[str, Any]:
    return {
        str(status): {
            "description": STATUS_DESCRIPTIONS[status],
            "content": _json_content(_ref(f"Error{status}")),
        }
        for status in statuses
    }


def _predict_operation() -> dict[str, Any]:
    return {
        "operationId": "predict",
        "summary": f"Predict {MIN_INSTANCES} to {MAX_INSTANCES} rows",
        "requestBody": {"required": True, "content": _json_content(_ref("PredictRequest"))},
        "responses": {
            "200": {
                "description": "One prediction per row, in the rows' order",
                "content": _json_content(_ref("PredictResponse")),
            },
            **_error_responses(PREDICT_ERRORS),
        },
    }


def _health_operation() -> dict[str, Any]:
    return {
        "operationId": "health",
        "summary": "Liveness, and which model is loaded",
        "responses": {
            "200": {"description": "Serving", "content": _json_content(_ref("Health"))},
            **_error_responses(READ_ONLY_ERRORS),
        },
    }


def _openapi_operation() -> dict[str, Any]:
    return {
        "operationId": "openapi",
        "summary": "This document",
        "responses": {
            "200": {
                "description": "The OpenAPI document",
                "content": _json_content({"type": "object", "required": ["openapi"]}),
            },
            **_error_responses(READ_ONLY_ERRORS),
        },
    }


def _schemas(features: list[str], classes: list[str], model: dict[str, str]) -> dict[str, Any]:
    probabilities = {"type": "number", "minimum": 0, "maximum": 1}
    schemas: dict[str, Any] = {
        "Instance": {
            "type": "object",
            "description": "One row: exactly the model's features, each a finite number",
            "properties": {
                name: {"type": "number", "minimum": -MAX_ABS_FEATURE, "maximum": MAX_ABS_FEATURE}
                for name in features
            },
            "required": features,
            "additionalProperties": False,
        },
        "PredictRequest": {
            "type": "object",
            "properties": {
                "instances": {
                    "type": "array",
                    "items": _ref("Instance"),
                    "minItems": MIN_INSTANCES,
                    "maxItems": MAX_INSTANCES,
                }
            },
            "required": ["instances"],
            "additionalProperties": False,
        },
        "Prediction": {
            "type": "object",
            "properties": {
                "label": {"type": "string", "enum": classes},
                "class_id": {"type": "integer", "minimum": 0, "maximum": len(classes) - 1},
                "probabilities": {
                    "type": "object",
                    "properties": {name: probabilities for name in classes},
                    "required": classes,
                    "additionalProperties": False,
                },
            },
            "required": ["label", "class_id", "probabilities"],
            "additionalProperties": False,
        },
        "Model": {
            "type": "object",
            "properties": {
                key: {"type": "string", "enum": [value]} for key, value in model.items()
            },
            "required": list(model),
            "additionalProperties": False,
        },
        "PredictResponse": {
            "type": "object",
            "properties": {
                "predictions": {"type": "array", "items": _ref("Prediction")},
                "model": _ref("Model"),
            },
            "required": ["predictions", "model"],
            "additionalProperties": False,
        },
        "Health": {
            "type": "object",
            "properties": {"status": {"type": "string", "enum": ["ok"]}, "model": _ref("Model")},
            "required": ["status", "model"],
            "additionalProperties": False,
        },
    }
    for status, codes in _codes_by_status().items():
        schemas[f"Error{status}"] = _error_schema(codes)
    return schemas


def _codes_by_status() -> dict[int, list[str]]:
    codes: dict[int, list[str]] = defaultdict(list)
    for code, status in ERROR_STATUS.items():
        if status in STATUS_DESCRIPTIONS:
            codes[status].append(code)
    for status, (code, _) in HTTP_ERRORS.items():
        if status in STATUS_DESCRIPTIONS and code not in codes[status]:
            codes[status].append(code)
    return dict(codes)


def _error_schema(codes: list[str]) -> dict[str, Any]:
    """The shared error body, {"error": {"code", "message", "field"?}}, for one status."""
    return {
        "type": "object",
        "properties": {
            "error": {
                "type": "object",
                "properties": {
                    "code": {"type": "string", "enum": codes},
                    "message": {"type": "string", "minLength": 1},
                    "field": {"type": "string"},
                },
                "required": ["code", "message"],
                "additionalProperties": False,
            }
        },
        "required": ["error"],
        "additionalProperties": False,
    }
