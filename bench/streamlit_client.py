"""A Streamlit session spoken over Streamlit's own websocket protocol, as the browser speaks it.

The browser opens /_stcore/stream with the subprotocol list ["streamlit", <xsrf token>,
<session to resume>], sends a protobuf BackMsg.rerun_script with the widgets' states, and reads
ForwardMsgs until script_finished. Widget ids are learnt from the first run's deltas. Used by
`bench verify` and by the Locust `ui_session` scenario (under gevent, which patches the socket).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import websocket
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

# The browser sends its xsrf token as the second entry; with none it sends a placeholder.
SUBPROTOCOLS = ["streamlit", "PLACEHOLDER_AUTH_TOKEN"]


class StreamlitProtocolError(RuntimeError):
    """The server closed, timed out or answered something the browser would not accept."""


@dataclass
class ScriptRun:
    """What one script run displayed."""

    status: str = ""
    elements: list[Any] = field(default_factory=list)  # Element protos, in arrival order
    seconds: float = 0.0
    messages: int = 0

    def of_type(self, kind: str) -> list[Any]:
        return [getattr(e, kind) for e in self.elements if e.WhichOneof("type") == kind]

    @property
    def exceptions(self) -> list[str]:
        return [f"{x.type}: {x.message}" for x in self.of_type("exception")]

    @property
    def headings(self) -> list[str]:
        return [h.body for h in self.of_type("heading")]

    @property
    def json_bodies(self) -> list[Any]:
        return [json.loads(j.body) for j in self.of_type("json")]

    @property
    def alerts(self) -> list[str]:
        return [a.body for a in self.of_type("alert")]

    @property
    def prediction_label(self) -> str | None:
        """The label the app shows under "Prediction: ", or None when it shows none."""
        prefix = "Prediction: "
        return next((h.removeprefix(prefix) for h in self.headings if h.startswith(prefix)), None)


class StreamlitSession:
    """One browser tab: connect, run the script, set widgets, press buttons."""

    def __init__(self, base_url: str, timeout_s: float = 10) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self.ws: websocket.WebSocket | None = None
        self.page_script_hash = ""
        self.number_inputs: dict[str, Any] = {}  # label -> NumberInput proto
        self.buttons: dict[str, Any] = {}  # label -> Button proto

    def connect(self) -> ScriptRun:
        """Open the websocket and do the first run, as a page load does."""
        url = self.base_url.replace("http", "ws", 1) + "/_stcore/stream"
        try:
            self.ws = websocket.create_connection(
                url, subprotocols=SUBPROTOCOLS, origin=self.base_url, timeout=self.timeout_s
            )
        except (OSError, websocket.WebSocketException) as exc:
            raise StreamlitProtocolError(f"cannot open {url}: {exc}") from exc
        first = self.rerun({})
        self.number_inputs = {n.label: n for n in first.of_type("number_input")}
        self.buttons = {b.label: b for b in first.of_type("button")}
        return first

    def submit(self, values: Mapping[str, float], button: str) -> ScriptRun:
        """Set number inputs (by label) and press a button: one user interaction."""
        unknown = set(values) - set(self.number_inputs)
        if unknown or button not in self.buttons:
            raise StreamlitProtocolError(
                f"the page has no widget(s) {sorted(unknown) or [button]}; "
                f"it has {sorted(self.number_inputs)} and buttons {sorted(self.buttons)}"
            )
        states = {
            self.number_inputs[label].id: ("double_value", float(v)) for label, v in values.items()
        }
        states[self.buttons[button].id] = ("trigger_value", True)
        return self.rerun(states)

    def rerun(self, widget_states: Mapping[str, tuple[str, Any]]) -> ScriptRun:
        """Send rerun_script with these widget states and read until the script finishes."""
        if self.ws is None:
            raise StreamlitProtocolError("not connected")
        message = BackMsg()
        client_state = message.rerun_script
        client_state.page_script_hash = self.page_script_hash
        for widget_id, (kind, value) in widget_states.items():
            state = client_state.widget_states.widgets.add()
            state.id = widget_id
            setattr(state, kind, value)
        started = time.perf_counter()
        try:
            self.ws.send_binary(message.SerializeToString())
            run = self._read_until_finished()
        except (OSError, websocket.WebSocketException) as exc:
            self.close()  # a broken session is not reused: the caller reconnects
            raise StreamlitProtocolError(f"websocket failed during a script run: {exc}") from exc
        run.seconds = time.perf_counter() - started
        return run

    def _read_until_finished(self) -> ScriptRun:
        run = ScriptRun()
        while True:
            data = self.ws.recv()
            if not isinstance(data, bytes):
                raise StreamlitProtocolError(f"expected a binary ForwardMsg, got {data!r:.80}")
            msg = ForwardMsg()
            msg.ParseFromString(data)
            run.messages += 1
            kind = msg.WhichOneof("type")
            if kind == "new_session":
                self.page_script_hash = msg.new_session.page_script_hash
            elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                run.elements.append(msg.delta.new_element)
            elif kind == "script_finished":
                run.status = ForwardMsg.ScriptFinishedStatus.Name(msg.script_finished)
                if run.status != "FINISHED_EARLY_FOR_RERUN":
                    return run

    def close(self) -> None:
        if self.ws is not None:
            self.ws.close()
            self.ws = None

    def __enter__(self) -> StreamlitSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
