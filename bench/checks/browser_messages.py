"""What one Predict interaction with the Streamlit app put on its websocket, decoded, and how a
browser's interaction differs from the protocol client's (bench/clients/streamlit.py).

Both sides are reduced to the same observation (BrowserInteraction) from the raw frames, so the
comparison looks at the wire, not at either side's own account of it."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

Frame = tuple[str, bytes | str]  # ("sent" | "received", the payload as on the wire)
FINISHED_EARLY = "FINISHED_EARLY_FOR_RERUN"  # a run cut short by a rerun: not the end
# The browser parses what was typed, the client converts the row: the same decimal string gives
# the same double, but the comparison need not rest on that.
VALUE_TOLERANCE = 1e-9
# Differences that are expected, by key (see message_differences), and why each is harmless
# for what the benchmark measures of an interaction.
EXPECTED_DIFFERENCES: dict[str, str] = {
    "rerun_script.context_info": (
        "the browser reports its timezone, locale, URL, colour scheme and whether it is "
        "embedded with every rerun (for st.context); app.py reads none of it, so the run and "
        "its deltas are the same without it"
    ),
    "http": (
        "the browser loads the page over HTTP before it opens the websocket (the HTML, the "
        "static scripts, styles and fonts, /_stcore/health and /_stcore/host-config) and "
        "fetches more scripts as new elements first appear; the protocol client opens the "
        "websocket at once, so a session's page load is not in its load on the server"
    ),
}


@dataclass(frozen=True)
class WidgetValue:
    kind: str  # the WidgetState value field that is set: double_value, trigger_value, ...
    value: Any


@dataclass
class BrowserInteraction:
    """One session's Predict interaction, by a browser or by the protocol client (`by`)."""

    by: str
    prediction: str | None  # the label shown after "Prediction: ", None when none is
    probabilities: dict[str, float]  # shown with it
    sent: list[str]  # BackMsg types, the whole session, in order
    received: list[str]  # ForwardMsg kinds of the Predict run, new_session to script_finished
    widget_states: dict[str, WidgetValue]  # the Predict rerun's, by widget id
    rerun_fields: list[str]  # the ClientState fields the Predict rerun sets
    http_paths: list[str] = field(default_factory=list)  # fetched over HTTP (the browser's)
    console_errors: list[str] = field(default_factory=list)  # the page's (the browser's)
    seconds: float = 0.0  # press of Predict to the prediction shown


def back_message(payload: bytes | str) -> BackMsg:
    message = BackMsg()
    message.ParseFromString(_binary(payload, "BackMsg"))
    return message


def forward_message(payload: bytes | str) -> ForwardMsg:
    message = ForwardMsg()
    message.ParseFromString(_binary(payload, "ForwardMsg"))
    return message


def _binary(payload: bytes | str, what: str) -> bytes:
    if not isinstance(payload, bytes):
        raise ValueError(f"expected a binary {what}, got a text frame {payload!r:.80}")
    return payload


def forward_kind(message: ForwardMsg) -> str:
    """Its type; a delta's with what it carries, e.g. "delta.new_element.heading"."""
    kind = message.WhichOneof("type") or "none"
    if kind == "delta":
        delta = message.delta.WhichOneof("type")
        kind = f"delta.{delta}"
        if delta == "new_element":
            kind += f".{message.delta.new_element.WhichOneof('type')}"
    return kind


def finishes_run(payload: bytes | str) -> bool:
    """Whether this received frame ends a script run (a script_finished not cut short)."""
    if not isinstance(payload, bytes):
        return False
    message = forward_message(payload)
    return message.WhichOneof("type") == "script_finished" and (
        ForwardMsg.ScriptFinishedStatus.Name(message.script_finished) != FINISHED_EARLY
    )


def _presses(message: BackMsg) -> bool:
    states = message.rerun_script.widget_states.widgets
    return message.WhichOneof("type") == "rerun_script" and any(
        s.WhichOneof("value") == "trigger_value" and s.trigger_value for s in states
    )


