"""The project's one Streamlit client against both Streamlits it serves, 1.67 (today's stack) and
1.6 (the 2022 stack), and what compat_2022.py gives 1.6: the Host check 1.67 has, on the same
hosts, no error details, no PyPI look-up. Servers on ports the OS picks."""

import json
import subprocess

import pytest
import websocket

from bench import PROJECT_ROOT
from bench.checks.foreign_host import websocket_handshake, websocket_refusal
from bench.clients import streamlit as streamlit_client
from bench.clients.streamlit import LEGACY, STCORE, StreamlitSession, known_protocol
from bench.targets.bind import Bind, binding
from bench.targets.manifest import discover
from shared_model.model import predict
from tests.live import ServerPool

pytestmark = pytest.mark.live

STREAMLITS = {d.name: d for d in discover() if d.base_name == "streamlit"}
PROTOCOLS = {"streamlit": STCORE, "streamlit-2022": LEGACY}
NAMES = sorted(PROTOCOLS)
APP_DIR = PROJECT_ROOT / "deployments" / "streamlit_app"
# The names the servers below answer besides loopback: this one and its subdomains.
NAMED = ".client.example"
ROW = {"sepal_length_cm": 6.5, "sepal_width_cm": 3.0, "petal_length_cm": 5.5, "petal_width_cm": 2.0}


@pytest.fixture(scope="module")
def streamlits(tmp_path_factory):
    """Both Streamlits at their defaults, answering loopback and NAMED (ALLOWED_HOSTS): a dict
    of their RunningDeployments by name."""
    pool = ServerPool(STREAMLITS.values(), tmp_path_factory.mktemp("streamlits"))
    try:
        with binding(Bind("127.0.0.1", (NAMED,))):  # read when each server starts
            pool.warm(NAMES)
        yield {name: pool.get(name) for name in NAMES}
    finally:
        left = pool.close()
    assert not left, f"servers outlived stop(): {left}"


@pytest.fixture
def fresh_memory(monkeypatch):
    """The client as in a new process: no protocol remembered for any server."""
    monkeypatch.setattr(streamlit_client, "_known", {})


@pytest.fixture
def handshakes(monkeypatch):
    """The websocket paths the client opens, in order."""
    paths = []
    create = websocket.create_connection

    def recording(url, **kwargs):
        paths.append("/" + url.split("/", 3)[3])
        return create(url, **kwargs)

    monkeypatch.setattr(websocket, "create_connection", recording)
    return paths


def test_both_stacks_serve_streamlit_from_their_own_interpreter():
    assert set(STREAMLITS) == set(NAMES)
    assert STREAMLITS["streamlit"].stack.python != STREAMLITS["streamlit-2022"].stack.python
    assert STREAMLITS["streamlit-2022"].health_path == "/healthz"


@pytest.mark.parametrize("name", NAMES)
def test_the_client_runs_the_app_on_each_streamlit(streamlits, name, model, fresh_memory):
    running = streamlits[name]
    with StreamlitSession(running.base_url, timeout_s=60) as session:
        first = session.connect()
        assert known_protocol(running.base_url) == PROTOCOLS[name]
        assert first.status == "FINISHED_SUCCESSFULLY" and not first.exceptions
        assert first.headings == ["Iris classifier"]  # 1.6: markdown "# Iris classifier"
        assert first.prediction_label is None
        defaults = {f["name"]: f["default"] for f in model.metadata["features"]}
        shown = {label: widget.default for label, widget in session.number_inputs.items()}
        assert shown == pytest.approx(defaults)
        assert set(session.buttons) == {"Predict"}
        expected = predict(model, [ROW])[0]
        for _ in range(2):  # the session stays usable
            run = session.submit(ROW, "Predict")
            assert run.status == "FINISHED_SUCCESSFULLY" and not run.exceptions
            assert run.prediction_label == expected["label"], run.headings
            assert run.json_bodies == [pytest.approx(expected["probabilities"], abs=1e-9)]


@pytest.mark.parametrize("name", NAMES)
def test_the_client_probes_once_per_server(streamlits, name, fresh_memory, handshakes):
    """1.67's path first, 1.6's after a 404; the next session goes straight to the answer."""
    running = streamlits[name]
    for _ in range(2):
        with StreamlitSession(running.base_url, timeout_s=60) as session:
            session.connect()
    probe = [STCORE.path] if name == "streamlit" else [STCORE.path, LEGACY.path]
    assert handshakes == [*probe, PROTOCOLS[name].path]


