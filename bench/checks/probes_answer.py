"""What one API answer carries, as a client on the wire sees it: the work a configuration does
per request beyond the prediction (its headers, its framing, its connection handling).

Two POSTs of the same one-row body on one HTTP/1.1 connection, with the headers Locust's client
sends. The answer's headers are recorded by name and value; the body by its length and a digest,
so that configurations that encode the same prediction alike show the same digest. The
connection counts as kept alive when the second POST is answered on the same socket."""

from __future__ import annotations

import hashlib
import http.client
import json
from typing import Any

from bench.checks.probes_common import TIMEOUT_S
from bench.clients.payloads import canonical_instances
from bench.clients.rest import PREDICT_PATH
from bench.targets.servers import RunningDeployment
from shared_model.model import LoadedModel

# Headers that differ on every answer whatever the configuration: left out of the comparison.
PER_ANSWER = ("Date",)
DIGEST_CHARS = 16


def probe_answer(running: RunningDeployment, model: LoadedModel) -> dict[str, Any]:
    """{"status", "headers": {name: value}, "content_length": bool, "chunked": bool,
    "kept_alive": bool, "body_bytes": int, "body_sha256": str, "evidence": str}"""
    body = json.dumps({"instances": canonical_instances(model)[:1]}).encode()
    headers = {"Content-Type": "application/json", "Accept": "*/*"}
    connection = http.client.HTTPConnection(running.host, running.port, timeout=TIMEOUT_S)
    try:
        connection.request("POST", PREDICT_PATH, body=body, headers=headers)
        first = connection.getresponse()
        data = first.read()
        sent = {k: v for k, v in first.getheaders() if k not in PER_ANSWER}
        # http.client drops the socket of an answer that closes its connection, and would open
        # a new one for the next request: only the same socket answering again is kept alive.
        sock = connection.sock
        kept_alive = sock is not None and _answered_again(connection, body, headers)
        kept_alive = kept_alive and connection.sock is sock
    finally:
        connection.close()
    names = {k.lower() for k in sent}
    chunked = "chunked" in sent.get("Transfer-Encoding", "").lower()
    result = {
        "status": first.status,
        "headers": sent,
        "content_length": "content-length" in names,
        "chunked": chunked,
        "kept_alive": kept_alive,
        "body_bytes": len(data),
        "body_sha256": hashlib.sha256(data).hexdigest()[:DIGEST_CHARS],
    }
    framing = "Content-Length" if result["content_length"] else "chunked" if chunked else "none"
    result["evidence"] = (
        f"POST {PREDICT_PATH} answered {first.status}, {len(data)} bytes ({framing}), "
        f"{len(sent)} headers: {', '.join(sent)}; the connection was "
        + ("kept alive (a second POST answered on it)" if kept_alive else "closed after it")
    )
    return result


def _answered_again(
    connection: http.client.HTTPConnection, body: bytes, headers: dict[str, str]
) -> bool:
    try:
        connection.request("POST", PREDICT_PATH, body=body, headers=headers)
        again = connection.getresponse()
        again.read()
    except (http.client.HTTPException, ConnectionError, TimeoutError):
        return False
    return again.status == 200
