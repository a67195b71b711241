"""inspections.json: what was inspected rather than load-tested. The installed framework
packages (bench/checks/inspections/), the live probes of each running deployment and config
(bench/checks/probes.py documents their shapes; the tampered-model verdict copied into every
config's "security"), and the article snippets (bench/checks/snippets.py).

Written by bench/run/checking.py from build_inspections(). Probe evidence and the package
inspections' component maps are open-ended (one key per thing looked for): typed as maps.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bench.store.records import Record, StoredFile

INSPECTIONS_VERSION = 1


class PackageInspection(Record):
    """One deployment's framework, as found in its installed distribution."""

    framework: str
    version: str | None
    license: str | None
    license_source: str | None
    components: dict[str, Any]  # component -> bool ("database_backends": a list of names)
    component_evidence: dict[str, str]
    scaffold: dict[str, Any]
    server_stack: dict[str, Any]
    # Absent in run-quick and run-quick-stacks (stored before they were inspected).
    distribution: str | None = None
    requires: list[str] | None = None
    extras: dict[str, dict[str, Any]] | None = None
    dependents_installed: list[str] | None = None
    provenance: dict[str, Any] | None = None  # bench/checks/provenance.py; absent in run-quick-all
    checks: dict[str, dict[str, Any]] | None = None  # bench/checks/deployment_checks.py


class ConcurrencyProbe(Record):
    clients: int
    request_seconds: float
    wall_seconds: float | None  # None when a request was not answered 200
    overlapped: bool | None
    evidence: str
    # Absent in run-quick and run-quick-stacks (stored before these were recorded).
    all_at_once: bool | None = None
    max_in_flight: int | None = None
    accepted_seconds: list[float | None] | None = None
    completion_seconds: list[float | None] | None = None
    statuses: list[int | None] | None = None
    server_processes: int | None = None
    settle_seconds: float | None = None


class HeaderState(Record):
    present: bool
    value: str | None


class SecurityHeaders(Record):
    url: str
    status: int | None
    headers: dict[str, HeaderState]
    required_missing: list[str]


class SecurityProbe(Record):
    csrf_refused: bool | None  # None: no "form" scenario
    csrf_status: int | None
    reflected_input_escaped: bool | None
    headers: dict[str, str | None]
    server_header: str | None
    debug_page_shown: bool
    loopback_only: bool
    tampered_model_refused: bool | None  # None: no tampered-model probe of the deployment
    evidence: dict[str, str | None]  # probe -> what it saw (a tampered probe's may be null)
    # Absent in run-quick and run-quick-stacks (stored before these probes).
    security_headers: SecurityHeaders | None = None
    listening: list[str] | None = None
    cross_origin_websocket_refused: bool | None = None  # None: no "ui_session"
    # Absent in every fixture run (stored before the foreign-Host probe).
    foreign_host_refused: bool | None = None
    foreign_host_status: int | None = None


class AnswerProbe(Record):
    """bench/checks/probes_answer.py: what one POST /api/predict answer carries."""

    status: int
    headers: dict[str, str]
    content_length: bool
    chunked: bool
    kept_alive: bool
    body_bytes: int
    body_sha256: str
    evidence: str


class ConfigProbes(Record):
    security: SecurityProbe
    # Absent for Streamlit in run-quick and run-quick-stacks (stored before it was probed).
    concurrency: ConcurrencyProbe | None = None
    # Deployments with the JSON API; absent in runs stored before it was probed.
    answer: AnswerProbe | None = None


class Snippet(Record):
    compiles: bool
    error: str | None
    lines: int | None = None


class TimedSide(Record):
    """One side of a browser timing: its users' Predict interactions, in seconds."""

    count: int
    wall_s: float
    interactions_per_s: float
    median_s: float
    mean_s: float
    max_s: float
    latencies_s: list[float]


class BrowserTiming(Record):
    """bench/checks/browser_timing.py: real browsers, then the protocol client, at once."""

    base_url: str
    sessions: int
    interactions: int
    browser: TimedSide
    client: TimedSide


class Inspections(Record):
    schema_version: int
    packages: dict[str, PackageInspection]  # deployment -> its framework's inspection
    probes: dict[str, dict[str, ConfigProbes]]  # deployment -> config -> probes
    snippets: dict[str, Snippet] | None = None  # absent in run-quick-all
    # deployment -> one timing per number of sessions; absent where the plan timed none.
    browser_timing: dict[str, list[BrowserTiming]] | None = None


INSPECTIONS = StoredFile(Inspections, INSPECTIONS_VERSION, frozenset({1}))


def load_inspections(path: Path) -> Inspections:
    """inspections.json at `path`, validated; StoreError names the file and the field at fault."""
    return INSPECTIONS.load(path)


def write_inspections(path: Path, data: Mapping[str, Any] | Inspections) -> Inspections:
    """Validate `data` (build_inspections()'s document) and write it atomically at `path`."""
    return INSPECTIONS.write(path, data)
