"""The input contract every deployment enforces, and the error bodies it answers with.

One validator, imported by every deployment, so that the same bad input gets the same status,
error code and field everywhere. The HTTP-level cases (415, 413, 405, 404) are each
framework's own job; their codes are defined here so that all deployments agree on them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

MAX_BODY_BYTES = 1024 * 1024
MIN_INSTANCES = 1
MAX_INSTANCES = 1000
# A feature's magnitude bound. A finite number far beyond any measurement (1.7e308 cm) overflows
# to infinity inside the model's scaler, and scikit-learn then raises: refuse it as input.
MAX_ABS_FEATURE = 1e6

# code -> HTTP status
ERROR_STATUS = {
    "bad_request": 400,
    "invalid_json": 400,
    "invalid_body": 400,
    "invalid_instances": 400,
    "invalid_instance": 400,
    "missing_feature": 400,
    "unknown_feature": 400,
    "duplicate_key": 400,
    "invalid_type": 400,
    "not_finite": 400,
    "out_of_range": 400,
    "csrf_failed": 403,
    "not_found": 404,
    "method_not_allowed": 405,
    "payload_too_large": 413,
    "unsupported_media_type": 415,
    "internal_error": 500,
}
# Errors each framework raises on its own, by HTTP status: the contract's code and message.
HTTP_ERRORS = {
    400: ("bad_request", "the request is malformed"),
    403: ("csrf_failed", "the form's CSRF token is missing or invalid"),
    404: ("not_found", "no such path"),
    405: ("method_not_allowed", "method not allowed for this path"),
    413: ("payload_too_large", f"request body exceeds {MAX_BODY_BYTES} bytes"),
    415: ("unsupported_media_type", "Content-Type must be application/json"),
}
JSON_MEDIA_TYPE = "application/json"


class InputError(ValueError):
    """Bad input: carries the status, the error code and, where it applies, the field."""

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        self.status = ERROR_STATUS[code]

    def body(self) -> dict[str, Any]:
        return error_body(self.code, self.message, self.field)


def error_body(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if field is not None:
        error["field"] = field
    return {"error": error}


def http_error_body(status: int) -> dict[str, Any]:
    """The contract's body for an HTTP error the framework raised itself."""
    code, message = HTTP_ERRORS.get(status, ("internal_error", "the server failed"))
    return error_body(code, message)


def parse_json_body(raw: bytes) -> Any:
    """Decode a request body as strict UTF-8 JSON; duplicate keys are an error, not a merge."""
    if len(raw) > MAX_BODY_BYTES:
        raise InputError("payload_too_large", HTTP_ERRORS[413][1])
    if not raw.strip():
        raise InputError("invalid_json", "request body is empty; expected a JSON object")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError("invalid_json", f"request body is not UTF-8: {exc.reason}") from exc
    try:
        return json.loads(text, object_pairs_hook=_reject_duplicate_keys)
    except InputError:
        raise
    except RecursionError as exc:
        raise InputError("invalid_json", "JSON is nested too deeply") from exc
    except ValueError as exc:
        raise InputError("invalid_json", f"malformed JSON: {exc}") from exc


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise InputError("duplicate_key", f"key {key!r} appears more than once", key)
        seen[key] = value
    return seen


def validate_request(payload: Any, feature_names: Sequence[str]) -> list[dict[str, float]]:
    """Check a decoded `{"instances": [...]}` body; return the instances as floats."""
    if not isinstance(payload, dict):
        raise InputError("invalid_body", 'expected a JSON object like {"instances": [...]}')
    extra = sorted(set(payload) - {"instances"})
    if extra:
        raise InputError("invalid_body", f"unexpected top-level key {extra[0]!r}", extra[0])
    if "instances" not in payload:
        raise InputError("invalid_body", "missing key 'instances'", "instances")
    instances = payload["instances"]
    if not isinstance(instances, list):
        raise InputError("invalid_instances", "'instances' must be a list", "instances")
    if not MIN_INSTANCES <= len(instances) <= MAX_INSTANCES:
        raise InputError(
            "invalid_instances",
            f"'instances' must hold {MIN_INSTANCES} to {MAX_INSTANCES} rows, got {len(instances)}",
            "instances",
        )
    return [
        validate_instance(instance, feature_names, f"instances[{i}]")
        for i, instance in enumerate(instances)
    ]


def validate_instance(
    instance: Any, feature_names: Sequence[str], where: str = "instance"
) -> dict[str, float]:
    """Check one row: exactly the model's features, each a finite JSON number."""
    if not isinstance(instance, dict):
        raise InputError("invalid_instance", f"{where} must be an object of features", where)
    for name in feature_names:
        if name not in instance:
            raise InputError("missing_feature", f"missing feature {name!r}", f"{where}.{name}")
    for name in instance:
        if name not in feature_names:
            raise InputError("unknown_feature", f"unknown feature {name!r}", f"{where}.{name}")
    return {name: _finite_number(instance[name], f"{where}.{name}") for name in feature_names}


def _finite_number(value: Any, field: str) -> float:
    # bool is a subclass of int in Python, but `true` is not a measurement.
    if isinstance(value, bool) or not isinstance(value, int | float):
        kind = "null" if value is None else type(value).__name__
        raise InputError("invalid_type", f"{field} must be a number, got {kind}", field)
    number = float(value) if isinstance(value, float) else _int_as_float(value, field)
    if not math.isfinite(number):
        raise InputError("not_finite", f"{field} must be finite, got {value!r}", field)
    if abs(number) > MAX_ABS_FEATURE:
        raise InputError(
            "out_of_range", f"{field} must be within ±{MAX_ABS_FEATURE:g}, got {value!r}", field
        )
    return number


def _int_as_float(value: int, field: str) -> float:
    try:
        return float(value)
    except OverflowError as exc:
        raise InputError("not_finite", f"{field} is too large to be a float", field) from exc
