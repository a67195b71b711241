"""The work configurations against real servers: each honours the whole contract, and each
answers the way its manifest says, as the answer probe sees it on the wire."""

import pytest

from bench.checks.probes_answer import probe_answer
from bench.checks.verify import verify
from bench.targets.manifest import discover
from deployments.response_headers import SECURITY_HEADERS

pytestmark = pytest.mark.live

WORK = [(d.name, c) for d in discover() for c, cfg in d.configs.items() if cfg.work]
SHARED = {name.lower(): value for name, value in SECURITY_HEADERS}
CSP = "content-security-policy"


def headers_of(answer):
    return {name.lower(): value for name, value in answer["headers"].items()}


@pytest.fixture
def answer(servers, model):
    return lambda name, config="default": probe_answer(servers.get(name, config), model)


def test_there_are_work_configurations_of_both_frameworks_and_the_null_target():
    assert {name for name, _ in WORK} >= {"flask", "django", "null"}


@pytest.mark.parametrize(("name", "config"), WORK)
def test_every_work_configuration_passes_every_check(servers, model, name, config):
    results = verify(servers.get(name, config), model)
    assert results
    assert not [f"{r.check}: {r.reason}" for r in results if not r.passed]


def test_the_sync_worker_closes_connections_and_gthread_and_uvicorn_keep_them(answer):
    for name in ("flask", "django", "null"):
        assert not answer(name)["kept_alive"], name
        assert answer(name, "keepalive")["kept_alive"], name
    assert answer("fastapi")["kept_alive"]


def test_equal_work_answers_carry_the_same_headers_and_the_same_bytes(answer):
    equal = {
        "flask": answer("flask", "equal_work"),
        "django": answer("django", "equal_work"),
        "wsgi": answer("wsgi"),  # the references send the shared set by default
        "fastapi": answer("fastapi"),
    }
    for name, found in equal.items():
        headers = headers_of(found)
        assert found["status"] == 200, name
        assert found["content_length"] and not found["chunked"], name
        assert {k: headers.get(k) for k in SHARED} == SHARED, name
        assert CSP not in headers, name
    assert len({found["body_sha256"] for found in equal.values()}) == 1, equal


def test_what_the_defaults_do_that_equal_work_does_not(answer):
    # Flask-Talisman computes a fresh CSP nonce for every answer, the JSON ones included.
    first, second = headers_of(answer("flask")), headers_of(answer("flask"))
    assert first[CSP] != second[CSP]
    # Without CommonMiddleware, Django's answers have no Content-Length: gunicorn chunks them.
    django = answer("django")
    assert django["chunked"] and not django["content_length"]
    # The Flask tutorial's app sends none of the shared headers.
    assert not set(headers_of(answer("flask", "project_defaults"))) & set(SHARED)


def test_plain_django_answers_what_rest_framework_answers(answer):
    plain, drf = answer("django", "plain"), answer("django")
    assert plain["body_sha256"] == drf["body_sha256"]
    # REST framework names the allowed methods on every answer; plain Django does not.
    assert "allow" in headers_of(drf) and "allow" not in headers_of(plain)
