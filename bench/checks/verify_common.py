"""What the conformance checks of every protocol share (bench/checks/verify.py runs them).

A check is called as check(running, model) and passes unless it raises; it may return what the
server answered (a requests.Response, an Answered, or a note) for the results table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import requests

from bench.checks.bad_inputs import ForeignHostRequest
from bench.checks.foreign_host import http_refusal, websocket_refusal
from bench.targets.servers import RunningDeployment
from shared_model.model import LoadedModel

PASS, FAIL = "pass", "fail"
TIMEOUT_S = 10
HOSTILE = "hostile: "

Check = Callable[[RunningDeployment, LoadedModel], object]
NamedChecks = Iterator[tuple[str, Check]]


@dataclass(frozen=True)
class CheckResult:
    deployment: str
    check: str
    status: str
    reason: str = ""
    http_status: int | None = None  # what the server answered, for checks of one request

    @property
    def passed(self) -> bool:
        return self.status == PASS


@dataclass(frozen=True)
class Answered:
    """What a one-request check got, where it keeps no requests.Response (a websocket)."""

    reason: str
    http_status: int | None


class CheckFailed(AssertionError):
    def __init__(self, reason: str, http_status: int | None = None) -> None:
        super().__init__(reason)
        self.http_status = http_status


def require(condition: bool, reason: str, http_status: int | None = None) -> None:
    if not condition:
        raise CheckFailed(reason, http_status)


def check_plain_health(running: RunningDeployment, model: LoadedModel) -> None:
    url = running.base_url + running.deployment.health_path
    response = requests.get(url, timeout=TIMEOUT_S)
    require(response.status_code == 200, f"GET {url} answered {response.status_code}")


def foreign_host_checks(cases: Iterable[ForeignHostRequest]) -> NamedChecks:
    for case in cases:
        yield HOSTILE + case.name, _foreign_host_check(case)


def _foreign_host_check(case: ForeignHostRequest) -> Check:
    """A request naming FOREIGN_HOST must be refused (a 4xx) before anything is served."""

    def check(running: RunningDeployment, model: LoadedModel) -> Answered:
        found = (
            websocket_refusal(running.base_url, running.port, TIMEOUT_S)
            if case.websocket
            else http_refusal(running.base_url, running.port, case, TIMEOUT_S)
        )
        require(bool(found.refused), found.reason, found.http_status)
        return Answered(found.reason, found.http_status)

    return check
