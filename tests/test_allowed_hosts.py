"""The Host rule every deployment shares (deployments/allowed_hosts.py), and each app applying
it in-process; tests/test_foreign_host_live.py sends the same requests to the real servers."""

import importlib.util
import json
import subprocess
import sys

import pytest
from werkzeug.test import Client

import deployments.fastapi_app.app as fastapi_app
import deployments.null_app.app as null_app
import deployments.wsgi_app.app as wsgi_app
from bench import DEPLOYMENTS_DIR, PROJECT_ROOT
from bench.checks.bad_inputs import FOREIGN_HOST, FOREIGN_HOST_REQUESTS
from deployments.allowed_hosts import allowed_hosts, bind_address, host_allowed, star_patterns
from deployments.flask_app.app import create_app
from tests.asgi_client import AsgiClient

LOOPBACK = ["127.0.0.1", "localhost", "[::1]", "::1"]
CASES = [(case.method, case.path, case.body, case.content_type) for case in FOREIGN_HOST_REQUESTS]
CASE_IDS = [case.name for case in FOREIGN_HOST_REQUESTS]


# -- the rule ------------------------------------------------------------------------------------


def test_without_settings_only_loopback_is_allowed():
    assert allowed_hosts({}) == LOOPBACK
    assert bind_address({}) == bind_address({"BIND_HOST": " "}) == "127.0.0.1"


def test_a_concrete_bind_address_is_allowed():
    assert allowed_hosts({"BIND_HOST": "10.1.2.3"}) == [*LOOPBACK, "10.1.2.3"]
    assert bind_address({"BIND_HOST": "10.1.2.3"}) == "10.1.2.3"


@pytest.mark.parametrize("wildcard", ["", "0.0.0.0", "::", "[::]"])
def test_a_wildcard_bind_names_no_host(wildcard):
    assert allowed_hosts({"BIND_HOST": wildcard}) == LOOPBACK


def test_allowed_hosts_adds_names_and_drops_wildcards_and_repeats():
    environ = {"BIND_HOST": "0.0.0.0", "ALLOWED_HOSTS": " A.example , ,*,*.x.example,localhost"}
    assert allowed_hosts(environ) == [*LOOPBACK, "a.example"]


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("127.0.0.1:8101", True),
        ("127.0.0.1", True),
        ("LOCALHOST:1", True),
        ("[::1]:8101", True),
        ("a.example:80", True),
        ("evil.example:8101", False),
        ("127.0.0.1.evil.example", False),
        ("127.0.0.1:80@evil.example", False),
        ("127.0.0.1:port", False),
        ("", False),
        (None, False),
    ],
)
def test_a_host_header_is_matched_without_its_port(host, allowed):
    assert host_allowed(host, [*LOOPBACK, "a.example"]) is allowed


def test_a_leading_dot_admits_the_domain_and_its_subdomains_only():
    allowed = [".lab.example"]
    assert host_allowed("lab.example:1", allowed)
    assert host_allowed("a.b.lab.example", allowed)
    assert not host_allowed("evillab.example", allowed)
    assert star_patterns(["x", ".lab.example"]) == ["x", "lab.example", "*.lab.example"]


# -- Streamlit's launcher ------------------------------------------------------------------------