@pytest.mark.parametrize("name", NAMES)
def test_a_remembered_protocol_the_server_does_not_speak_is_replaced(streamlits, name, monkeypatch):
    """As when a port that served one Streamlit now serves the other."""
    running = streamlits[name]
    wrong = LEGACY if PROTOCOLS[name] is STCORE else STCORE
    monkeypatch.setattr(streamlit_client, "_known", {running.base_url: wrong})
    with StreamlitSession(running.base_url, timeout_s=60) as session:
        first = session.connect()
    assert first.status == "FINISHED_SUCCESSFULLY" and not first.exceptions
    assert known_protocol(running.base_url) == PROTOCOLS[name]


@pytest.mark.parametrize("name", NAMES)
def test_each_streamlit_refuses_a_foreign_host_on_its_websocket(streamlits, name, fresh_memory):
    """1.67 by its server.allowedHosts, 1.6 by compat_2022.py: the same 403."""
    running = streamlits[name]
    found = websocket_refusal(running.base_url, running.port, timeout_s=10)
    assert found.refused is True, found.reason
    assert found.http_status == 403, found.reason
    assert f"on {PROTOCOLS[name].path} " in found.reason


@pytest.mark.parametrize("name", NAMES)
def test_each_streamlit_refuses_a_cross_origin_handshake(streamlits, name, fresh_memory):
    running = streamlits[name]
    status, note = websocket_handshake(running.base_url, "http://evil.example", timeout_s=10)
    assert status == 403, note


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(
    ("host", "answered"),
    [
        ("client.example", True),
        ("www.client.example", True),
        ("localhost", True),
        ("client.example.evil.example", False),
        ("evil.example", False),
    ],
)
def test_both_streamlits_answer_the_same_hosts(streamlits, name, host, answered):
    """deployments/allowed_hosts.py's list, as 1.67's allowedHosts and compat_2022.py read it;
    a page of that site sends its own name as the Origin too."""
    running = streamlits[name]
    named = f"{host}:{running.port}"
    status, note = websocket_handshake(
        running.base_url, f"http://{named}", host=named, timeout_s=10
    )
    assert status == (101 if answered else 403), note


def _run_2022(*args: str, **env: str) -> str:
    """The output of the 2022 stack's interpreter run with `args` and `env`, as serve.py runs
    there (in the app's folder)."""
    return subprocess.run(
        [STREAMLITS["streamlit-2022"].stack.python, *args],
        cwd=APP_DIR, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(PROJECT_ROOT), **env},
        capture_output=True, text=True, timeout=120, check=True,
    ).stdout  # fmt: skip


COMPAT_SCRIPT = """
import json, os, random
import requests
from streamlit import version
from streamlit.server.server import _BrowserWebSocketHandler
from deployments.streamlit_app import compat_2022

needed = compat_2022.needed()
compat_2022.apply(os.environ)
asked = []
requests.get = lambda *args, **kwargs: asked.append(args)
random.random = lambda: 0.0  # the share of starts that would ask PyPI
print(json.dumps({
    "needed": needed,
    "notice": version.should_show_new_version_notice(),
    "asked_pypi": bool(asked),
    "show_error_details": os.environ["STREAMLIT_CLIENT_SHOW_ERROR_DETAILS"],
    "prepare_patched": _BrowserWebSocketHandler.prepare.__module__,
}))
"""


def test_compat_2022_is_applied_by_feature_and_only_to_1_6():
    from deployments.streamlit_app import compat_2022

    assert compat_2022.needed() is False  # today's Streamlit has server.allowedHosts
    found = json.loads(_run_2022("-c", COMPAT_SCRIPT))
    assert found == {
        "needed": True,
        "notice": False,
        "asked_pypi": False,
        "show_error_details": "false",
        "prepare_patched": "deployments.streamlit_app.compat_2022",
    }


def test_1_6_resolves_the_settings_serve_py_gives_it(tmp_path):
    """1.6's own `config show`, run as its configurations run it: no error details (config.toml's
    "none" is 1.67's word, which 1.6 would read as true), the address from BIND_HOST."""
    shown = _run_2022("serve.py", "config", "show", HOME=str(tmp_path), BIND_HOST="127.0.0.1")
    assert "\nshowErrorDetails = false\n" in shown
    assert '\naddress = "127.0.0.1"\n' in shown
    assert "allowedHosts" not in shown  # 1.6 has no such option: compat_2022 checks
