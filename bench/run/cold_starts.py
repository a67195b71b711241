"""Cold starts: spawn to the first correct prediction a real client gets, sampled interleaved."""

from __future__ import annotations

import contextlib
import time

import requests

from bench.cli.console import raise_if_interrupted, say
from bench.clients.answers import same_predictions
from bench.clients.payloads import canonical_instances
from bench.clients.streamlit import StreamlitProtocolError, StreamlitSession
from bench.run.context import Run, log_path, rotated
from bench.run.passes import CALIBRATION
from bench.store.schema import (
    COLD_START,
)
from bench.targets.manifest import Deployment
from bench.targets.servers import (
    DeploymentError,
    RunningDeployment,
    start,
    stop,
)
from shared_model.model import LoadedModel, predict


def measure_cold_starts(run: Run, deployments: list[Deployment]) -> None:
    """Samples 2 and up (the first start, at verification, was sample 1), interleaved."""
    deployments = [
        d
        for d in deployments
        if d.role != CALIBRATION and not run.target and run.plan.cold_starts_of(d) > 1
    ]
    for sample in range(2, run.plan.cold_starts + 1):
        for d in rotated(deployments, sample - 1):
            raise_if_interrupted()
            say(f"cold start {sample}/{run.plan.cold_starts}: {d.name}")
            running = None
            try:
                logs = log_path(run, d, "default", f"cold-{sample}")
                running = start(d, cores=run.server_cores, log_path=logs)
                seconds = first_correct_prediction(running, run.model)
            except DeploymentError as exc:
                run.fail_level(d, "default", COLD_START, 0, sample, str(exc))
                continue
            finally:
                if running is not None:
                    stop(running)
            say(f"    {seconds:.2f} s")
            run.add(d, "default", COLD_START, 0, sample, {"cold_start_s": seconds})


def first_correct_prediction(running: RunningDeployment, model: LoadedModel) -> float:
    """Seconds from spawn until the deployment gives a correct prediction to a real client."""
    row = canonical_instances(model)[0]
    expected = predict(model, [row])
    attempt = (
        streamlit_prediction if "ui_session" in running.deployment.scenarios else api_prediction
    )
    classes = model.classes
    deadline = running.started_at + running.deployment.startup_timeout_s
    while time.monotonic() < deadline:
        if running.process.poll() is not None:
            raise DeploymentError(
                f"{running.deployment.name} exited during start-up: {running.log_tail(3)}"
            )
        with contextlib.suppress(
            OSError, requests.RequestException, StreamlitProtocolError, ValueError, KeyError
        ):
            if same_predictions(attempt(running, row, classes), expected, tolerance=0.0):
                return time.monotonic() - running.started_at
        time.sleep(0.02)
    timeout = running.deployment.startup_timeout_s
    raise DeploymentError(
        f"{running.deployment.name} gave no correct prediction within {timeout:.0f} s"
    )


def api_prediction(
    running: RunningDeployment, row: dict[str, float], classes: list[str]
) -> list[dict]:
    response = requests.post(
        running.base_url + "/api/predict", json={"instances": [row]}, timeout=5
    )
    return response.json()["predictions"]


def streamlit_prediction(
    running: RunningDeployment, row: dict[str, float], classes: list[str]
) -> list[dict]:
    with StreamlitSession(running.base_url, timeout_s=30) as session:
        session.connect()
        run = session.submit(row, "Predict")
    label = run.prediction_label
    return [{"label": label, "class_id": classes.index(label), "probabilities": run.json_bodies[0]}]