def streamlit_serve():
    spec = importlib.util.spec_from_file_location(
        "streamlit_serve", DEPLOYMENTS_DIR / "streamlit_app" / "serve.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_streamlit_gets_the_same_rule_as_its_own_settings():
    env = streamlit_serve().streamlit_env({"BIND_HOST": "10.1.2.3", "ALLOWED_HOSTS": ".lab.ex"})
    assert env == {
        "STREAMLIT_SERVER_ADDRESS": "10.1.2.3",
        "STREAMLIT_SERVER_ALLOWED_HOSTS": "127.0.0.1 localhost [::1] ::1 10.1.2.3 lab.ex *.lab.ex",
    }


def test_streamlit_resolves_the_address_hosts_and_message_cap_it_is_given(tmp_path):
    """Streamlit's own `config show`, run as every configuration runs it (serve.py): what its
    server will use, after its command line read the environment."""
    result = subprocess.run(
        [sys.executable, "serve.py", "config", "show"],
        cwd=DEPLOYMENTS_DIR / "streamlit_app",
        env={
            "PATH": "/usr/bin:/bin",
            "HOME": str(tmp_path),  # no user-level config.toml
            "PYTHONPATH": str(PROJECT_ROOT),
            "BIND_HOST": "127.0.0.1",
            "ALLOWED_HOSTS": "client.example",
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    shown = result.stdout
    hosts = shown.split("\nallowedHosts = [", 1)[1].split("]\n", 1)[0]
    assert [h.strip(' ",') for h in hosts.split("\n") if h.strip()] == [*LOOPBACK, "client.example"]
    assert '\naddress = "127.0.0.1"\n' in shown
    assert "\nmaxMessageSize = 1\n" in shown


# -- each app, in-process ------------------------------------------------------------------------


def assert_refused(status, body: bytes, json_error: bool = True):
    assert status == 400
    if json_error:
        assert json.loads(body)["error"]["code"] == "bad_request"


@pytest.mark.parametrize(("method", "path", "body", "content_type"), CASES, ids=CASE_IDS)
def test_flask_refuses_a_foreign_host(method, path, body, content_type):
    client = create_app({"TESTING": True}).test_client()
    answer = client.open(path, method=method, data=body, content_type=content_type,
                         headers={"Host": f"{FOREIGN_HOST}:8101"})  # fmt: skip
    assert_refused(answer.status_code, answer.data)
    assert answer.headers["X-Frame-Options"] == "DENY"
    assert client.get("/health", headers={"Host": "127.0.0.1:8101"}).status_code == 200


def test_flask_and_wsgi_allow_the_names_the_environment_gives(monkeypatch):
    monkeypatch.setenv("BIND_HOST", "10.1.2.3")
    monkeypatch.setenv("ALLOWED_HOSTS", "client.example")
    clients = [create_app({"TESTING": True}).test_client(), Client(wsgi_app.create_app())]
    for client in clients:
        for host in ("10.1.2.3:8101", "client.example", "localhost"):
            assert client.get("/health", headers={"Host": host}).status_code == 200, host
        assert client.get("/health", headers={"Host": "other.example"}).status_code == 400


@pytest.mark.parametrize(("method", "path", "body", "content_type"), CASES, ids=CASE_IDS)
@pytest.mark.parametrize("app", ["wsgi", "null"])
def test_the_bare_wsgi_apps_refuse_a_foreign_host_with_a_json_error(
    app, method, path, body, content_type
):
    client = Client(wsgi_app.create_app() if app == "wsgi" else null_app.application)
    answer = client.open(path, method=method, data=body, content_type=content_type,
                         headers={"Host": f"{FOREIGN_HOST}:8105"})  # fmt: skip
    assert_refused(answer.status_code, answer.data)
    assert answer.mimetype == "application/json"


@pytest.mark.parametrize(("method", "path", "body", "content_type"), CASES, ids=CASE_IDS)
def test_fastapi_refuses_a_foreign_host(method, path, body, content_type):
    with AsgiClient(fastapi_app.app) as client:
        answer = client.request(method, path, body, content_type, host=f"{FOREIGN_HOST}:8104")
        # Starlette's own plain-text answer, with the deployment's security headers.
        assert_refused(answer.status, answer.body, json_error=False)
        assert answer.body == b"Invalid host header"
        assert answer.headers["x-frame-options"] == "DENY"
        assert client.request("GET", "/health", host="localhost:8104").status == 200


@pytest.fixture(scope="module")
def django_client():
    import django
    from django.test import Client as DjangoClient

    django.setup()
    return DjangoClient()


@pytest.mark.parametrize(("method", "path", "body", "content_type"), CASES, ids=CASE_IDS)
def test_django_refuses_a_foreign_host(django_client, method, path, body, content_type):
    answer = django_client.generic(method, path, body, content_type or "text/plain",
                                   headers={"host": f"{FOREIGN_HOST}:8102"})  # fmt: skip
    assert_refused(answer.status_code, answer.content)
    assert answer.headers["X-Frame-Options"] == "DENY"
    own = django_client.get("/health", headers={"host": "127.0.0.1:8102"})
    assert own.status_code == 200
