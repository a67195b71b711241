"""FastAPI deployment (a reference, not one of the review's frameworks): the JSON API only.

The body is read raw and checked by shared_model.schema rather than declared as a pydantic
model: pydantic would coerce "5.1" and true to floats, merge duplicated keys, and answer 422
with its own error shape, so the same bad input would get another status and code here than on
Flask and Django. The contract is the shared validator's, so every deployment calls it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from deployments.allowed_hosts import allowed_hosts, star_patterns
from deployments.response_headers import SECURITY_HEADERS
from shared_model.model import load_model, predict
from shared_model.openapi import OPENAPI_PATH, openapi_document
from shared_model.schema import (
    HTTP_ERRORS,
    JSON_MEDIA_TYPE,
    MAX_BODY_BYTES,
    InputError,
    http_error_body,
    parse_json_body,
    validate_request,
)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
    """Load the model once per worker; what is yielded becomes every request's `state`."""
    model = load_model()
    yield {"model": model, "openapi": openapi_document(model.metadata)}


class SecurityHeaders:
    """Adds SECURITY_HEADERS to every response (a pure ASGI middleware: Starlette's
    BaseHTTPMiddleware would add a task and a stream per request to what is measured)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.headers = [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *self.headers]
            await send(message)

        await self.app(scope, receive, send_with_headers)


# FastAPI's own /docs, /redoc and generated /openapi.json are off: the one contract is
# shared_model.openapi's document, served below as every deployment serves it.
app = FastAPI(lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None)
# Added first, so it runs inside SecurityHeaders and its 400 gets the headers too. Its answer is
# Starlette's plain-text "Invalid host header", not the contract's JSON. No www redirect: a
# foreign Host must be refused, not sent elsewhere.
app.add_middleware(
    TrustedHostMiddleware, allowed_hosts=star_patterns(allowed_hosts()), www_redirect=False
)
app.add_middleware(SecurityHeaders)


@app.get("/health")
async def health(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok", "model": request.state.model.summary})


@app.get(OPENAPI_PATH)
async def openapi(request: Request) -> JSONResponse:
    return JSONResponse(request.state.openapi)


@app.post("/api/predict")
async def api_predict(request: Request) -> JSONResponse:
    # async and inline: the work is short and CPU-bound, so a thread pool would add a hand-off
    # per request without adding parallelism (the GIL); workers give the parallelism.
    model = request.state.model
    if media_type(request.headers.get("content-type", "")) != JSON_MEDIA_TYPE:
        raise InputError("unsupported_media_type", HTTP_ERRORS[415][1])
    payload = parse_json_body(await limited_body(request))
    instances = validate_request(payload, model.feature_names)
    # A JSONResponse directly: the content is plain JSON types, jsonable_encoder has no work.
    return JSONResponse({"predictions": predict(model, instances), "model": model.summary})


def media_type(content_type: str) -> str:
    return content_type.partition(";")[0].strip().lower()


async def limited_body(request: Request) -> bytes:
    """The body, refused with 413 by its Content-Length before it is read, or, when it is
    streamed (chunked), as soon as more than MAX_BODY_BYTES have arrived."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise InputError("payload_too_large", HTTP_ERRORS[413][1])
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise InputError("payload_too_large", HTTP_ERRORS[413][1])
    return bytes(body)


@app.exception_handler(InputError)
async def input_error(request: Request, error: InputError) -> JSONResponse:
    return JSONResponse(error.body(), status_code=error.status)


@app.exception_handler(StarletteHTTPException)
async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
    # Starlette's 404 and 405 in the contract's shape; the 405's Allow header is kept.
    body = http_error_body(error.status_code)
    return JSONResponse(body, status_code=error.status_code, headers=error.headers)


@app.exception_handler(Exception)
async def server_error(request: Request, error: Exception) -> JSONResponse:
    # Handled outside the middleware stack (uvicorn still logs the traceback): add the headers.
    return JSONResponse(http_error_body(500), status_code=500, headers=dict(SECURITY_HEADERS))
