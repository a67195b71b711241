"""The deployments' pages in a real browser (Debian's chromium): Streamlit shows the model's
prediction, and its websocket carries the same messages and widget states as the protocol
client's for the same interaction; the Flask and Django forms predict right in a browser too.
The first tests need no server: they check the comparison on frames built here."""

from __future__ import annotations

import math

import pytest
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from bench.checks.browser import (
    CHROMIUM,
    FORM_PATH,
    client_interaction,
    form_in_browser,
    streamlit_in_browser,
)
from bench.checks.browser_messages import (
    EXPECTED_DIFFERENCES,
    compare_messages,
    message_differences,
    observe,
)
from bench.checks.browser_timing import time_browser_sessions
from bench.clients.payloads import canonical_instances
from shared_model.model import predict

LIVE = (
    pytest.mark.live,
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason=f"{CHROMIUM} is absent: install Debian's chromium"
    ),
)
TOLERANCE = 1e-9
BUTTON_ID = "$$ID-button-FormSubmitter:prediction-Predict"


def live_browser(test):
    """Marks a test live and browser, skipped without chromium (the first tests need neither)."""
    for mark in LIVE:
        test = mark(test)
    return test


def _rerun(widgets: dict[str, tuple[str, object]], context: bool = False) -> tuple[str, bytes]:
    message = BackMsg()
    message.rerun_script.page_script_hash = "page"
    for widget_id, (kind, value) in widgets.items():
        state = message.rerun_script.widget_states.widgets.add()
        state.id = widget_id
        setattr(state, kind, value)
    if context:
        message.rerun_script.context_info.timezone = "UTC"
    return "sent", message.SerializeToString()


def _received(kind: str, element: str | None = None) -> tuple[str, bytes]:
    message = ForwardMsg()
    if kind == "script_finished":
        message.script_finished = ForwardMsg.FINISHED_SUCCESSFULLY
    elif kind == "new_session":
        message.new_session.page_script_hash = "page"
    elif kind == "session_status_changed":
        message.session_status_changed.script_is_running = False
    else:
        getattr(message.delta.new_element, element).SetInParent()
    return "received", message.SerializeToString()


def _session(value: float = 5.8, kind: str = "double_value", context: bool = False) -> list:
    """A page load's run, the leftover status of it, then the Predict run."""
    return [
        _rerun({}, context),
        _received("new_session"),
        _received("script_finished"),
        _rerun({"$$ID-a": (kind, value), BUTTON_ID: ("trigger_value", True)}, context),
        _received("session_status_changed"),  # the client reads the load run's last here
        _received("new_session"),
        _received("delta", "heading"),
        _received("delta", "json"),
        _received("script_finished"),
    ]


def test_an_observation_is_the_predict_run_s():
    seen = observe("test", _session(), "versicolor", {"versicolor": 1.0})
    assert seen.sent == ["rerun_script", "rerun_script"]
    assert seen.received == [
        "new_session", "delta.new_element.heading", "delta.new_element.json", "script_finished",
    ]  # fmt: skip
    assert {k: v.kind for k, v in seen.widget_states.items()} == {
        "$$ID-a": "double_value",
        BUTTON_ID: "trigger_value",
    }


def test_only_unexpected_differences_are_reported():
    plain = observe("client", _session(), "versicolor", {})
    with_context = observe("browser", _session(context=True), "versicolor", {})
    assert "rerun_script.context_info" in message_differences(with_context, plain)
    assert "rerun_script.context_info" in EXPECTED_DIFFERENCES
    assert compare_messages(with_context, plain) == []
    as_int = observe("browser", _session(value=6, kind="int_value"), "versicolor", {})
    assert compare_messages(as_int, plain) == [
        "widget.$$ID-a: browser int_value, client double_value"
    ]


def test_a_text_frame_is_a_clear_error():
    with pytest.raises(ValueError, match="text frame"):
        observe("test", [("sent", "hello")], None, {})


@pytest.fixture(scope="module")
def row(model):
    return canonical_instances(model)[3]  # a seeded row, not the defaults the page opens with


@pytest.fixture(scope="module")
def streamlit_url(servers):
    return servers.get("streamlit").base_url


@pytest.fixture(scope="module")
def interactions(streamlit_url, row):
    """The same interaction in chromium and by the protocol client."""
    return streamlit_in_browser(streamlit_url, row), client_interaction(streamlit_url, row)


def _close(a: dict[str, float], b: dict[str, float]) -> bool:
    return a.keys() == b.keys() and all(math.isclose(a[k], b[k], abs_tol=TOLERANCE) for k in a)


@live_browser
def test_the_browser_shows_the_model_s_prediction(interactions, model, row):
    browser, _ = interactions
    expected = predict(model, [row])[0]
    assert browser.prediction == expected["label"]
    assert _close(browser.probabilities, expected["probabilities"]), browser.probabilities
    assert browser.seconds > 0


@live_browser
def test_the_browser_and_the_client_exchange_the_same_messages(interactions, row):
    browser, client = interactions
    assert compare_messages(browser, client) == [], message_differences(browser, client)
    kinds = {state.kind for state in browser.widget_states.values()}
    assert kinds == {"double_value", "trigger_value"}
    assert len(browser.widget_states) == len(row) + 1  # the number inputs and the button
    assert browser.received[0] == "new_session" and browser.received[-1] == "script_finished"


@live_browser
@pytest.mark.parametrize("name", ["flask", "django"])
def test_the_form_in_a_browser_gives_the_model_s_prediction(servers, model, row, name):
    shown = form_in_browser(servers.get(name).base_url, FORM_PATH, row)
    assert shown == predict(model, [row])[0]["label"]


@live_browser
def test_timing_returns_one_latency_per_interaction(streamlit_url, row):
    timed = time_browser_sessions(streamlit_url, sessions=1, interactions=2, row=row)
    for side in ("browser", "client"):
        assert timed[side]["count"] == 2 == len(timed[side]["latencies_s"])
        assert all(s > 0 for s in timed[side]["latencies_s"])
        assert timed[side]["interactions_per_s"] > 0
