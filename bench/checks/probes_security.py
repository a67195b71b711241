"""The security probe: how a deployment answers as served (CSRF, escaping, headers, error
pages, exposure, cross-origin and foreign-Host requests), each protocol's page or websocket as
its client (bench/clients/) says. Its result's shape is documented in bench/checks/probes.py.
"""

from __future__ import annotations

import contextlib
import html
import secrets
import socket
from pathlib import Path
from typing import Any

import psutil
import requests

from bench.checks.bad_inputs import FOREIGN_HOST_REQUESTS
from bench.checks.foreign_host import Refusal, http_refusal, websocket_handshake, websocket_refusal
from bench.checks.probes_common import TIMEOUT_S, status_of
from bench.clients import CLIENTS, Client, client, clients_for, find, main_client, missing_note
from bench.clients.form import FormClient
from bench.clients.form_page import shown_prediction
from bench.clients.rest import RestClient
from bench.targets.servers import HOST, RunningDeployment
from shared_model.model import LoadedModel

SECURITY_HEADERS = (
    "X-Content-Type-Options",
    "X-Frame-Options",
    "Referrer-Policy",
    "Content-Security-Policy",
    "Strict-Transport-Security",
    "Cross-Origin-Opener-Policy",
    "Permissions-Policy",
)
# The headers every deployment that can set them sends, and the values that count as safe.
REQUIRED_SECURITY_HEADERS = {
    "X-Content-Type-Options": ("nosniff",),
    "X-Frame-Options": ("DENY",),
    "Referrer-Policy": (
        "no-referrer",
        "same-origin",
        "strict-origin",
        "strict-origin-when-cross-origin",
    ),
}
# Text that only a debug page carries: a traceback, Werkzeug's debugger, Django's DEBUG pages.
DEBUG_MARKERS = (
    "Traceback (most recent call last)",
    "Werkzeug Debugger",
    "__debugger__",
    "DEBUG = True",
    "Django Version:",
    "Using the URLconf defined in",
    "Exception Value:",
)
XSS_PAYLOAD = "<script>alert(1)</script>"
FOREIGN_ORIGIN = "http://evil.example"


def probe_security(
    running: RunningDeployment, model: LoadedModel, evidence_dir: Path | None = None
) -> dict[str, Any]:
    """How the deployment answers as served: CSRF, escaping, headers, error pages, exposure."""
    base = running.base_url
    clients = clients_for(running.deployment)
    home = requests.get(base + "/", timeout=TIMEOUT_S)
    result: dict[str, Any] = {
        "headers": {name: home.headers.get(name) for name in SECURITY_HEADERS},
        "server_header": home.headers.get("Server"),
    }
    evidence = {
        "headers": f"GET / answered {home.status_code}; security headers present: "
        + (", ".join(h for h in SECURITY_HEADERS if home.headers.get(h)) or "none"),
        "server_header": f"Server: {home.headers.get('Server')!r}",
    }
    result["security_headers"], evidence["security_headers"] = _security_headers(
        running, home, clients
    )
    bodies: dict[str, str] = {"home": home.text}
    bodies.update(_form_probes(running, model, find(clients, FormClient), result, evidence))
    rest = find(clients, RestClient)
    result["debug_page_shown"], evidence["debug_page_shown"], errors = _debug_pages(running, rest)
    bodies.update(errors)
    result["loopback_only"], result["listening"], evidence["loopback_only"] = _listening(running)
    if any(c.websocket for c in clients.values()):
        refused, evidence["cross_origin_websocket_refused"] = _cross_origin_websocket(running)
    else:
        websockets = {p for p in CLIENTS if client(p).websocket}
        refused, evidence["cross_origin_websocket_refused"] = None, missing_note(websockets)
    result["cross_origin_websocket_refused"] = refused
    host = _foreign_host(running)
    result["foreign_host_refused"], result["foreign_host_status"] = host.refused, host.http_status
    evidence["foreign_host_refused"] = host.reason
    result["tampered_model_refused"] = None
    evidence["tampered_model_refused"] = "not probed with the others: probe_tampered_model()"
    result["evidence"] = evidence
    if evidence_dir is not None:
        _keep(evidence_dir / f"{running.deployment.name}-{running.config}-security", bodies)
    return result


