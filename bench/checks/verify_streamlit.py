"""The Streamlit session's conformance checks, over Streamlit's own websocket: the first run,
predictions, widget values a browser would never send, and its Host check."""

from __future__ import annotations

import math

from bench.checks.bad_inputs import FOREIGN_HOST_WEBSOCKET
from bench.checks.verify_common import (
    HOSTILE,
    Check,
    NamedChecks,
    check_plain_health,
    foreign_host_checks,
    require,
)
from bench.clients.payloads import canonical_instances
from bench.clients.streamlit import (
    PREDICT_BUTTON,
    SESSION_TIMEOUT_S,
    StreamlitClient,
    StreamlitSession,
)
from bench.targets.servers import RunningDeployment
from shared_model.model import LoadedModel, predict

PROTOCOL = StreamlitClient.protocol
# Values a browser's number input would never send, sent straight over the websocket: the app
# must show no prediction and raise nothing (Streamlit's own range check, or the shared validator).
HOSTILE_WIDGET_VALUES = {
    "NaN": math.nan,
    "Infinity": math.inf,
    "1e308": 1e308,
}
# Streamlit 1.67 checks a number input's value against the widget's range on the server and,
# when it is out of range (NaN compares out), silently puts the widget back to its default: the
# run predicts for the default, and the user is not told. (Measured: a valid 5.0 then NaN gives
# the prediction for the default 5.8, not for 5.0.)
RESET_TO_DEFAULT = "not used: Streamlit silently reset the widget to its default (out of range)"


def checks() -> NamedChecks:
    yield "streamlit health", check_plain_health
    yield "streamlit session predictions", check_streamlit_session
    for name, value in HOSTILE_WIDGET_VALUES.items():
        yield HOSTILE + f"widget value {name}", _streamlit_refuses(value)
    yield from foreign_host_checks([FOREIGN_HOST_WEBSOCKET])
    yield HOSTILE + "still predicts afterwards", check_streamlit_session


def _streamlit_refuses(value: float) -> Check:
    """The value must not reach the model: either the app refuses it (no prediction), or
    Streamlit's own range check puts the widget back to its default, and the prediction shown
    is the default's (the other inputs are at their defaults too here)."""

    def check(running: RunningDeployment, model: LoadedModel) -> str | None:
        row = {f["name"]: f["default"] for f in model.metadata["features"]}
        with StreamlitSession(running.base_url, timeout_s=SESSION_TIMEOUT_S) as session:
            session.connect()
            run = session.submit({**row, model.feature_names[0]: value}, PREDICT_BUTTON)
        require(not run.exceptions, f"the script raised: {run.exceptions}")
        if run.prediction_label is None:
            return None
        kept = predict(model, [row])[0]
        require(
            run.prediction_label == kept["label"] and run.json_bodies == [kept["probabilities"]],
            f"a prediction for the hostile value is shown: {run.headings}",
        )
        return RESET_TO_DEFAULT

    return check


def check_streamlit_session(running: RunningDeployment, model: LoadedModel) -> None:
    with StreamlitSession(running.base_url, timeout_s=SESSION_TIMEOUT_S) as session:
        first = session.connect()
        require(not first.exceptions, f"the script raised: {first.exceptions}")
        require(first.status == "FINISHED_SUCCESSFULLY", f"first run ended {first.status}")
        inputs = {label: widget.default for label, widget in session.number_inputs.items()}
        defaults = {f["name"]: f["default"] for f in model.metadata["features"]}
        require(
            inputs == defaults, f"inputs and defaults {inputs} differ from the model's {defaults}"
        )
        for row in canonical_instances(model)[:4]:
            run = session.submit(row, PREDICT_BUTTON)
            # A script that raises still "finishes successfully": look for the element.
            require(not run.exceptions, f"the script raised: {run.exceptions}")
            expected = predict(model, [row])[0]
            require(
                run.prediction_label == expected["label"],
                f"headings {run.headings} for {row}",
            )
            require(
                run.json_bodies == [expected["probabilities"]],
                f"probabilities {run.json_bodies} for {row}",
            )
