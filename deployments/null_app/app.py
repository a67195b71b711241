"""Null target (calibration): one constant answer, no model, no validation, no framework.

It reads each request's body, as a real deployment must, and answers GET /health and
POST /api/predict with the same constant body, shaped and sized like a one-row prediction.
Whatever rate it sustains is what the load generator and the server can do with no application
work at all: the ceiling every other deployment's figures sit under.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

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


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    declared = environ.get("CONTENT_LENGTH") or ""
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