def _security_headers(
    running: RunningDeployment, home: requests.Response, clients: dict[str, Client]
) -> tuple[dict[str, Any], str]:
    """The security headers of the page a user opens (the form, or Streamlit's root page), or
    of the health path for a deployment without a page: each present or not, with its value."""
    deployment = running.deployment
    page = next((c.page_path for c in clients.values() if c.page_path), None)
    path = page or deployment.health_path
    answer = home if path == "/" else requests.get(running.base_url + path, timeout=TIMEOUT_S)
    headers = {
        name: {"present": name in answer.headers, "value": answer.headers.get(name)}
        for name in SECURITY_HEADERS
    }
    missing = [
        name
        for name, safe in REQUIRED_SECURITY_HEADERS.items()
        if answer.headers.get(name) not in safe
    ]
    sent = [
        f"{name}: {answer.headers[name]}" for name in SECURITY_HEADERS if name in answer.headers
    ]
    note = f"GET {path} answered {answer.status_code}; sent: {'; '.join(sent) or 'none'}; " + (
        f"missing or unsafe: {', '.join(missing)}" if missing else "all required present"
    )
    found = {"url": path, "status": answer.status_code, "headers": headers}
    return {**found, "required_missing": missing}, note


def _form_probes(
    running: RunningDeployment,
    model: LoadedModel,
    form: FormClient | None,
    result: dict[str, Any],
    evidence: dict[str, str],
) -> dict[str, str]:
    """The CSRF and escaping probes of the form, into result and evidence; the bodies judged."""
    if form is None:
        result.update(csrf_refused=None, csrf_status=None, reflected_input_escaped=None)
        evidence["csrf_refused"] = evidence["reflected_input_escaped"] = missing_note(
            {FormClient.protocol}
        )
        return {}
    csrf, evidence["csrf_refused"], csrf_body = _csrf(running, model, form)
    result.update(csrf)
    escaped, evidence["reflected_input_escaped"], xss_body = _reflected(running, model, form)
    result["reflected_input_escaped"] = escaped
    return {"csrf": csrf_body, "xss": xss_body}


