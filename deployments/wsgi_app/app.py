"""Bare WSGI deployment (a reference): the JSON API with no framework, the floor under Flask.

Routing, the media-type and size checks and the error answers are written out here with the
standard library only; the contract itself is shared_model.schema's, as everywhere else.
"""

from __future__ import annotations

import json
import traceback
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

from deployments.allowed_hosts import allowed_hosts, host_allowed
from deployments.response_headers import SECURITY_HEADERS
from shared_model.model import load_model, predict
from shared_model.openapi import OPENAPI_PATH, openapi_document
from shared_model.schema import (
    HTTP_ERRORS,
    JSON_MEDIA_TYPE,
    MAX_BODY_BYTES,
    InputError,
    error_body,
    http_error_body,
    parse_json_body,
    validate_request,
)

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]
Handler = Callable[[Environ], Any]
Headers = list[tuple[str, str]]

FOREIGN_HOST = error_body("bad_request", "the Host header names a host this server does not serve")


def create_app() -> WSGIApp:
    """The WSGI callable, with the model loaded once (gunicorn calls this in each worker)."""
    model = load_model()
    document = openapi_document(model.metadata)
    hosts = allowed_hosts()

    def health(environ: Environ) -> Any:
        return {"status": "ok", "model": model.summary}

    def openapi(environ: Environ) -> Any:
        return document

    def api_predict(environ: Environ) -> Any:
        if media_type(environ.get("CONTENT_TYPE", "")) != JSON_MEDIA_TYPE:
            raise InputError("unsupported_media_type", HTTP_ERRORS[415][1])
        instances = validate_request(parse_json_body(read_body(environ)), model.feature_names)
        return {"predictions": predict(model, instances), "model": model.summary}

    routes: dict[str, dict[str, Handler]] = {
        "/health": {"GET": health},
        OPENAPI_PATH: {"GET": openapi},
        "/api/predict": {"POST": api_predict},
    }

    def application(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        try:
            # Before routing: a foreign Host (DNS rebinding) gets nothing but this refusal.
            if not host_allowed(request_host(environ), hosts):
                return respond(start_response, 400, FOREIGN_HOST, [])
            status, body, headers = dispatch(routes, environ)
        except Exception:  # an answer in the contract's shape, and the traceback in the log
            environ["wsgi.errors"].write(traceback.format_exc())
            status, body, headers = 500, http_error_body(500), []
        return respond(start_response, status, body, headers)

    return application


def dispatch(routes: dict[str, dict[str, Handler]], environ: Environ) -> tuple[int, Any, Headers]:
    methods = routes.get(environ.get("PATH_INFO", ""))
    if methods is None:
        return 404, http_error_body(404), []
    handler = methods.get(environ.get("REQUEST_METHOD", ""))
    if handler is None:
        return 405, http_error_body(405), [("Allow", ", ".join(methods))]
    try:
        return 200, handler(environ), []
    except InputError as error:
        return error.status, error.body(), []


def respond(start_response: StartResponse, status: int, body: Any, headers: Headers) -> list[bytes]:
    # Compact separators, as Flask and FastAPI encode their answers.
    data = json.dumps(body, separators=(",", ":")).encode()
    start_response(
        f"{status} {HTTPStatus(status).phrase}",
        [
            ("Content-Type", JSON_MEDIA_TYPE),
            ("Content-Length", str(len(data))),
            *SECURITY_HEADERS,
            *headers,
        ],
    )
    return [data]


def request_host(environ: Environ) -> str:
    """The Host header, else the server's name (PEP 3333: a request without one)."""
    return environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "")


def media_type(content_type: str) -> str:
    return content_type.partition(";")[0].strip().lower()


def read_body(environ: Environ) -> bytes:
    """The body, refused with 413 by its Content-Length before it is read; a body without one
    (chunked) is read to one byte past the limit, which parse_json_body then refuses."""
    declared = environ.get("CONTENT_LENGTH") or ""
    if not declared:
        if environ.get("wsgi.input_terminated"):  # the server marks where the body ends
            return environ["wsgi.input"].read(MAX_BODY_BYTES + 1)
        return b""  # PEP 3333: without a length, reading could wait for bytes never sent
    if not declared.isdigit():
        raise InputError("bad_request", f"invalid Content-Length {declared!r}")
    if int(declared) > MAX_BODY_BYTES:
        raise InputError("payload_too_large", HTTP_ERRORS[413][1])
    return environ["wsgi.input"].read(int(declared))
