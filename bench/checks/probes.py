"""Live probes of a running deployment: concurrency, security answers, what an API answer
carries, a tampered model.

One module per topic: probes_concurrency.py, probes_security.py, probes_answer.py,
probes_tampered.py; this one runs the first three on a running deployment, and documents what
every probe records.

None of these is a load test: each sends a handful of requests. The caller starts the
deployment (bench.targets.servers) and holds bench.run.lock.exclusive() while it runs; nothing
here takes the lock (flock is per open file, so taking it again in the same process would wait
forever).

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

probes_tampered.probe_tampered_model(deployment, tmp_dir) starts the deployment on a corrupted
copy of the model (its own start, per deployment, not per config) and answers
    {"tampered_model_refused": bool, "evidence": str, "healthy": bool,
     "exit_code": int | None,                 # None: still running when the probe stopped it
     "log_excerpt": str}
bench.checks.inspections.build_inspections() copies its verdict into every config's "security".

probes_answer.probe_answer(running, model), for a deployment with the JSON API, answers what one
POST /api/predict carries: {"status", "headers": {name: value} (Date left out),
"content_length": bool, "chunked": bool, "kept_alive": bool, "body_bytes": int,
"body_sha256": str (the first 16 hex digits), "evidence": str}.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.checks.probes_answer import probe_answer
from bench.checks.probes_concurrency import probe_concurrency
from bench.checks.probes_security import probe_security
from bench.clients import clients_for, find
from bench.clients.rest import RestClient
from bench.targets.servers import RunningDeployment
from shared_model.model import LoadedModel


def run_probes(running: RunningDeployment, model: LoadedModel, tmp_dir: Path) -> dict[str, Any]:
    """Concurrency and security probes of one running deployment and config.

    The bodies the security probe judged are kept in tmp_dir, so its verdicts can be checked.
    """
    probes = {
        # 4 requests of 0.5 s: serial handling takes >= 2 s, overlapped about 0.5 s.
        "concurrency": probe_concurrency(running, clients=4, request_seconds=0.5),
        "security": probe_security(running, model, evidence_dir=tmp_dir),
    }
    if find(clients_for(running.deployment), RestClient) is not None:
        probes["answer"] = probe_answer(running, model)
    return probes
