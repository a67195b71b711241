"""The foreign-Host requests of the hostile-input suite, sent as a DNS-rebinding page sends them.

Such a page points its own name at the server's address, so the server sees that name (with the
server's port) as the Host, and, on a websocket, the page's own origin as the Origin: a
same-origin request in all but the name. The verify suite requires every case to be refused
(bench/checks/verify_common.py); bench/checks/probes_security.py records what the security
probe's copy got.
"""

from __future__ import annotations

from dataclasses import dataclass

import requests
import websocket

from bench.checks.bad_inputs import FOREIGN_HOST, ForeignHostRequest
from bench.clients.streamlit import HandshakeRefused, open_stream


@dataclass(frozen=True)
class Refusal:
    refused: bool | None  # None: the control failed, so the answer proves nothing
    http_status: int | None
    reason: str


def is_refusal(status: int | None) -> bool:
    """A 4xx: a redirect or a 2xx would be an answer, and a 5xx is a server error."""
    return status is not None and 400 <= status < 500


def foreign_host(port: int) -> str:
    return f"{FOREIGN_HOST}:{port}"


def http_refusal(base_url: str, port: int, case: ForeignHostRequest, timeout_s: float) -> Refusal:
    """Send `case` under the server's own name (the control), then with the foreign Host:
    refused when the foreign Host got a 4xx the server's own name did not get. (A path the
    server does not serve answers 404 whatever the Host: that alone is no Host check.)"""
    control = _send(base_url, case, {}, timeout_s).status_code
    headers = {"Host": foreign_host(port)}
    response = _send(base_url, case, headers, timeout_s)
    status = response.status_code
    try:
        answered = f"answered {status} {response.json()['error']['code']}"
    except (ValueError, KeyError, TypeError):
        answered = f"answered {status}"
    if control >= 500:
        return Refusal(None, status, f"the control (own Host) got a server error {control}")
    if is_refusal(status) and status != control:
        return Refusal(True, status, answered)
    what = "server error" if status >= 500 else "not refused"
    same = " (the same as under the server's own name)" if status == control else ""
    return Refusal(False, status, f"{what}: {answered}{same} to Host {headers['Host']}: "
                   f"{response.text[:160]!r}")  # fmt: skip


def _send(
    base_url: str, case: ForeignHostRequest, headers: dict[str, str], timeout_s: float
) -> requests.Response:
    if case.content_type:
        headers = {**headers, "Content-Type": case.content_type}
    # Not followed: a redirect (Starlette's to www., say) is an answer, not a refusal.
    return requests.request(
        case.method, base_url + case.path, data=case.body, headers=headers, timeout=timeout_s,
        allow_redirects=False,
    )  # fmt: skip


def websocket_handshake(
    base_url: str, origin: str, host: str | None = None, timeout_s: float = 10
) -> tuple[int | None, str]:
    """Open (and close) the websocket of the Streamlit at base_url, on the path and with the
    subprotocols of the Streamlit it is (bench/clients/streamlit.py): the handshake's HTTP status
    (101 when accepted, None when nothing answered) and what happened, in words."""
    try:
        ws, protocol = open_stream(base_url, origin=origin, host=host, timeout_s=timeout_s)
    except HandshakeRefused as exc:
        path = exc.protocol.path
        return exc.status_code, f"handshake on {path} refused with HTTP {exc.status_code}"
    except (OSError, websocket.WebSocketException) as exc:
        return None, f"handshake failed: {type(exc).__name__}: {exc}"
    ws.close()
    return 101, f"accepted (101 Switching Protocols) on {protocol.path}"


def websocket_refusal(base_url: str, port: int, timeout_s: float) -> Refusal:
    """The rebinding page's handshake, Host and Origin both its own name: Streamlit lets a
    same-origin handshake through, so only its Host check can refuse it. The same handshake
    under the server's own name is the control."""
    own, own_note = websocket_handshake(base_url, base_url, timeout_s=timeout_s)
    if own != 101:
        return Refusal(None, own, f"the control handshake (own Host) failed: {own_note}")
    host = foreign_host(port)
    status, note = websocket_handshake(base_url, f"http://{host}", host=host, timeout_s=timeout_s)
    shown = f"answered {status}: {note}" if status else note
    return Refusal(is_refusal(status), status, f"{shown} (Host and Origin {host})")
