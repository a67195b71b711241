"""Null target (calibration): one constant answer, no model, no validation, no framework.

It reads each request's body, as a real deployment must, and answers GET /health and
POST /api/predict with the same constant body, shaped and sized like a one-row prediction. Like
every deployment it refuses a foreign Host (400) and a declared body over 1 MiB (413, unread).
Whatever rate it sustains is what the load generator and the server can do with no application
work at all: the ceiling every other deployment's figures sit under.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from deployments.allowed_hosts import allowed_hosts, host_allowed

# A real one-row answer's shape; the model block says it is not a model.
ANSWER = json.dumps(
    {
        "predictions": [
            {
                "label": "versicolor",
                "class_id": 1,
                "probabilities": {
                    "setosa": 0.0663968245208191,
                    "versicolor": 0.8479088914004305,
                    "virginica": 0.08569428407875064,
                },
            }
        ],
        "model": {"name": "null-target", "version": "0", "sha256": "0" * 64},
    },
    separators=(",", ":"),
).encode()
NOT_FOUND = b'{"error":{"code":"not_found","message":"no such path"}}'
ANSWERED = {("GET", "/health"), ("POST", "/api/predict")}
# shared_model.schema.MAX_BODY_BYTES (a test keeps them equal), written out because the null
# target imports nothing of shared_model: no model or contract work is in its figures.
MAX_BODY_BYTES = 1024 * 1024
TOO_LARGE = (
    b'{"error":{"code":"payload_too_large","message":"request body exceeds %d bytes"}}'
    % MAX_BODY_BYTES
)
FOREIGN_HOST = (
    b'{"error":{"code":"bad_request",'
    b'"message":"the Host header names a host this server does not serve"}}'
)
HOSTS = allowed_hosts()


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    declared = environ.get("CONTENT_LENGTH") or ""
    host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "")
    if not host_allowed(host, HOSTS):  # DNS rebinding: a foreign Host gets only a refusal
        status, body = "400 Bad Request", FOREIGN_HOST
    elif declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        status, body = "413 Request Entity Too Large", TOO_LARGE  # refused unread, as the others do
    else:
        if declared.isdigit():
            environ["wsgi.input"].read(int(declared))  # read and ignored: the client's work is real
        if (environ.get("REQUEST_METHOD"), environ.get("PATH_INFO")) in ANSWERED:
            status, body = "200 OK", ANSWER
        else:
            status, body = "404 Not Found", NOT_FOUND
    start_response(
        status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    )
    return [body]
