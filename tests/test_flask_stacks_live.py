"""The Flask deployment served from the 2022 stack (Flask 2.0, Flask-WTF 1.0, Flask-Talisman 0.8)
answers as today's does: the same bodies, the same security headers, the same CSRF check and the
same refusal of a foreign Host. Both are real servers, the session's (conftest.py `servers`)."""

import re
import subprocess

import pytest
import requests

from bench.checks.bad_inputs import FOREIGN_HOST_REQUESTS
from bench.checks.foreign_host import foreign_host, http_refusal
from bench.clients.form_page import form_fields, shown_prediction
from bench.targets.manifest import discover
from shared_model.model import predict
from tests.contract_cases import HEADER_PATHS, assert_same_answers, assert_security_headers

pytestmark = pytest.mark.live

NAMES = ("flask", "flask-2022")
TIMEOUT_S = 10
# What differs from one response to the next, whatever the stack.
VARYING_HEADERS = {"date", "content-length", "set-cookie"}


def url(servers, name, path):
    return servers.get(name).base_url + path


def comparable(response: requests.Response) -> tuple[int, dict[str, str], str]:
    """Status, headers and body with the per-request nonce and CSRF token taken out."""
    headers = {
        k.lower(): v for k, v in response.headers.items() if k.lower() not in VARYING_HEADERS
    }
    headers = {k: re.sub(r"'nonce-[^']+'", "'nonce-'", v) for k, v in headers.items()}
    if "allow" in headers:  # a set's order, which changes with each process's hash seed
        headers["allow"] = ", ".join(sorted(headers["allow"].split(", ")))
    body = re.sub(r'(nonce|name="csrf_token" type="hidden" value)="[^"]+"', r'\1=""', response.text)
    return response.status_code, headers, body


def key_order(value):
    """The keys of every object in a JSON value, in order; its numbers, strings and so on left
    out (each stack's numpy and scikit-learn may differ in a probability's last bits)."""
    if isinstance(value, dict):
        return [(k, key_order(v)) for k, v in value.items()]
    if isinstance(value, list):
        return [key_order(v) for v in value]
    return None


def test_the_2022_variant_runs_flask_2_0():
    [old] = [d for d in discover() if d.name == "flask-2022"]
    version = subprocess.run(
        [old.stack.python, "-c", "import flask; print(flask.__version__)"],
        capture_output=True, text=True, timeout=120, check=True,
    ).stdout  # fmt: skip
    assert version.startswith("2.0."), version


@pytest.mark.parametrize("path", [*HEADER_PATHS, "/api/predict"])
def test_both_stacks_answer_alike(servers, path):
    today, old = (requests.get(url(servers, n, path), timeout=TIMEOUT_S) for n in NAMES)
    assert comparable(old) == comparable(today)
    assert_security_headers(old.headers)


def test_predictions_keep_the_contract_key_order(servers, model, good_row):
    today, old = (
        requests.post(
            url(servers, n, "/api/predict"), json={"instances": [good_row]}, timeout=TIMEOUT_S
        )
        for n in NAMES
    )
    assert (old.status_code, today.status_code) == (200, 200)
    today, old = today.json(), old.json()
    assert list(old) == ["predictions", "model"]
    assert key_order(old) == key_order(today)
    assert old["model"] == today["model"]
    for body in (today, old):
        assert_same_answers(body["predictions"], predict(model, [good_row]))


def test_the_2022_form_checks_its_csrf_token(servers, model, good_row):
    page = url(servers, "flask-2022", "/")
    with requests.Session() as browser:
        fields = form_fields(browser.get(page, timeout=TIMEOUT_S).content)
        assert "csrf_token" in fields
        answer = browser.post(page, data=fields, timeout=TIMEOUT_S)
        assert answer.status_code == 200
        assert_same_answers(
            [shown_prediction(answer.content).as_prediction()], predict(model, [good_row])
        )
        forged = browser.post(page, data={**fields, "csrf_token": "x"}, timeout=TIMEOUT_S)
    refused = requests.post(page, data=good_row, timeout=TIMEOUT_S)
    for answer in (forged, refused):
        assert answer.status_code == 403
        assert answer.json()["error"]["code"] == "csrf_failed"


@pytest.mark.parametrize("case", FOREIGN_HOST_REQUESTS, ids=[c.name for c in FOREIGN_HOST_REQUESTS])
def test_the_2022_variant_refuses_a_foreign_host_as_today(servers, case):
    found = {}
    for name in NAMES:
        running = servers.get(name)
        found[name] = http_refusal(running.base_url, running.port, case, TIMEOUT_S)
        assert found[name].refused is True, found[name].reason
    assert found["flask-2022"].http_status == found["flask"].http_status == 400
    assert found["flask-2022"].reason == found["flask"].reason  # "answered 400 bad_request"
    running = servers.get("flask-2022")
    foreign = requests.get(
        running.base_url + "/health",
        headers={"Host": foreign_host(running.port)},
        timeout=TIMEOUT_S,
    )
    assert foreign.headers["X-Frame-Options"] == "DENY"
