"""Live probes of a running deployment: concurrency, security answers, a tampered model.

None of these is a load test: each sends a handful of requests. The caller starts the
deployment (bench.targets.servers) and holds bench.run.lock.exclusive() while it runs; nothing here takes
the lock (flock is per open file, so taking it again in the same process would wait forever).

run_probes(running, model, tmp_dir) ->
    {"concurrency": {
        "clients": 4, "request_seconds": 1.0,
        "wall_seconds": 4.08 | None,          # None when a request was not answered 200
        "overlapped": bool | None,            # wall < (clients - 0.5) x request_seconds
        "all_at_once": bool | None,           # wall < 1.5 x request_seconds
        "max_in_flight": int,                 # most requests the server held at one moment
        "accepted_seconds": [float | None],   # per client, when the server accepted it
        "completion_seconds": [float | None], # per client, when its answer was complete
        "statuses": [int | None],
        "server_processes": int,
        "settle_seconds": float,              # waited for the server to finish starting
        "evidence": str},
     "security": {
        "csrf_refused": bool | None, "csrf_status": int | None,   # None: no "form" scenario
        "reflected_input_escaped": bool | None,
        "headers": {"X-Content-Type-Options": str | None, "X-Frame-Options": ..., ...},
        "security_headers": {                 # the page a user opens, or the health path
            "url": "/", "status": int | None,
            "headers": {"X-Content-Type-Options": {"present": bool, "value": str | None}, ...},
            "required_missing": [str]},       # REQUIRED_SECURITY_HEADERS absent or unsafe
        "server_header": str | None,
        "debug_page_shown": bool,
        "loopback_only": bool,
        "listening": ["127.0.0.1:8101", ...],
        "cross_origin_websocket_refused": bool | None,            # None: no "ui_session"
        "foreign_host_refused": bool | None,  # Host: evil.example (DNS rebinding) got a 4xx:
        "foreign_host_status": int | None,    #   GET /, or Streamlit's websocket handshake
        "tampered_model_refused": None,       # per deployment: probe_tampered_model()
        "evidence": {key: str}}}

probe_tampered_model(deployment, tmp_dir) starts the deployment on a corrupted copy of the
model (its own start, per deployment, not per config) and answers
    {"tampered_model_refused": bool, "evidence": str, "healthy": bool,
     "exit_code": int | None,                 # None: still running when the probe stopped it
     "log_excerpt": str}
bench.checks.inspections.build_inspections() copies its verdict into every config's "security".
"""

from __future__ import annotations

import contextlib
import html
import json
import re
import secrets
import select
import shutil
import socket
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import requests

from bench.checks.bad_inputs import FOREIGN_HOST_REQUESTS
from bench.checks.foreign_host import Refusal, http_refusal, websocket_handshake, websocket_refusal
from bench.clients.form_page import form_fields, shown_prediction
from bench.clients.streamlit import StreamlitProtocolError, StreamlitSession
from bench.targets.manifest import Deployment
from bench.targets.servers import (
    HOST,
    DeploymentError,
    RunningDeployment,
    start,
    stop,
    wait_until_idle,
)
from shared_model.model import ARTIFACT_DIR, MODEL_NAME, LoadedModel

TIMEOUT_S = 10
CHUNKS = 10  # pieces of the slow request; the last goes out request_seconds after the first
POLL_S = 0.005
# The server has finished starting when its processes use less than this much CPU.
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
# Words of load_model()'s message when the checksum does not match (shared_model/model.py);
# single words, because Streamlit's log wraps its tracebacks at word boundaries.
REFUSAL_MARKERS = ("sha256", "refusing")
# A cap only: the wait ends as soon as the process exits or its log shows the refusal.
GUNICORN_TAMPER_TIMEOUT_S = 20
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def run_probes(running: RunningDeployment, model: LoadedModel, tmp_dir: Path) -> dict[str, Any]:
    """Concurrency and security probes of one running deployment and config.

    The bodies the security probe judged are kept in tmp_dir, so its verdicts can be checked.
    """
    return {
        # 4 requests of 0.5 s: serial handling takes >= 2 s, overlapped about 0.5 s.
        "concurrency": probe_concurrency(running, clients=4, request_seconds=0.5),
        "security": probe_security(running, model, evidence_dir=tmp_dir),
    }


# -- concurrency ---------------------------------------------------------------------------------


