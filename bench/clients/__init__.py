"""One client per protocol a deployment speaks, and what they send and check.

Each scenario names its protocol in SCENARIO_PROTOCOLS, the one table that does; each protocol
names its client in CLIENTS. Adding a protocol is one client module and one scenario (with a
row in each table); nothing outside bench/clients/ and bench/load/scenarios/ tests a scenario's
name to choose what to do. The clients are imported on first use: Locust imports
bench.clients.answers and bench.clients.payloads, and must not pay for every protocol's
libraries.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, TypeVar

from bench.clients.base import Client, ClientError, timeout_for

if TYPE_CHECKING:
    from collections.abc import Mapping

    from bench.targets.manifest import Deployment

__all__ = [
    "CLIENTS",
    "SCENARIO_PROTOCOLS",
    "Client",
    "ClientError",
    "client",
    "clients_for",
    "find",
    "main_client",
    "missing_note",
    "scenarios_of",
    "timeout_for",
]

SCENARIO_PROTOCOLS = {
    "api_single": "rest",
    "api_batch": "rest",
    "form": "form",
    "ui_session": "streamlit",
}
# protocol -> (module, class) of its client.
CLIENTS = {
    "rest": ("bench.clients.rest", "RestClient"),
    "form": ("bench.clients.form", "FormClient"),
    "streamlit": ("bench.clients.streamlit", "StreamlitClient"),
}
_made: dict[str, Client] = {}

T = TypeVar("T")


def client(protocol: str) -> Client:
    """The client of `protocol` (one per process: clients keep no per-server state)."""
    if protocol not in _made:
        module, name = CLIENTS[protocol]
        _made[protocol] = getattr(importlib.import_module(module), name)()
    return _made[protocol]


def clients_for(deployment: Deployment) -> dict[str, Client]:
    """protocol -> client, for every protocol the deployment's scenarios speak, in the order
    its manifest lists them."""
    found: dict[str, Client] = {}
    for scenario in deployment.scenarios:
        if scenario not in SCENARIO_PROTOCOLS:
            raise ValueError(
                f"{deployment.name}: scenario {scenario!r} names no protocol in "
                "bench.clients.SCENARIO_PROTOCOLS"
            )
        protocol = SCENARIO_PROTOCOLS[scenario]
        found.setdefault(protocol, client(protocol))
    return found


def main_client(deployment: Deployment) -> Client:
    """The client of the deployment's first-listed scenario.

    A manifest lists first how its users mainly reach it (Flask: the API, Streamlit: its
    session), so that is what a cold start waits for and what the foreign-Host and
    tampered-model probes use; a rule read from the manifest, not a ranking of protocols kept
    here."""
    if not deployment.scenarios:
        raise ValueError(f"{deployment.name} lists no scenario, so it has no client")
    return client(SCENARIO_PROTOCOLS[deployment.scenarios[0]])


def find(clients: Mapping[str, Client], kind: type[T]) -> T | None:
    """The client of that class among `clients`, or None: for the checks that only one
    protocol has (a form's CSRF token, an API's error bodies)."""
    return next((c for c in clients.values() if isinstance(c, kind)), None)


def scenarios_of(protocols: set[str]) -> list[str]:
    """The scenarios that speak any of `protocols`, in SCENARIO_PROTOCOLS's order."""
    return [s for s, p in SCENARIO_PROTOCOLS.items() if p in protocols]


def missing_note(protocols: set[str]) -> str:
    """Why a probe of those protocols was not run: "no 'form' scenario"."""
    return "no " + " or ".join(repr(s) for s in scenarios_of(protocols)) + " scenario"
