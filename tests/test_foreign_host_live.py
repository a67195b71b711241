"""A foreign Host (DNS rebinding) against every deployment as served, on ports the OS picks:
refused with a 4xx, never answered, while the server's own name is answered."""

import pytest
import requests

from bench.checks.bad_inputs import FOREIGN_HOST_REQUESTS
from bench.checks.foreign_host import foreign_host, http_refusal, websocket_refusal
from bench.clients import main_client
from bench.clients.streamlit import StreamlitSession
from bench.targets.bind import Bind
from bench.targets.manifest import discover
from bench.targets.servers import start, stop, wait_healthy
from tests.live import STARTUP_TIMEOUT_S, free_port

pytestmark = pytest.mark.live

DEPLOYMENTS = {d.name: d for d in discover()}
# Streamlit's pages answer any Host: its Host check is on its websocket's handshake.
HTTP_NAMES = [name for name, d in DEPLOYMENTS.items() if not main_client(d).websocket]
TIMEOUT_S = 10


def test_every_deployment_is_covered():
    today = ["django", "fastapi", "flask", "null", "wsgi"]
    assert sorted(HTTP_NAMES) == sorted([*today, "django-2022", "flask-2022", "wsgi-2022"])
    assert set(DEPLOYMENTS) - set(HTTP_NAMES) == {"streamlit", "streamlit-2022"}


@pytest.mark.parametrize("case", FOREIGN_HOST_REQUESTS, ids=[c.name for c in FOREIGN_HOST_REQUESTS])
@pytest.mark.parametrize("name", HTTP_NAMES)
def test_a_foreign_host_is_refused_on_every_path(servers, name, case):
    running = servers.get(name)
    found = http_refusal(running.base_url, running.port, case, TIMEOUT_S)
    assert found.refused is True, found.reason
    assert found.http_status == 400, found.reason
    # The control: the same server answers its own name on the same path.
    own = requests.request(
        case.method, running.base_url + case.path, data=case.body, timeout=TIMEOUT_S,
        headers={"Content-Type": case.content_type} if case.content_type else {},
    )  # fmt: skip
    # (GET / is a 404 where there is no page: the bare WSGI app, FastAPI, the null target.)
    assert own.status_code in (200, 404), own.text[:160]
    if case.path != "/":
        assert own.status_code == 200, own.text[:160]


def test_streamlit_refuses_a_foreign_host_on_its_websocket(servers):
    running = servers.get("streamlit")
    found = websocket_refusal(running.base_url, running.port, TIMEOUT_S)
    assert found.refused is True, found.reason
    assert found.http_status == 403, found.reason


def test_a_name_given_in_allowed_hosts_is_answered_and_others_are_not(tmp_path):
    """What `--allowed-hosts` gives a server (bench/targets/bind.py sets ALLOWED_HOSTS) reaches
    the app."""
    null = DEPLOYMENTS["null"]
    bind = Bind("127.0.0.1", ("client.example",))
    running = start(null, port=free_port(), log_path=tmp_path / "null.log", bind=bind)
    try:
        wait_healthy(running, STARTUP_TIMEOUT_S)
        health = running.base_url + "/health"
        named = requests.get(health, headers={"Host": "client.example:1"}, timeout=TIMEOUT_S)
        foreign = requests.get(
            health, headers={"Host": foreign_host(running.port)}, timeout=TIMEOUT_S
        )
        assert named.status_code == 200
        assert foreign.status_code == 400
    finally:
        stop(running)


def test_every_streamlit_configuration_starts_through_its_launcher():
    """Streamlit's Host check is a setting serve.py gives it, so every configuration, the
    diagnostic launcher's too, must start through serve.py."""
    streamlit = DEPLOYMENTS["streamlit"]
    for config in streamlit.configs:
        assert streamlit.argv(config, 1, 1)[1] == "serve.py", config


def test_the_diagnostic_launcher_refuses_a_foreign_host_and_serves_the_app(tmp_path, model):
    running = start(
        DEPLOYMENTS["streamlit"], "diag_nodelay", port=free_port(), log_path=tmp_path / "s.log"
    )
    try:
        wait_healthy(running, STARTUP_TIMEOUT_S)
        found = websocket_refusal(running.base_url, running.port, TIMEOUT_S)
        assert found.refused is True, found.reason
        with StreamlitSession(running.base_url, timeout_s=60) as session:
            first = session.connect()
        assert first.status == "FINISHED_SUCCESSFULLY" and not first.exceptions
        assert set(session.number_inputs) == set(model.feature_names)
    finally:
        stop(running)