def _keep(folder: Path, bodies: dict[str, str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, body in bodies.items():
        (folder / f"{name}.txt").write_text(body)


def _csrf(
    running: RunningDeployment, model: LoadedModel, form: FormClient
) -> tuple[dict, str, str]:
    """POST the form as a browser would, minus its CSRF token (cookies kept)."""
    page = form.open(running.base_url, TIMEOUT_S)
    fields = page.fields
    tokenless = {name: value for name, value in fields.items() if name in model.feature_names}
    dropped = sorted(set(fields) - set(tokenless))
    answer = page.submit(tokenless, TIMEOUT_S)
    refused = answer.status_code in (400, 403) and shown_prediction(answer.text) is None
    note = (
        f"POST {form.page_path} without the form's hidden field(s) {dropped} answered "
        f"{answer.status_code}"
        f"{'' if refused else ' and was processed'}: {answer.text[:120]!r}"
    )
    return {"csrf_refused": refused, "csrf_status": answer.status_code}, note, answer.text


def _reflected(
    running: RunningDeployment, model: LoadedModel, form: FormClient
) -> tuple[bool, str, str]:
    """Submit markup in a number field: the error page may show it back, but only escaped."""
    page = form.open(running.base_url, TIMEOUT_S)
    target = model.feature_names[0]
    answer = page.submit({**page.fields, target: XSS_PAYLOAD}, TIMEOUT_S)
    raw = XSS_PAYLOAD in answer.text
    escaped = html.escape(XSS_PAYLOAD, quote=False) in answer.text or (
        html.escape(XSS_PAYLOAD) in answer.text
    )
    shown = "shown back escaped" if escaped else "not shown back"
    note = (
        f"POST {form.page_path} with {target}={XSS_PAYLOAD} (valid CSRF token) answered "
        f"{answer.status_code}; "
        + ("the markup is in the page unescaped" if raw else f"the markup is {shown}")
    )
    return not raw, note, answer.text


def _debug_pages(
    running: RunningDeployment, rest: RestClient | None
) -> tuple[bool, str, dict[str, str]]:
    """Provoke errors and look for a traceback or a framework's debug page in the answers
    (with a truncated JSON body too where there is an API)."""
    base = running.base_url
    missing = f"/__probe_missing_{secrets.token_hex(4)}"
    answers: dict[str, tuple[int | None, str]] = {}
    with contextlib.suppress(requests.RequestException):
        r = requests.get(base + missing, timeout=TIMEOUT_S)
        answers[f"GET {missing}"] = (r.status_code, r.text)
    with contextlib.suppress(requests.RequestException):
        r = requests.get(base + "/", headers={"Host": "evil.example"}, timeout=TIMEOUT_S)
        answers["GET / with Host: evil.example"] = (r.status_code, r.text)
    if rest is not None:
        with contextlib.suppress(requests.RequestException):
            r = requests.post(
                base + rest.predict_path,
                data=b'{"instances": [',
                headers={"Content-Type": "application/json"},
                timeout=TIMEOUT_S,
            )
            answers[f"POST {rest.predict_path} with truncated JSON"] = (r.status_code, r.text)
    answers["a header line without a colon"] = _raw_exchange(
        running.port, b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nthis is not a header\r\n\r\n"
    )
    shown = {what: [m for m in DEBUG_MARKERS if m in body] for what, (_, body) in answers.items()}
    note = "; ".join(
        f"{what} -> {status}" + (f" showing {shown[what]}" if shown[what] else "")
        for what, (status, _) in answers.items()
    )
    verdict = any(shown.values())
    note += ": " + (
        "a debug page or traceback was shown" if verdict else "no traceback or debug page"
    )
    bodies = {
        f"error-{i}": f"{what}\n{status}\n\n{body}"
        for i, (what, (status, body)) in enumerate(answers.items())
    }
    return verdict, note, bodies


def _raw_exchange(port: int, data: bytes) -> tuple[int | None, str]:
    """Send bytes no HTTP client library would send; (status, whole answer)."""
    try:
        with socket.create_connection((HOST, port), timeout=TIMEOUT_S) as sock:
            sock.sendall(data)
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
    except OSError as exc:
        return None, f"connection error: {exc}"
    return status_of(answer), answer.decode(errors="replace")


def _listening(running: RunningDeployment) -> tuple[bool, list[str], str]:
    """Every socket the process tree listens on (TCP) or has bound without a peer (UDP)."""
    found = set()
    for proc in running.tree():
        with contextlib.suppress(psutil.Error):
            for conn in proc.net_connections(kind="inet"):
                listening = conn.status == psutil.CONN_LISTEN or (
                    conn.type == socket.SOCK_DGRAM and not conn.raddr
                )
                if listening:
                    found.add((conn.laddr.ip, conn.laddr.port, proc.pid))
    loopback = bool(found) and all(ip in ("127.0.0.1", "::1") for ip, _, _ in found)
    shown = sorted({f"{ip}:{port}" for ip, port, _ in found})
    note = (
        f"listening sockets of the {len(running.tree())} server process(es): "
        f"{', '.join(f'{ip}:{port} (pid {pid})' for ip, port, pid in sorted(found)) or 'none'}"
    )
    return loopback, shown, note


def _cross_origin_websocket(running: RunningDeployment) -> tuple[bool | None, str]:
    """Open Streamlit's websocket from a foreign Origin; the same-origin open is the control."""
    # On the path, with the subprotocols, of the Streamlit it is (bench/clients/streamlit.py).
    own_ok, own = _open_websocket(running.base_url, running.base_url)
    foreign_ok, foreign = _open_websocket(running.base_url, FOREIGN_ORIGIN)
    note = f"Origin {running.base_url}: {own}; Origin {FOREIGN_ORIGIN}: {foreign}"
    if not own_ok:
        return None, note + " (the same-origin control failed, so a refusal proves nothing)"
    return not foreign_ok, note


def _open_websocket(base_url: str, origin: str) -> tuple[bool, str]:
    status, note = websocket_handshake(base_url, origin, timeout_s=TIMEOUT_S)
    return status == 101, note


def _foreign_host(running: RunningDeployment) -> Refusal:
    """What a DNS-rebinding page gets from the deployment's main client's protocol: the verify
    suite's first foreign-Host case (GET /), or, over a websocket (Streamlit, whose pages answer
    any Host), its handshake."""
    if main_client(running.deployment).websocket:
        return websocket_refusal(running.base_url, running.port, TIMEOUT_S)
    return http_refusal(running.base_url, running.port, FOREIGN_HOST_REQUESTS[0], TIMEOUT_S)
