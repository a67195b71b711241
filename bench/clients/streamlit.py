"""A Streamlit session spoken over Streamlit's own websocket protocol, as the browser speaks it.

Two protocols, one per Streamlit the project serves; the client finds which one a server speaks:
- Streamlit 1.67 (today's stack): the browser opens /_stcore/stream with the subprotocol list
  ["streamlit", <xsrf token>, <session to resume>].
- Streamlit 1.6 (the 2022 stack): the browser opens /stream with no subprotocols (1.6 neither
  accepts nor echoes one, so a handshake that offers any fails on the client's side).
The client first tries 1.67's handshake; when its path answers 404 it tries 1.6's, and it
remembers, for each base URL in the process, the protocol whose handshake was accepted, so later
sessions do not probe again. (Should a remembered handshake be refused, the other is tried too,
in case the port now serves the other Streamlit; the remembered one's refusal is what counts.)
Then, on both: send a protobuf BackMsg.rerun_script with the widgets' states, and read
ForwardMsgs until script_finished (1.6 sends nothing before the first rerun_script). Today's
Streamlit's protobuf classes serve for both: the fields used here are the same on the wire.
Widget ids are learnt from the first run's deltas. Used by `bench verify`, the probes, the
foreign-Host checks, and the Locust `ui_session` scenario (under gevent, which patches the socket);
StreamlitClient is the protocol's client for the harness (bench/clients/__init__.py).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import websocket
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from bench.clients.base import ClientError


@dataclass(frozen=True)
class StreamProtocol:
    """Where a Streamlit's websocket is, and the subprotocols its handshake must offer."""

    streamlit: str  # which Streamlit speaks it, in words
    path: str
    subprotocols: tuple[str, ...] = ()  # () offers none


# The browser sends its xsrf token as the second entry; with none it sends a placeholder.
SUBPROTOCOLS = ("streamlit", "PLACEHOLDER_AUTH_TOKEN")
STCORE = StreamProtocol("Streamlit 1.67", "/_stcore/stream", SUBPROTOCOLS)
LEGACY = StreamProtocol("Streamlit 1.6", "/stream")
PROTOCOLS = (STCORE, LEGACY)  # in the order they are tried
NOT_HERE = 404  # what a Streamlit answers on the other one's path (1.6; 1.67 answers 403)
_known: dict[str, StreamProtocol] = {}  # base URL -> the protocol its server accepted
MARKDOWN_HEADING = re.compile(r"#{1,6} +([^\n]+)")  # one line of Markdown: "## text"
PREDICT_BUTTON = "Predict"
# A session's first script run loads the model (st.cache_resource): allow it this long.
SESSION_TIMEOUT_S = 30
# Told of every frame a session sends ("sent") or reads ("received"), as the bytes on the wire:
# for comparing the client's messages with a browser's (bench/checks/browser.py).
Observer = Callable[[str, bytes], None]


class StreamlitProtocolError(ClientError):
    """The server closed, timed out or answered something the browser would not accept."""


class HandshakeRefused(StreamlitProtocolError):
    """The websocket handshake got an HTTP answer other than 101 Switching Protocols."""

    def __init__(self, url: str, protocol: StreamProtocol, status_code: int) -> None:
        super().__init__(f"cannot open {url}: handshake refused with HTTP {status_code}")
        self.url = url
        self.protocol = protocol
        self.status_code = status_code


def _base(base_url: str) -> str:
    return base_url.rstrip("/")


def stream_url(base_url: str, protocol: StreamProtocol) -> str:
    return _base(base_url).replace("http", "ws", 1) + protocol.path


def known_protocol(base_url: str) -> StreamProtocol | None:
    """The protocol the server at base_url accepted in this process, or None before any."""
    return _known.get(_base(base_url))


