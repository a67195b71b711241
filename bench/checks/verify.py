"""Conformance checks run over the network against a running deployment before it is measured.

Each check gives (deployment, check, status, reason, http_status). A deployment that fails any
check is not measured. The hostile-input checks are named "hostile: <case>" so that a report can
tabulate them; each records the HTTP status it got, and a 5xx always fails as a server error.

The checks of each protocol its scenarios speak (bench.clients.clients_for) are in
verify_<topic>.py: verify_api.py (REST), verify_form.py, verify_streamlit.py; the primitives
they share in verify_common.py.
"""

from __future__ import annotations

from collections.abc import Callable

import requests

from bench.checks import verify_api, verify_form, verify_streamlit
from bench.checks.bad_inputs import FOREIGN_HOST_REQUESTS
from bench.checks.verify_common import (
    FAIL,
    HOSTILE,
    PASS,
    Answered,
    Check,
    CheckFailed,
    CheckResult,
    NamedChecks,
    check_plain_health,
    foreign_host_checks,
)
from bench.clients import clients_for
from bench.targets.servers import RunningDeployment
from shared_model.model import LoadedModel

__all__ = ["FAIL", "HOSTILE", "PASS", "PROTOCOL_CHECKS", "CheckResult", "checks_for", "verify"]

# protocol (bench.clients.CLIENTS) -> the checks of a deployment that speaks it.
PROTOCOL_CHECKS: dict[str, Callable[[], NamedChecks]] = {
    topic.PROTOCOL: topic.checks for topic in (verify_api, verify_form, verify_streamlit)
}


def verify(running: RunningDeployment, model: LoadedModel) -> list[CheckResult]:
    """Run every check that applies to the deployment's scenarios."""
    return [
        _run(running.deployment.name, name, check, running, model)
        for name, check in checks_for(running)
    ]


def checks_for(running: RunningDeployment) -> NamedChecks:
    if running.deployment.role == "calibration":
        # A null target answers constants: it must answer, not predict or refuse anything but
        # a foreign Host, as every deployment refuses it.
        yield "health", check_plain_health
        yield "answers POST /api/predict with JSON", verify_api.check_answers_json
        yield from foreign_host_checks(FOREIGN_HOST_REQUESTS)
        return
    for protocol in clients_for(running.deployment):
        yield from PROTOCOL_CHECKS[protocol]()


def _run(
    deployment: str, name: str, check: Check, running: RunningDeployment, model: LoadedModel
) -> CheckResult:
    try:
        answer = check(running, model)
    except CheckFailed as exc:
        return CheckResult(deployment, name, FAIL, str(exc), exc.http_status)
    except Exception as exc:  # a check that breaks is a failed check, not a crashed verify
        return CheckResult(deployment, name, FAIL, f"{type(exc).__name__}: {exc}")
    if isinstance(answer, requests.Response):  # a one-request check: keep what it answered
        return CheckResult(deployment, name, PASS, _summary(answer), answer.status_code)
    if isinstance(answer, Answered):
        return CheckResult(deployment, name, PASS, answer.reason, answer.http_status)
    return CheckResult(deployment, name, PASS, answer if isinstance(answer, str) else "")


def _summary(response: requests.Response) -> str:
    try:
        code = response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return f"answered {response.status_code}"
    return f"answered {response.status_code} {code}"
