"""Calls an ASGI app in-process, lifespan included, as uvicorn would.

fastapi.testclient would do this, but it needs httpx, which the lock does not hold; this speaks
the few ASGI messages the FastAPI deployment's tests need, and can send a body in chunks.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class AsgiClient:
    """`with AsgiClient(app) as client:` runs the app's lifespan around the requests."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __enter__(self) -> AsgiClient:
        self._runner = asyncio.Runner()
        self._lifespan = self.app.router.lifespan_context(self.app)
        self._state = self._runner.run(self._lifespan.__aenter__()) or {}
        return self

    def __exit__(self, *exc_info: Any) -> None:
        try:
            self._runner.run(self._lifespan.__aexit__(*exc_info))
        finally:
            self._runner.close()

    def request(
        self,
        method: str,
        path: str,
        body: bytes = b"",
        content_type: str | None = None,
        chunks: list[bytes] | None = None,
        content_length: int | None = None,
        host: str = "127.0.0.1",
    ) -> Answer:
        """One request; `chunks` sends the body in pieces without a Content-Length, and
        `content_length` declares a length other than the body's. `host` is the Host header:
        the app answers only its allowed hosts, as served."""
        headers = [(b"host", host.encode())]
        if content_type:
            headers.append((b"content-type", content_type.encode()))
        if chunks is None:
            chunks = [body]
            declared = len(body) if content_length is None else content_length
            headers.append((b"content-length", str(declared).encode()))
        else:
            headers.append((b"transfer-encoding", b"chunked"))
        return self._runner.run(self._call(method, path, headers, chunks))

    async def _call(
        self, method: str, path: str, headers: list[tuple[bytes, bytes]], chunks: list[bytes]
    ) -> Answer:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": headers,
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 80),
            "state": dict(self._state),  # a shallow copy per request, as uvicorn gives
        }
        incoming = [
            {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
            for i, chunk in enumerate(chunks)
        ]
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return incoming.pop(0) if incoming else {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        try:
            await self.app(scope, receive, send)
        except Exception:
            # Starlette re-raises an unhandled error after answering it, for the server to log.
            if not sent:
                raise
        start = next(m for m in sent if m["type"] == "http.response.start")
        return Answer(
            status=start["status"],
            headers={k.decode().lower(): v.decode() for k, v in start.get("headers", ())},
            body=b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body"),
        )