def open_stream(
    base_url: str, origin: str | None = None, host: str | None = None, timeout_s: float = 10
) -> tuple[websocket.WebSocket, StreamProtocol]:
    """Open the websocket of the Streamlit at base_url, as a browser does (Origin: base_url
    unless given; Host: the URL's unless given), in the protocol the server speaks.

    Raises HandshakeRefused for an HTTP answer (the remembered protocol's, else the first that
    was not a 404), and what websocket-client raises when nothing answered."""
    base = _base(base_url)
    remembered = _known.get(base)
    refusals: list[HandshakeRefused] = []
    for protocol in sorted(PROTOCOLS, key=lambda p: p is not remembered):
        url = stream_url(base, protocol)
        try:
            ws = websocket.create_connection(
                url, subprotocols=list(protocol.subprotocols) or None, origin=origin or base,
                host=host, timeout=timeout_s,
            )  # fmt: skip
        except websocket.WebSocketBadStatusException as exc:
            refusals.append(HandshakeRefused(url, protocol, exc.status_code))
            if exc.status_code == NOT_HERE or protocol is remembered:
                continue
            break
        _known[base] = protocol
        return ws, protocol
    raise next((r for r in refusals if r.status_code != NOT_HERE), refusals[-1])


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
        """The headings' texts, in order: `heading` elements (1.67), and markdown elements that
        are one Markdown heading, "### text" (1.6 sends st.title and st.subheader so)."""
        found = []
        for element in self.elements:
            kind = element.WhichOneof("type")
            if kind == "heading":
                found.append(element.heading.body)
            elif kind == "markdown" and (
                heading := MARKDOWN_HEADING.fullmatch(element.markdown.body.strip())
            ):
                found.append(heading[1])
        return found

    @property
    def json_bodies(self) -> list[Any]:
        return [json.loads(j.body) for j in self.of_type("json")]

    @property
    def alerts(self) -> list[str]:
        return [a.body for a in self.of_type("alert")]

    @property
    def prediction_label(self) -> str | None:
        """The label the app shows under "Prediction: " (a heading, or on 1.6 a markdown
        heading), or None when it shows none."""
        prefix = "Prediction: "
        return next((h.removeprefix(prefix) for h in self.headings if h.startswith(prefix)), None)

    def prediction(self) -> dict[str, Any]:
        """The prediction shown, in the REST answer's shape. The page shows no class id: it is
        the label's place among the probabilities, which the app lists in the model's class
        order (shared_model.model.predict builds them so, and st.json keeps the order)."""
        label, bodies = self.prediction_label, self.json_bodies
        if label is None or not bodies or not isinstance(bodies[0], dict):
            raise StreamlitProtocolError(
                f"the run shows no prediction: headings {self.headings}, alerts {self.alerts}, "
                f"exceptions {self.exceptions}"
            )
        probabilities = bodies[0]
        if label not in probabilities:
            raise StreamlitProtocolError(f"label {label!r} is not among {sorted(probabilities)}")
        class_id = list(probabilities).index(label)
        return {"label": label, "class_id": class_id, "probabilities": probabilities}


class StreamlitSession:
    """One browser tab: connect, run the script, set widgets, press buttons."""

    def __init__(
        self, base_url: str, timeout_s: float = 10, observer: Observer | None = None
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self.observer = observer
        self.ws: websocket.WebSocket | None = None
        self.page_script_hash = ""
        self.number_inputs: dict[str, Any] = {}  # label -> NumberInput proto
        self.buttons: dict[str, Any] = {}  # label -> Button proto

    def connect(self) -> ScriptRun:
        """Open the websocket and do the first run, as a page load does."""
        try:
            self.ws, _ = open_stream(self.base_url, timeout_s=self.timeout_s)
        except (OSError, websocket.WebSocketException) as exc:
            raise StreamlitProtocolError(
                f"cannot open the websocket of {self.base_url}: {exc}"
            ) from exc
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
            payload = message.SerializeToString()
            self.ws.send_binary(payload)
            if self.observer is not None:
                self.observer("sent", payload)
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
            if self.observer is not None:
                self.observer("received", data)
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


class StreamlitClient:
    """A browser tab on the Streamlit app: one session, one press of Predict per prediction."""

    protocol = "streamlit"
    min_timeout_s = SESSION_TIMEOUT_S
    page_path = "/"
    websocket = True

    def predict_once(
        self, base_url: str, instances: list[dict[str, float]], timeout_s: float
    ) -> list[dict]:
        with StreamlitSession(base_url, timeout_s=timeout_s) as session:
            session.connect()
            return [session.submit(row, PREDICT_BUTTON).prediction() for row in instances]

    def serves(self, base_url: str, row: dict[str, float], timeout_s: float) -> tuple[bool, str]:
        """Only the first run: Streamlit loads the model there, so a refused model shows as
        an error instead of the form."""
        try:
            with StreamlitSession(base_url, timeout_s=timeout_s) as session:
                first = session.connect()
        except StreamlitProtocolError as exc:
            return False, f"healthy, but the session failed: {exc}"
        served = bool(session.number_inputs) and not first.exceptions
        return served, (
            f"healthy; the first session run ended {first.status} with "
            f"{len(session.number_inputs)} number input(s), exceptions {first.exceptions}, "
            f"alerts {first.alerts}"
        )