def observe(
    by: str,
    frames: Sequence[Frame],
    prediction: str | None,
    probabilities: Mapping[str, float],
    **extra: Any,
) -> BrowserInteraction:
    """The observation of a session from its frames, in the order they were sent and read: the
    Predict rerun is the last rerun_script that presses a button."""
    sent = [(i, back_message(p)) for i, (d, p) in enumerate(frames) if d == "sent"]
    pressed = [(i, m) for i, m in sent if _presses(m)]
    if not pressed:
        raise ValueError(f"{by}: none of the {len(sent)} BackMsg(s) sent presses a button")
    at, rerun = pressed[-1]
    states = {
        s.id: WidgetValue(s.WhichOneof("value"), getattr(s, s.WhichOneof("value")))
        for s in rerun.rerun_script.widget_states.widgets
    }
    return BrowserInteraction(
        by=by, prediction=prediction, probabilities=dict(probabilities),
        sent=[m.WhichOneof("type") for _, m in sent],
        received=_run_after(frames[at + 1 :]), widget_states=states,
        rerun_fields=[f.name for f, _ in rerun.rerun_script.ListFields()], **extra,
    )  # fmt: skip


def _run_after(frames: Sequence[Frame]) -> list[str]:
    """The kinds of the first run among these frames: from its new_session (what is read
    before it belongs to the run before) to the script_finished that ends it."""
    kinds: list[str] = []
    for direction, payload in frames:
        if direction != "received":
            continue
        message = forward_message(payload)
        kind = forward_kind(message)
        if kinds or kind == "new_session":
            kinds.append(kind)
        if kinds and finishes_run(payload):
            break
    return kinds


def message_differences(browser: BrowserInteraction, client: BrowserInteraction) -> dict[str, str]:
    """Every difference, by key: sent.<type>, received.<kind>, received.order,
    rerun_script.<field>, widget.<id>, prediction, http."""
    found = {
        **_count_differences("sent", Counter(browser.sent), Counter(client.sent)),
        **_count_differences("received", Counter(browser.received), Counter(client.received)),
        **_widget_differences(browser.widget_states, client.widget_states),
        **_prediction_differences(browser, client),
    }
    if not found.keys() & {f"received.{k}" for k in browser.received + client.received} and (
        browser.received != client.received
    ):
        found["received.order"] = f"browser {browser.received}, client {client.received}"
    for name in sorted(set(browser.rerun_fields) ^ set(client.rerun_fields)):
        side = "browser" if name in browser.rerun_fields else "client"
        found[f"rerun_script.{name}"] = f"set by the {side} only"
    if browser.http_paths != client.http_paths:
        found["http"] = f"browser {_paths(browser.http_paths)}; client {_paths(client.http_paths)}"
    return found


def compare_messages(browser: BrowserInteraction, client: BrowserInteraction) -> list[str]:
    """The differences that are not among EXPECTED_DIFFERENCES, as "key: what differs"."""
    return [
        f"{key}: {what}"
        for key, what in message_differences(browser, client).items()
        if key not in EXPECTED_DIFFERENCES
    ]


def _count_differences(prefix: str, browser: Counter, client: Counter) -> dict[str, str]:
    return {
        f"{prefix}.{kind}": f"browser {browser[kind]}, client {client[kind]}"
        for kind in sorted(browser.keys() | client.keys())
        if browser[kind] != client[kind]
    }


def _widget_differences(
    browser: Mapping[str, WidgetValue], client: Mapping[str, WidgetValue]
) -> dict[str, str]:
    found = {}
    for widget_id in sorted(browser.keys() | client.keys()):
        ours, theirs = browser.get(widget_id), client.get(widget_id)
        if ours is None or theirs is None:
            found[f"widget.{widget_id}"] = (
                f"sent by the {'client' if ours is None else 'browser'} only"
            )
        elif ours.kind != theirs.kind:
            found[f"widget.{widget_id}"] = f"browser {ours.kind}, client {theirs.kind}"
        elif not _same_value(ours.value, theirs.value):
            found[f"widget.{widget_id}"] = f"browser {ours.value!r}, client {theirs.value!r}"
    return found


def _same_value(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=VALUE_TOLERANCE, abs_tol=VALUE_TOLERANCE)
    return a == b


def _prediction_differences(
    browser: BrowserInteraction, client: BrowserInteraction
) -> dict[str, str]:
    same = browser.prediction == client.prediction and (
        browser.probabilities.keys() == client.probabilities.keys()
        and all(_same_value(float(v), float(client.probabilities[k]))
                for k, v in browser.probabilities.items())
    )  # fmt: skip
    if same:
        return {}
    return {
        "prediction": f"browser {browser.prediction!r} {browser.probabilities}, "
        f"client {client.prediction!r} {client.probabilities}"
    }


def _paths(paths: Sequence[str]) -> str:
    """Paths with the static files counted, not listed."""
    static = [p for p in paths if p.startswith("/static/")]
    others = sorted(set(paths) - set(static))
    return f"{len(paths)} request(s): {others} and {len(static)} under /static/"
