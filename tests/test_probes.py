"""Live probes against real servers: the session's servers for the probes that only read from
them; a server of its own (on a port the OS picks) for the tampered model."""

import dataclasses

import pytest

from bench.checks.probes_concurrency import _max_in_flight, probe_concurrency
from bench.checks.probes_security import probe_security
from bench.checks.probes_tampered import probe_tampered_model, refusal_message
from bench.targets.manifest import Deployment, discover
from tests.live import free_port

CLIENTS = 3
REQUEST_S = 0.5  # serialized: >= 1.5 s; all at once: about 0.5 s


def deployment(name: str) -> Deployment:
    return {d.name: d for d in discover()}[name]


@pytest.mark.live
def test_flask_default_serializes_requests_and_answers_securely(servers, tmp_path, model):
    running = servers.get("flask")
    concurrency = probe_concurrency(running, clients=CLIENTS, request_seconds=REQUEST_S)
    security = probe_security(running, model, evidence_dir=tmp_path)
    assert concurrency["statuses"] == [200] * CLIENTS, concurrency["evidence"]
    # One sync worker: each request waits for the one before (a lower bound, whatever the
    # machine's speed).
    assert concurrency["wall_seconds"] >= CLIENTS * REQUEST_S, concurrency["evidence"]
    assert concurrency["overlapped"] is False
    assert concurrency["max_in_flight"] == 1
    assert security["csrf_refused"] is True and security["csrf_status"] == 403
    assert security["reflected_input_escaped"] is True, security["evidence"]
    # Flask itself sets no security header; the deployment adds them with Flask-Talisman.
    assert security["headers"]["X-Frame-Options"] == "DENY"
    assert security["headers"]["X-Content-Type-Options"] == "nosniff"
    assert security["security_headers"]["required_missing"] == []
    assert security["debug_page_shown"] is False, security["evidence"]["debug_page_shown"]
    assert security["loopback_only"] is True
    assert security["listening"] == [f"127.0.0.1:{running.port}"]
    assert security["cross_origin_websocket_refused"] is None
    assert security["foreign_host_refused"] is True, security["evidence"]["foreign_host_refused"]
    assert security["foreign_host_status"] == 400
    assert "Host: evil.example -> 400" in security["evidence"]["debug_page_shown"]
    assert (tmp_path / "flask-default-security" / "csrf.txt").is_file()


# Flask's recommended configuration (several workers) overlapping requests is checked on the
# probe the runner stores: tests/test_runner_live.py.


@pytest.mark.live
def test_streamlit_overlaps_requests_and_refuses_a_foreign_websocket(servers, model):
    running = servers.get("streamlit")
    concurrency = probe_concurrency(running, clients=CLIENTS, request_seconds=REQUEST_S)
    security = probe_security(running, model)
    assert concurrency["statuses"] == [200] * CLIENTS, concurrency["evidence"]
    # Counted from when the server accepted and answered each request, not from a wall time.
    assert concurrency["max_in_flight"] == CLIENTS, concurrency["evidence"]
    assert security["cross_origin_websocket_refused"] is True, security["evidence"]
    assert "HTTP 403" in security["evidence"]["cross_origin_websocket_refused"]
    # Its pages answer any Host; the app behind its websocket does not.
    assert security["foreign_host_refused"] is True, security["evidence"]["foreign_host_refused"]
    assert security["foreign_host_status"] == 403
    assert security["csrf_refused"] is None and security["reflected_input_escaped"] is None
    assert security["loopback_only"] is True


@pytest.mark.live
def test_django_sends_security_headers_and_refuses_tokenless_posts(servers, model):
    security = probe_security(servers.get("django"), model)
    headers = security["headers"]
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] and headers["Cross-Origin-Opener-Policy"]
    assert security["csrf_refused"] is True and security["csrf_status"] == 403
    assert security["reflected_input_escaped"] is True, security["evidence"]
    assert security["debug_page_shown"] is False, security["evidence"]["debug_page_shown"]
    assert security["loopback_only"] is True
    assert security["foreign_host_refused"] is True, security["evidence"]["foreign_host_refused"]
    assert security["foreign_host_status"] == 400


@pytest.mark.live
@pytest.mark.parametrize("name", ["flask", "streamlit"])
def test_a_tampered_model_is_refused(name, tmp_path):
    on_a_free_port = dataclasses.replace(deployment(name), port=free_port())
    result = probe_tampered_model(on_a_free_port, tmp_path)
    assert result["tampered_model_refused"] is True, result["evidence"]
    assert "sha256" in result["log_excerpt"]
    if name == "flask":
        assert result["healthy"] is False  # gunicorn gives up when the worker cannot boot
    else:
        assert "encountered an error" in result["evidence"]  # the page, not a prediction


def test_refusal_is_read_from_the_message_not_from_quoted_source():
    quoted_only = (
        "Traceback (most recent call last):\n"
        '   79 |   if actual != metadata["sha256"]:\n'
        '   82 |   f"records ...: refusing to load a file"\n'
    )
    assert refusal_message(quoted_only) == ""
    wrapped = (
        "ModelIntegrityError: model artifact \n/tmp/x/iris-logreg.skops has sha256 \nabc, but "
        "iris-logreg.json \nrecords def: refusing to \nload a file that was altered\n\nnext\n"
    )
    assert refusal_message(wrapped) == (
        "ModelIntegrityError: model artifact /tmp/x/iris-logreg.skops has sha256 abc, but "
        "iris-logreg.json records def: refusing to load a file that was altered"
    )


def test_max_in_flight_counts_overlaps_not_hand_overs():
    assert _max_in_flight([0.0, 1.0, 2.0], [1.0, 2.0, 3.0], tolerance=0.05) == 1
    assert _max_in_flight([0.0, 0.0, 0.6], [1.0, 1.0, 1.6], tolerance=0.05) == 3
    assert _max_in_flight([0.0, None], [1.0, None], tolerance=0.05) == 1
