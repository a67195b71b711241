"""Cold starts: spawn to the first correct prediction a real client gets, sampled interleaved.

Sample 1 is the first start, at verification. Samples 2 and up are the starts of each
deployment's main pass (default configuration, main model) in repetitions 1, 2, ...: a fresh
process spawned under the same pinning, after the previous server stopped, as a separate
cold-start sample would be, so those starts are measured rather than made again. Only samples
beyond the repetitions (a plan with more cold starts than repetitions + 1) get starts of their
own, after the load, interleaved.
"""

from __future__ import annotations

import contextlib
import time

import requests

from bench.cli.console import raise_if_interrupted, say
from bench.clients import ClientError, main_client, timeout_for
from bench.clients.answers import same_predictions
from bench.clients.payloads import canonical_instances
from bench.run.context import Run, log_path, rotated
from bench.run.passes import CALIBRATION
from bench.store.table import COLD_START
from bench.targets.manifest import Deployment
from bench.targets.servers import (
    DeploymentError,
    RunningDeployment,
    start,
    stop,
)
from shared_model.model import LoadedModel, predict

# One attempt's timeout; a protocol may need longer (bench.clients.timeout_for).
ATTEMPT_TIMEOUT_S = 5


def pass_start_sample(run: Run, d: Deployment, config: str, model: str, rep: int) -> int | None:
    """The cold-start sample a pass's first server start gives, or None: the main pass
    (default configuration, main model) of repetition `rep` gives sample rep + 1, while the
    plan asks for that many."""
    if d.role == CALIBRATION or run.target or config != "default" or model != run.model_name:
        return None
    sample = rep + 1
    return sample if sample <= run.plan.cold_starts_of(d) else None


def first_own_sample(run: Run) -> int:
    """The first sample the pass starts do not give (the starts of repetitions 1 to R give
    samples 2 to R + 1)."""
    return run.plan.repetitions + 2


def measure_cold_starts(run: Run, deployments: list[Deployment]) -> None:
    """The samples the verification start and the main passes' starts did not give, with a
    start of their own each, interleaved."""
    deployments = [
        d
        for d in deployments
        if d.role != CALIBRATION and not run.target and run.plan.cold_starts_of(d) > 1
    ]
    for sample in range(first_own_sample(run), run.plan.cold_starts + 1):
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
    """Seconds from spawn until the deployment gives a correct prediction to a real client
    (bench.clients.main_client: the protocol its users mainly reach it by)."""
    row = canonical_instances(model)[0]
    expected = predict(model, [row])
    client = main_client(running.deployment)
    timeout_s = timeout_for(client, ATTEMPT_TIMEOUT_S)
    deadline = running.started_at + running.deployment.startup_timeout_s
    while time.monotonic() < deadline:
        if running.process.poll() is not None:
            raise DeploymentError(
                f"{running.deployment.name} exited during start-up: {running.log_tail(3)}"
            )
        # Not up yet, or up but not predicting yet: both are "try again".
        with contextlib.suppress(
            OSError, requests.RequestException, ClientError, ValueError, KeyError
        ):
            got = client.predict_once(running.base_url, [row], timeout_s)
            if same_predictions(got, expected, tolerance=0.0):
                return time.monotonic() - running.started_at
        time.sleep(0.02)
    timeout = running.deployment.startup_timeout_s
    raise DeploymentError(
        f"{running.deployment.name} gave no correct prediction within {timeout:.0f} s"
    )