@dataclass
class _SlowClient:
    sock: socket.socket
    port: int  # the client's local port: the server sees it as the remote port
    accepted_at: float | None = None
    chunks_sent: int = 0
    answer: bytearray = field(default_factory=bytearray)
    answered_at: float | None = None
    error: str | None = None

    @property
    def done(self) -> bool:
        return self.answered_at is not None or self.error is not None

    @property
    def status(self) -> int | None:
        first = bytes(self.answer).split(b"\r\n", 1)[0].split()
        return int(first[1]) if len(first) > 1 and first[1].isdigit() else None


def probe_concurrency(
    running: RunningDeployment, clients: int = 4, request_seconds: float = 1.0
) -> dict[str, Any]:
    """Can the server handle several requests at once? Send `clients` requests that each keep
    their handler busy for request_seconds without using CPU, and time them.

    All connections are opened at once. Each request to the health path is dribbled in CHUNKS
    pieces over request_seconds, starting when the server has accepted that connection (seen
    in its process tree with psutil). Starting at accept matters: the kernel buffers bytes sent
    to a connection still waiting in the listen backlog, so a request dribbled from connect
    would be complete by the time a busy worker got to it, and a server handling one request
    at a time would look as fast as a concurrent one.

    One at a time, the wall time is at least clients x request_seconds; all at once, about
    request_seconds. overlapped is wall < (clients - 0.5) x request_seconds: at least half a
    request's time was saved, which needs two requests in the server at the same moment.
    all_at_once is wall < 1.5 x request_seconds: every request was in at the same time.
    """
    request = (
        f"GET {running.deployment.health_path} HTTP/1.1\r\nHost: {HOST}:{running.port}\r\n"
        "User-Agent: bench-concurrency-probe\r\nAccept: */*\r\nConnection: close\r\n\r\n"
    ).encode()
    pieces = [
        request[i * len(request) // CHUNKS : (i + 1) * len(request) // CHUNKS]
        for i in range(CHUNKS)
    ]
    settled = wait_until_idle(running)
    budget = clients * request_seconds + TIMEOUT_S
    slow: list[_SlowClient] = []
    try:
        for _ in range(clients):
            slow.append(_connect(running.port, budget))
        started = time.monotonic()
        _drive(running, slow, pieces, request_seconds, started + budget)
    finally:
        for client in slow:
            client.sock.close()
    result = _concurrency_result(running, slow, started, clients, request_seconds)
    return {**result, "settle_seconds": round(settled, 2)}


def _connect(port: int, timeout_s: float) -> _SlowClient:
    sock = socket.create_connection((HOST, port), timeout=timeout_s)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # each piece goes out at once
    return _SlowClient(sock, sock.getsockname()[1])


def _drive(
    running: RunningDeployment,
    slow: list[_SlowClient],
    pieces: list[bytes],
    request_seconds: float,
    deadline: float,
) -> None:
    """One loop: notice accepts, send the pieces that are due, read the answers."""
    interval = request_seconds / (len(pieces) - 1)
    while not all(c.done for c in slow):
        now = time.monotonic()
        if now > deadline:
            for client in slow:
                if not client.done:
                    client.error = "not answered before the deadline" + (
                        "" if client.accepted_at else " (never accepted)"
                    )
            return
        waiting = [c for c in slow if c.accepted_at is None]
        if waiting:
            accepted = _accepted_ports(running)
            for client in waiting:
                if client.port in accepted:
                    client.accepted_at = now
        for client in slow:
            _send_due(client, pieces, interval, now)
        _read_ready([c for c in slow if c.chunks_sent == len(pieces) and not c.done])


def _accepted_ports(running: RunningDeployment) -> set[int]:
    """Remote ports of the connections the server's processes have accepted."""
    ports = set()
    for proc in running.tree():
        with contextlib.suppress(psutil.Error):
            for conn in proc.net_connections(kind="tcp"):
                if conn.raddr and conn.laddr.port == running.port:
                    ports.add(conn.raddr.port)
    return ports


def _send_due(client: _SlowClient, pieces: list[bytes], interval: float, now: float) -> None:
    if client.accepted_at is None or client.done:
        return
    due = min(len(pieces), int((now - client.accepted_at) / interval) + 1)
    try:
        while client.chunks_sent < due:
            client.sock.sendall(pieces[client.chunks_sent])
            client.chunks_sent += 1
    except OSError as exc:
        client.error = f"send failed: {exc}"


def _read_ready(clients: list[_SlowClient]) -> None:
    if not clients:
        time.sleep(POLL_S)
        return
    ready, _, _ = select.select([c.sock for c in clients], [], [], POLL_S)
    for client in clients:
        if client.sock not in ready:
            continue
        try:
            data = client.sock.recv(65536)
        except OSError as exc:
            client.error = f"receive failed: {exc}"
            continue
        if data:
            client.answer += data
        else:  # Connection: close, so the answer ends when the server closes
            client.answered_at = time.monotonic()
            # Close at once, as a browser does: gunicorn lingers up to 2 s after its FIN for
            # the peer's, and a worker lingering would delay the next accept.
            client.sock.close()


def _concurrency_result(
    running: RunningDeployment,
    slow: list[_SlowClient],
    started: float,
    clients: int,
    request_seconds: float,
) -> dict[str, Any]:
    def since(t: float | None) -> float | None:
        return None if t is None else round(t - started, 3)

    statuses = [c.status for c in slow]
    completion = [since(c.answered_at) for c in slow]
    accepted = [since(c.accepted_at) for c in slow]
    all_ok = all(s == 200 for s in statuses) and all(t is not None for t in completion)
    wall = max(completion) if all_ok else None  # type: ignore[type-var]
    in_flight = _max_in_flight(accepted, completion, tolerance=0.1 * request_seconds)
    result = {
        "clients": clients,
        "request_seconds": request_seconds,
        "wall_seconds": wall,
        "overlapped": None if wall is None else wall < (clients - 0.5) * request_seconds,
        "all_at_once": None if wall is None else wall < 1.5 * request_seconds,
        "max_in_flight": in_flight,
        "accepted_seconds": accepted,
        "completion_seconds": completion,
        "statuses": statuses,
        "server_processes": len(running.tree()),
    }
    errors = "; ".join(f"client {i}: {c.error}" for i, c in enumerate(slow) if c.error)
    result["evidence"] = (
        f"{clients} connections opened at once to {running.deployment.health_path}; each request "
        f"dribbled over {request_seconds:g} s from the moment the server accepted it. Accepted "
        f"at {accepted} s, answered {statuses} at {completion} s; at most {in_flight} in the "
        f"server at once ({result['server_processes']} server process(es)). One at a time would "
        f"take >= {clients * request_seconds:g} s; all at once about {request_seconds:g} s."
        + (f" Failures: {errors}" if errors else "")
    )
    return result


def _max_in_flight(starts: list[float | None], ends: list[float | None], tolerance: float) -> int:
    """Most [accepted, answered] intervals open at one instant; an interval that begins within
    `tolerance` of another's end counts as following it, not overlapping it."""
    events = []
    for begin, end in zip(starts, ends, strict=True):
        if begin is not None and end is not None:
            events += [(begin + tolerance, 1), (end, -1)]
    most = current = 0
    for _, step in sorted(events):  # at equal times the end (-1) sorts first
        current += step
        most = max(most, current)
    return most


# -- security ------------------------------------------------------------------------------------


def probe_security(
    running: RunningDeployment, model: LoadedModel, evidence_dir: Path | None = None
) -> dict[str, Any]:
    """How the deployment answers as served: CSRF, escaping, headers, error pages, exposure."""
    base = running.base_url
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
    result["security_headers"], evidence["security_headers"] = _security_headers(running, home)
    bodies: dict[str, str] = {"home": home.text}
    if "form" in running.deployment.scenarios:
        csrf, evidence["csrf_refused"], bodies["csrf"] = _csrf(running, model)
        result.update(csrf)
        escaped, evidence["reflected_input_escaped"], bodies["xss"] = _reflected(running, model)
        result["reflected_input_escaped"] = escaped
    else:
        result.update(csrf_refused=None, csrf_status=None, reflected_input_escaped=None)
        evidence["csrf_refused"] = evidence["reflected_input_escaped"] = "no 'form' scenario"
    result["debug_page_shown"], evidence["debug_page_shown"], errors = _debug_pages(running)
    bodies.update(errors)
    result["loopback_only"], result["listening"], evidence["loopback_only"] = _listening(running)
    if "ui_session" in running.deployment.scenarios:
        refused, evidence["cross_origin_websocket_refused"] = _cross_origin_websocket(running)
    else:
        refused, evidence["cross_origin_websocket_refused"] = None, "no 'ui_session' scenario"
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
    running: RunningDeployment, home: requests.Response
) -> tuple[dict[str, Any], str]:
    """The security headers of the page a user opens (the form, or Streamlit's root page), or
    of the health path for a deployment without a page: each present or not, with its value."""
    deployment = running.deployment
    has_page = {"form", "ui_session"} & set(deployment.scenarios)
    path = "/" if has_page else deployment.health_path
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


