"""Hostile requests and the answer the contract requires for each: the same on every deployment.

BAD_REQUESTS must be refused with the given status, error code and field. ODD_BUT_VALID look
suspicious but are valid: each must get 200 and the predictions of its plain equivalent.
FOREIGN_HOST_REQUESTS name a host the server does not serve (what a DNS-rebinding page sends):
each must be refused with a 4xx, never answered; Streamlit's case is its websocket handshake.
"""

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


@dataclass(frozen=True)
class ValidRequest:
    name: str
    body: bytes
    same_as: tuple[dict[str, float], ...]  # the rows whose predictions it must get
    content_type: str = JSON


def _with(**changes: object) -> bytes:
    """A one-row body whose row is GOOD with `changes` applied (_DELETE removes a feature)."""
    row = {**GOOD, **changes}
    row = {k: v for k, v in row.items() if v is not _DELETE}
    return json.dumps({"instances": [row]}).encode()


def _first_feature_as(text: bytes) -> bytes:
    """A one-row body whose sepal_length_cm is written as the raw JSON `text`."""
    return _with().replace(b"5.1", text, 1)


_DELETE = object()
_F = "instances[0].sepal_length_cm"
_GOOD_BODY = _with()


def _unsupported(name: str, content_type: str | None) -> BadRequest:
    return BadRequest(
        name, _GOOD_BODY, content_type=content_type, status=415, code="unsupported_media_type"
    )


def _not_allowed(name: str, method: str, path: str = "/api/predict") -> BadRequest:
    return BadRequest(
        name, method=method, path=path, content_type=None, status=405, code="method_not_allowed"
    )


BAD_REQUESTS = [
    # -- not JSON at all, or not the JSON the body claims to be
    BadRequest("malformed JSON", b"{'instances': []}", code="invalid_json"),
    BadRequest("truncated JSON", b'{"instances": [', code="invalid_json"),
    BadRequest(
        "JSON cut mid-number", _GOOD_BODY[: _GOOD_BODY.index(b"5.1") + 2], code="invalid_json"
    ),
    BadRequest("trailing data after JSON", _GOOD_BODY + b" {}", code="invalid_json"),
    BadRequest("empty body", b"", code="invalid_json"),
    BadRequest("whitespace-only body", b" \r\n\t ", code="invalid_json"),
    BadRequest("not UTF-8", b'{"instances": "\xff\xfe"}', code="invalid_json"),
    BadRequest("deeply nested arrays", b"[" * 100_000 + b"]" * 100_000, code="invalid_json"),
    BadRequest(
        "deeply nested objects", b'{"a":' * 50_000 + b"1" + b"}" * 50_000, code="invalid_json"
    ),
    # -- the wrong media type, or none
    _unsupported("text/plain body", "text/plain"),
    _unsupported("form-encoded body", "application/x-www-form-urlencoded"),
    _unsupported("no Content-Type", None),
    BadRequest(
        "body over 1 MiB", b" " * (MAX_BODY_BYTES + 1), status=413, code="payload_too_large"
    ),
    # -- JSON of the wrong shape
    BadRequest("top-level array", b"[]", code="invalid_body"),
    BadRequest("top-level null", b"null", code="invalid_body"),
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
    # -- the wrong features
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
    BadRequest(
        "bad value in the second row",
        json.dumps({"instances": [GOOD, {**GOOD, "petal_width_cm": "x"}]}).encode(),
        code="invalid_type",
        field="instances[1].petal_width_cm",
    ),
    # -- something else where a number belongs
    BadRequest("string value", _with(sepal_length_cm="5.1"), code="invalid_type", field=_F),
    BadRequest("boolean value", _with(sepal_length_cm=True), code="invalid_type", field=_F),
    BadRequest("null value", _with(sepal_length_cm=None), code="invalid_type", field=_F),
    BadRequest(
        "nested object value", _with(sepal_length_cm={"v": 5.1}), code="invalid_type", field=_F
    ),
    BadRequest("list value", _with(sepal_length_cm=[5.1]), code="invalid_type", field=_F),
    # -- numbers that are not finite
    BadRequest("NaN", _first_feature_as(b"NaN"), code="not_finite", field=_F),
    BadRequest("Infinity", _first_feature_as(b"Infinity"), code="not_finite", field=_F),
    BadRequest("-Infinity", _first_feature_as(b"-Infinity"), code="not_finite", field=_F),
    BadRequest("1e309", _first_feature_as(b"1e309"), code="not_finite", field=_F),
    BadRequest(
        "integer beyond a float", _first_feature_as(b"1" + b"0" * 400), code="not_finite", field=_F
    ),
    # Finite, but far past any measurement: it would overflow inside the model's scaler.
    BadRequest(
        "largest float",
        _first_feature_as(b"1.7976931348623157e308"),
        code="out_of_range",
        field=_F,
    ),
    BadRequest("-1e7", _first_feature_as(b"-1e7"), code="out_of_range", field=_F),
    # -- the wrong method or path
    _not_allowed("GET on the API", "GET"),
    BadRequest("PUT on the API", _GOOD_BODY, method="PUT", status=405, code="method_not_allowed"),
    _not_allowed("DELETE on the API", "DELETE"),
    _not_allowed("PATCH on the API", "PATCH"),
    _not_allowed("POST on /health", "POST", "/health"),
    _not_allowed("POST on /openapi.json", "POST", "/openapi.json"),
    BadRequest(
        "unknown path",
        method="GET",
        path="/no/such/path",
        content_type=None,
        status=404,
        code="not_found",
    ),
]

ODD_BUT_VALID = [
    # JSON's -0 is the integer 0 in Python, -0.0 a float: both are the number zero.
    ValidRequest("-0 is 0", _first_feature_as(b"-0"), ({**GOOD, "sepal_length_cm": 0.0},)),
    ValidRequest("-0.0 is 0", _first_feature_as(b"-0.0"), ({**GOOD, "sepal_length_cm": 0.0},)),
    ValidRequest("exponent notation", _first_feature_as(b"51e-1"), (GOOD,)),
    ValidRequest(
        "charset in Content-Type", _GOOD_BODY, (GOOD,), content_type=f"{JSON}; charset=utf-8"
    ),
    ValidRequest(
        f"{MAX_INSTANCES} instances",
        json.dumps({"instances": [GOOD] * MAX_INSTANCES}).encode(),
        (GOOD,) * MAX_INSTANCES,
    ),
]


# A name the servers never serve, in the Host header with the server's own port, as a page of
# that site that rebound its name to the server's address sends it.
FOREIGN_HOST = "evil.example"


@dataclass(frozen=True)
class ForeignHostRequest:
    name: str
    method: str
    # "" on the websocket handshake: it is opened where the Streamlit at hand has its websocket
    # (bench/streamlit_client.open_stream: 1.67's /_stcore/stream, 1.6's /stream).
    path: str = ""
    body: bytes = b""
    content_type: str | None = None
    websocket: bool = False  # Streamlit checks the Host only on its websocket handshake


FOREIGN_HOST_REQUESTS = [
    ForeignHostRequest("foreign Host on GET /", "GET", "/"),
    ForeignHostRequest("foreign Host on GET /health", "GET", "/health"),
    ForeignHostRequest(
        "foreign Host on POST /api/predict", "POST", "/api/predict", _GOOD_BODY, JSON
    ),
]
# Streamlit answers its pages and health path whatever the Host (they hold no data); the app
# itself is reached only through this handshake.
FOREIGN_HOST_WEBSOCKET = ForeignHostRequest(
    "foreign Host on the websocket handshake", "GET", websocket=True
)
