"""What every protocol client offers the harness (bench/clients/__init__.py chooses one).

Nothing here imports a protocol's libraries: Locust imports bench.clients.* under gevent, and
the registry must stay cheap to import.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable


class ClientError(RuntimeError):
    """The server did not answer as this protocol's client expects: refused, closed, timed
    out, or answered something that is not this protocol's answer (a wrong protocol)."""


@runtime_checkable
class Client(Protocol):
    """One way a real user or program gets a prediction from a deployment."""

    # Its name in SCENARIO_PROTOCOLS.
    protocol: str
    # The least time a call must be allowed, whatever its caller's own timeout: Streamlit's
    # first script run of a session loads the model (st.cache_resource).
    min_timeout_s: float
    # The page a user opens, whose headers a browser gets; None: no page (an API).
    page_path: str | None
    # The protocol runs over a websocket: Streamlit checks Origin and Host only on its
    # handshake, so the cross-origin and foreign-Host probes target the handshake.
    websocket: bool

    def predict_once(
        self, base_url: str, instances: list[dict[str, float]], timeout_s: float
    ) -> list[dict]:
        """The predictions, in the REST answer's shape (label, class_id, probabilities), one
        per instance; raises ClientError when the server does not answer as expected."""
        ...

    def serves(self, base_url: str, row: dict[str, float], timeout_s: float) -> tuple[bool, str]:
        """Does the server serve predictions at all (the tampered-model probe asks, once it is
        healthy)? (served, what it answered, in words)."""
        ...


def timeout_for(client: Client, timeout_s: float) -> float:
    """The caller's timeout, raised to what the protocol needs at least."""
    return max(timeout_s, client.min_timeout_s)