def _keep(folder: Path, bodies: dict[str, str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, body in bodies.items():
        (folder / f"{name}.txt").write_text(body)


def _csrf(running: RunningDeployment, model: LoadedModel) -> tuple[dict, str, str]:
    """POST the form as a browser would, minus its CSRF token (cookies kept)."""
    session = requests.Session()
    fields = form_fields(session.get(running.base_url + "/", timeout=TIMEOUT_S).text)
    tokenless = {name: value for name, value in fields.items() if name in model.feature_names}
    dropped = sorted(set(fields) - set(tokenless))
    answer = session.post(running.base_url + "/", data=tokenless, timeout=TIMEOUT_S)
    refused = answer.status_code in (400, 403) and shown_prediction(answer.text) is None
    note = (
        f"POST / without the form's hidden field(s) {dropped} answered {answer.status_code}"
        f"{'' if refused else ' and was processed'}: {answer.text[:120]!r}"
    )
    return {"csrf_refused": refused, "csrf_status": answer.status_code}, note, answer.text


def _reflected(running: RunningDeployment, model: LoadedModel) -> tuple[bool, str, str]:
    """Submit markup in a number field: the error page may show it back, but only escaped."""
    session = requests.Session()
    fields = form_fields(session.get(running.base_url + "/", timeout=TIMEOUT_S).text)
    target = model.feature_names[0]
    answer = session.post(
        running.base_url + "/", data={**fields, target: XSS_PAYLOAD}, timeout=TIMEOUT_S
    )
    raw = XSS_PAYLOAD in answer.text
    escaped = html.escape(XSS_PAYLOAD, quote=False) in answer.text or (
        html.escape(XSS_PAYLOAD) in answer.text
    )
    shown = "shown back escaped" if escaped else "not shown back"
    note = (
        f"POST / with {target}={XSS_PAYLOAD} (valid CSRF token) answered {answer.status_code}; "
        + ("the markup is in the page unescaped" if raw else f"the markup is {shown}")
    )
    return not raw, note, answer.text


def _debug_pages(running: RunningDeployment) -> tuple[bool, str, dict[str, str]]:
    """Provoke errors and look for a traceback or a framework's debug page in the answers."""
    base = running.base_url
    missing = f"/__probe_missing_{secrets.token_hex(4)}"
    answers: dict[str, tuple[int | None, str]] = {}
    with contextlib.suppress(requests.RequestException):
        r = requests.get(base + missing, timeout=TIMEOUT_S)
        answers[f"GET {missing}"] = (r.status_code, r.text)
    with contextlib.suppress(requests.RequestException):
        r = requests.get(base + "/", headers={"Host": "evil.example"}, timeout=TIMEOUT_S)
        answers["GET / with Host: evil.example"] = (r.status_code, r.text)
    if running.deployment.has_api:
        with contextlib.suppress(requests.RequestException):
            r = requests.post(
                base + "/api/predict",
                data=b'{"instances": [',
                headers={"Content-Type": "application/json"},
                timeout=TIMEOUT_S,
            )
            answers["POST /api/predict with truncated JSON"] = (r.status_code, r.text)
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
    first = answer.split(b"\r\n", 1)[0].split()
    status = int(first[1]) if len(first) > 1 and first[1].isdigit() else None
    return status, answer.decode(errors="replace")


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
    """What a DNS-rebinding page gets: the verify suite's first foreign-Host case (GET /), or,
    for Streamlit, whose pages answer any Host, its websocket handshake."""
    if "ui_session" in running.deployment.scenarios:
        return websocket_refusal(running.base_url, running.port, TIMEOUT_S)
    return http_refusal(running.base_url, running.port, FOREIGN_HOST_REQUESTS[0], TIMEOUT_S)


# -- a tampered model ----------------------------------------------------------------------------


def probe_tampered_model(deployment: Deployment, tmp_dir: Path) -> dict[str, Any]:
    """Start the deployment on a copy of the model with one byte flipped: it must refuse it.

    Refused means: no prediction is ever served (it never becomes healthy, or, for Streamlit,
    which loads the model in the first session, the page shows an error instead of the form)
    AND its log says why (the sha256 mismatch). gunicorn's master may retry its workers, so
    "not healthy within GUNICORN_TAMPER_TIMEOUT_S" counts as not healthy; the wait also ends as
    soon as the log shows the refusal.
    """
    artifacts = _tampered_copy(tmp_dir / "tampered-artifacts")
    metadata = json.loads((artifacts / f"{MODEL_NAME}.json").read_text())
    log_path = tmp_dir / f"tampered-{deployment.name}.log"
    running = start(deployment, log_path=log_path, extra_env={"SHARED_MODEL_DIR": str(artifacts)})
    try:
        healthy, waited = _wait_healthy_or_refused(running, _tamper_timeout(deployment))
        served, served_note = (
            _serves_predictions(running, metadata)
            if healthy
            else (False, "never answered its health path")
        )
        exit_code = running.process.poll()  # None: still running when the probe stopped it
    finally:
        stop(running)
    why = refusal_message(_log_text(running))
    says_why = bool(why)
    return {
        "tampered_model_refused": not served and says_why,
        "healthy": healthy,
        "exit_code": exit_code,
        "log_excerpt": why[:400],
        "evidence": (
            f"one byte of {MODEL_NAME}.skops flipped; after {waited:.1f} s: {served_note}; "
            + (
                "still running, stopped by the probe"
                if exit_code is None
                else f"it exited by itself with code {exit_code}"
            )
            + "; the log "
            + (f"says: {why[:240]}" if says_why else "does not name the sha256 mismatch")
        ),
    }


def _log_text(running: RunningDeployment) -> str:
    """The deployment's log without colour codes (Streamlit colours its tracebacks)."""
    try:
        return ANSI_ESCAPE.sub("", running.log_path.read_text(errors="replace"))
    except OSError:
        return ""


def refusal_message(log: str) -> str:
    """The model's refusal as the log states it, or "" when it does not.

    That is the message of the last ModelIntegrityError, re-joined when the log wrapped it
    (Streamlit prints tracebacks wrapped and boxed), and only if it names the sha256 and the
    refusal: the source lines a traceback quotes do not count.
    """
    lines = log.splitlines()
    starts = [i for i, line in enumerate(lines) if "ModelIntegrityError:" in line]
    if not starts:
        return ""
    message = []
    for line in lines[starts[-1] : starts[-1] + 8]:
        if not line.strip():
            break
        message.append(line.strip(" │"))
    text = " ".join(" ".join(message).split())
    text = text[text.index("ModelIntegrityError:") :]
    return text if all(marker in text for marker in REFUSAL_MARKERS) else ""


def _tampered_copy(folder: Path) -> Path:
    """A copy of the model artifacts with one byte of every model flipped, so that whichever
    variant the deployment selects (SHARED_MODEL_NAME) is a tampered one."""
    if folder.exists():
        shutil.rmtree(folder)
    shutil.copytree(ARTIFACT_DIR, folder)
    for artifact in folder.glob("*.skops"):
        data = bytearray(artifact.read_bytes())
        data[len(data) // 2] ^= 0xFF
        artifact.write_bytes(data)
    return folder


def _tamper_timeout(deployment: Deployment) -> float:
    return (
        GUNICORN_TAMPER_TIMEOUT_S
        if deployment.server == "gunicorn"
        else deployment.startup_timeout_s
    )


def _wait_healthy_or_refused(running: RunningDeployment, timeout_s: float) -> tuple[bool, float]:
    """(healthy, seconds waited): stop waiting on health, an exit, or a refusal in the log."""
    url = running.base_url + running.deployment.health_path
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        if running.process.poll() is not None:
            break
        if refusal_message(_log_text(running)):
            break
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=1) as response:
            if response.status == 200:
                return True, time.monotonic() - started
        time.sleep(0.1)
    return False, time.monotonic() - started


def _serves_predictions(running: RunningDeployment, metadata: dict) -> tuple[bool, str]:
    """Healthy despite the tampered model: does it actually serve a prediction?"""
    deployment = running.deployment
    if "ui_session" in deployment.scenarios:
        try:
            with StreamlitSession(running.base_url, timeout_s=30) as session:
                first = session.connect()
        except StreamlitProtocolError as exc:
            return False, f"healthy, but the session failed: {exc}"
        served = bool(session.number_inputs) and not first.exceptions
        return served, (
            f"healthy; the first session run ended {first.status} with "
            f"{len(session.number_inputs)} number input(s), exceptions {first.exceptions}, "
            f"alerts {first.alerts}"
        )
    if deployment.has_api:
        row = {f["name"]: f["default"] for f in metadata["features"]}
        answer = requests.post(
            running.base_url + "/api/predict", json={"instances": [row]}, timeout=TIMEOUT_S
        )
        served = answer.status_code == 200 and "predictions" in answer.text
        return served, f"healthy; POST /api/predict answered {answer.status_code}"
    raise DeploymentError(f"{deployment.name}: no scenario to check a prediction with")
