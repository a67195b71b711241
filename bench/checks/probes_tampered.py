"""The tampered-model probe: a deployment started on a corrupted copy of the model must refuse
it, and say why. Its result's shape is documented in bench/checks/probes.py.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import time
import urllib.request
from pathlib import Path
from typing import Any

from bench.checks.probes_common import TIMEOUT_S
from bench.clients import main_client, timeout_for
from bench.targets.manifest import Deployment
from bench.targets.servers import RunningDeployment, start, stop
from shared_model.model import ARTIFACT_DIR, MODEL_NAME

# Words of load_model()'s message when the checksum does not match (shared_model/model.py);
# single words, because Streamlit's log wraps its tracebacks at word boundaries.
REFUSAL_MARKERS = ("sha256", "refusing")
# A cap only: the wait ends as soon as the process exits or its log shows the refusal.
GUNICORN_TAMPER_TIMEOUT_S = 20
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def probe_tampered_model(deployment: Deployment, tmp_dir: Path) -> dict[str, Any]:
    """Start the deployment on a copy of the model with one byte flipped: it must refuse it.

    Refused means: no prediction is ever served (it never becomes healthy, or, for Streamlit,
    which loads the model in the first session, the page shows an error instead of the form)
    AND its log says why (the sha256 mismatch). gunicorn's master may retry its workers, so
    "not healthy within GUNICORN_TAMPER_TIMEOUT_S" counts as not healthy; the wait also ends as
    soon as the log shows the refusal.
    """
    artifacts = _tampered_copy(tmp_dir / "tampered-artifacts")
    metadata = json.loads((artifacts / f"{MODEL_NAME}.json").read_text())
    log_path = tmp_dir / f"tampered-{deployment.name}.log"
    running = start(deployment, log_path=log_path, extra_env={"SHARED_MODEL_DIR": str(artifacts)})
    try:
        healthy, waited = _wait_healthy_or_refused(running, _tamper_timeout(deployment))
        served, served_note = (
            _serves_predictions(running, metadata)
            if healthy
            else (False, "never answered its health path")
        )
        exit_code = running.process.poll()  # None: still running when the probe stopped it
    finally:
        stop(running)
    why = refusal_message(_log_text(running))
    says_why = bool(why)
    return {
        "tampered_model_refused": not served and says_why,
        "healthy": healthy,
        "exit_code": exit_code,
        "log_excerpt": why[:400],
        "evidence": (
            f"one byte of {MODEL_NAME}.skops flipped; after {waited:.1f} s: {served_note}; "
            + (
                "still running, stopped by the probe"
                if exit_code is None
                else f"it exited by itself with code {exit_code}"
            )
            + "; the log "
            + (f"says: {why[:240]}" if says_why else "does not name the sha256 mismatch")
        ),
    }


def _log_text(running: RunningDeployment) -> str:
    """The deployment's log without colour codes (Streamlit colours its tracebacks)."""
    try:
        return ANSI_ESCAPE.sub("", running.log_path.read_text(errors="replace"))
    except OSError:
        return ""


def refusal_message(log: str) -> str:
    """The model's refusal as the log states it, or "" when it does not.

    That is the message of the last ModelIntegrityError, re-joined when the log wrapped it
    (Streamlit prints tracebacks wrapped and boxed), and only if it names the sha256 and the
    refusal: the source lines a traceback quotes do not count.
    """
    lines = log.splitlines()
    starts = [i for i, line in enumerate(lines) if "ModelIntegrityError:" in line]
    if not starts:
        return ""
    message = []
    for line in lines[starts[-1] : starts[-1] + 8]:
        if not line.strip():
            break
        message.append(line.strip(" │"))
    text = " ".join(" ".join(message).split())
    text = text[text.index("ModelIntegrityError:") :]
    return text if all(marker in text for marker in REFUSAL_MARKERS) else ""


def _tampered_copy(folder: Path) -> Path:
    """A copy of the model artifacts with one byte of every model flipped, so that whichever
    variant the deployment selects (SHARED_MODEL_NAME) is a tampered one."""
    if folder.exists():
        shutil.rmtree(folder)
    shutil.copytree(ARTIFACT_DIR, folder)
    for artifact in folder.glob("*.skops"):
        data = bytearray(artifact.read_bytes())
        data[len(data) // 2] ^= 0xFF
        artifact.write_bytes(data)
    return folder


def _tamper_timeout(deployment: Deployment) -> float:
    return (
        GUNICORN_TAMPER_TIMEOUT_S
        if deployment.server == "gunicorn"
        else deployment.startup_timeout_s
    )


def _wait_healthy_or_refused(running: RunningDeployment, timeout_s: float) -> tuple[bool, float]:
    """(healthy, seconds waited): stop waiting on health, an exit, or a refusal in the log."""
    url = running.base_url + running.deployment.health_path
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        if running.process.poll() is not None:
            break
        if refusal_message(_log_text(running)):
            break
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=1) as response:
            if response.status == 200:
                return True, time.monotonic() - started
        time.sleep(0.1)
    return False, time.monotonic() - started


def _serves_predictions(running: RunningDeployment, metadata: dict) -> tuple[bool, str]:
    """Healthy despite the tampered model: does it actually serve a prediction, to the client
    its users mainly reach it by?"""
    client = main_client(running.deployment)
    row = {f["name"]: f["default"] for f in metadata["features"]}
    return client.serves(running.base_url, row, timeout_for(client, TIMEOUT_S))
