"""Bad requests and the answer the contract requires for each: the same on every deployment."""

from __future__ import annotations

import json
from dataclasses import dataclass

from shared_model.schema import MAX_BODY_BYTES, MAX_INSTANCES

GOOD = {
    "sepal_length_cm": 5.1,
    "sepal_width_cm": 3.5,
    "petal_length_cm": 1.4,
    "petal_width_cm": 0.2,
}
JSON = "application/json"


@dataclass(frozen=True)
class BadRequest:
    name: str
    body: bytes = b""
    content_type: str | None = JSON
    method: str = "POST"
    path: str = "/api/predict"
    status: int = 400
    code: str = "invalid_body"
    field: str | None = None


def _with(**changes: object) -> bytes:
    """A one-row body whose row is GOOD with `changes` applied (_DELETE removes a feature)."""
    row = {**GOOD, **changes}
    row = {k: v for k, v in row.items() if v is not _DELETE}
    return json.dumps({"instances": [row]}).encode()


_DELETE = object()
_F = "instances[0].sepal_length_cm"

BAD_REQUESTS = [
    BadRequest("malformed JSON", b'{"instances": [', code="invalid_json"),
    BadRequest("empty body", b"", code="invalid_json"),
    BadRequest("not UTF-8", b'{"instances": "\xff\xfe"}', code="invalid_json"),
    BadRequest("deeply nested JSON", b"[" * 100_000 + b"]" * 100_000, code="invalid_json"),
    BadRequest(
        "text/plain body",
        _with(),
        content_type="text/plain",
        status=415,
        code="unsupported_media_type",
    ),
    BadRequest(
        "no Content-Type", _with(), content_type=None, status=415, code="unsupported_media_type"
    ),
    BadRequest(
        "body over 1 MiB", b" " * (MAX_BODY_BYTES + 1), status=413, code="payload_too_large"
    ),
    BadRequest("top-level array", b"[]", code="invalid_body"),
    BadRequest("no instances key", b"{}", code="invalid_body", field="instances"),
    BadRequest(
        "extra top-level key", json.dumps({"instances": [GOOD], "x": 1}).encode(), field="x"
    ),
    BadRequest(
        "instances not a list", b'{"instances": {}}', code="invalid_instances", field="instances"
    ),
    BadRequest("0 instances", b'{"instances": []}', code="invalid_instances", field="instances"),
    BadRequest(
        f"{MAX_INSTANCES + 1} instances",
        json.dumps({"instances": [GOOD] * (MAX_INSTANCES + 1)}).encode(),
        code="invalid_instances",
        field="instances",
    ),
    BadRequest(
        "row not an object",
        b'{"instances": [[5.1, 3.5, 1.4, 0.2]]}',
        code="invalid_instance",
        field="instances[0]",
    ),
    BadRequest("missing feature", _with(sepal_length_cm=_DELETE), code="missing_feature", field=_F),
    BadRequest(
        "extra feature", _with(colour=1), code="unknown_feature", field="instances[0].colour"
    ),
    BadRequest(
        "misspelled feature",
        _with(sepal_length_cm=_DELETE, sepal_lenght_cm=5.1),
        code="missing_feature",
        field=_F,
    ),
    BadRequest(
        "duplicated feature",
        b'{"instances": [{"sepal_length_cm": 5.1, "sepal_length_cm": 5.2, "sepal_width_cm": 3.5, '
        b'"petal_length_cm": 1.4, "petal_width_cm": 0.2}]}',
        code="duplicate_key",
        field="sepal_length_cm",
    ),
    BadRequest("string value", _with(sepal_length_cm="5.1"), code="invalid_type", field=_F),
    BadRequest("boolean value", _with(sepal_length_cm=True), code="invalid_type", field=_F),
    BadRequest("null value", _with(sepal_length_cm=None), code="invalid_type", field=_F),
    BadRequest(
        "nested object value", _with(sepal_length_cm={"v": 5.1}), code="invalid_type", field=_F
    ),
    BadRequest("NaN", _with().replace(b"5.1", b"NaN"), code="not_finite", field=_F),
    BadRequest("Infinity", _with().replace(b"5.1", b"Infinity"), code="not_finite", field=_F),
    BadRequest("-Infinity", _with().replace(b"5.1", b"-Infinity"), code="not_finite", field=_F),
    BadRequest("1e309", _with().replace(b"5.1", b"1e309"), code="not_finite", field=_F),
    BadRequest(
        "GET on the API", method="GET", content_type=None, status=405, code="method_not_allowed"
    ),
    BadRequest("PUT on the API", _with(), method="PUT", status=405, code="method_not_allowed"),
    BadRequest(
        "POST on /health",
        method="POST",
        path="/health",
        content_type=None,
        status=405,
        code="method_not_allowed",
    ),
    BadRequest(
        "unknown path",
        method="GET",
        path="/no/such/path",
        content_type=None,
        status=404,
        code="not_found",
    ),
]
