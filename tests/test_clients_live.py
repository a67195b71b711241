"""Each protocol's client against the real servers (the session's, on ports the OS picks): the
predictions it reads are shared_model.predict()'s, a server that speaks another protocol gives
a clear ClientError, and a cold start ends at the first correct prediction of the main client."""

import dataclasses

import pytest

from bench.clients import ClientError, client, clients_for
from bench.clients.answers import same_predictions
from bench.clients.payloads import canonical_instances
from bench.run.cold_starts import first_correct_prediction
from bench.targets.manifest import discover
from bench.targets.servers import start, stop
from shared_model.model import predict
from tests.live import STARTUP_TIMEOUT_S, free_port

pytestmark = pytest.mark.live

DEPLOYMENTS = {d.name: d for d in discover()}
SPOKEN = [
    (name, protocol)
    for name, d in DEPLOYMENTS.items()
    if d.role != "calibration"
    for protocol in clients_for(d)
]
TIMEOUT_S = 10
# Printed rounding is the only difference a client may add: the form shows what the server
# computed, JSON round-trips floats.
TOLERANCE = 1e-9


def test_every_protocol_is_spoken_by_some_deployment():
    assert {protocol for _, protocol in SPOKEN} == {"rest", "form", "streamlit"}


@pytest.mark.parametrize(("name", "protocol"), SPOKEN)
def test_the_client_reads_the_model_s_predictions(servers, model, name, protocol):
    running = servers.get(name)
    speaker = client(protocol)
    rows = canonical_instances(model)[:3]
    got = speaker.predict_once(running.base_url, rows, max(TIMEOUT_S, speaker.min_timeout_s))
    assert same_predictions(got, predict(model, rows), tolerance=TOLERANCE), got


# (client, a deployment that does not speak its protocol, words of the error)
WRONG = [
    ("rest", "streamlit", "answered"),
    ("streamlit", "flask", "handshake refused with HTTP 404"),
    ("form", "fastapi", "no HTML form"),
    ("form", "streamlit", "no HTML form"),
]


@pytest.mark.parametrize(("protocol", "name", "words"), WRONG)
def test_a_server_of_another_protocol_gives_a_clear_error(servers, model, protocol, name, words):
    running = servers.get(name)
    assert protocol not in clients_for(running.deployment)
    rows = canonical_instances(model)[:1]
    with pytest.raises(ClientError) as raised:
        client(protocol).predict_once(running.base_url, rows, TIMEOUT_S)
    # A refusal, not a wait that ran out: the answer came back and was the wrong protocol's.
    assert "timed out" not in str(raised.value).lower()
    assert words in str(raised.value)


@pytest.mark.parametrize("name", ["flask", "streamlit"])
def test_a_cold_start_ends_at_the_main_client_s_first_correct_prediction(tmp_path, model, name):
    patient = dataclasses.replace(DEPLOYMENTS[name], startup_timeout_s=STARTUP_TIMEOUT_S)
    running = start(patient, port=free_port(), log_path=tmp_path / f"{name}.log")
    try:
        seconds = first_correct_prediction(running, model)
        assert seconds > 0
        assert running.process.poll() is None, running.log_tail()
    finally:
        stop(running)
