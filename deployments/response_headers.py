"""The security headers every deployment's equal-work configuration sends, and the switch that
picks a Flask deployment's way of answering. Standard library only, so that every deployment
(on either stack) can import it without importing another.

The set is what the bare WSGI and FastAPI references send by default: fixed values, no
per-request nonce, so a framework that computes headers per request (Flask-Talisman's CSP
nonce) does not pay for work the others skip.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

SECURITY_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "same-origin"),
)

# How a deployment with more than one way of answering serves this start (a manifest
# configuration sets it): as this project deploys it (unset), with the equal-work headers
# above, or as the framework's own tutorial or project template gives it.
WORK_ENV = "RESPONSE_WORK"
AS_DEPLOYED = ""
EQUAL_WORK = "equal_work"
PROJECT_DEFAULTS = "project_defaults"
WORK_MODES = (AS_DEPLOYED, EQUAL_WORK, PROJECT_DEFAULTS)


def work_mode(environ: Mapping[str, str] = os.environ) -> str:
    """This start's way of answering; an unknown one stops the server from starting."""
    mode = environ.get(WORK_ENV, AS_DEPLOYED)
    if mode not in WORK_MODES:
        raise RuntimeError(f"{WORK_ENV}={mode!r} is none of {', '.join(map(repr, WORK_MODES))}")
    return mode
