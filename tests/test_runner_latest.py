"""bench/results/latest moves only when a run has finished: the runner's own steps, with the
measuring steps replaced (no server, no Locust)."""

from __future__ import annotations

import json
import os

import pytest

import bench.run.runner
from bench.run import environment
from bench.run.runner import Run, _run, run_info
from bench.store.runs import new_run_dir, point_latest
from bench.targets.manifest import discover, select
from tests.plans import TINY


@pytest.fixture
def results_dir(tmp_path):
    """A results folder whose `latest` points at an earlier finished run."""
    earlier = new_run_dir(tmp_path, "earlier")
    point_latest(tmp_path, earlier)
    return tmp_path


@pytest.fixture
def new_run(results_dir, model) -> Run:
    run = Run(TINY, [], model, new_run_dir(results_dir, "test"), (0,), (0,))
    run.info = run_info(run, environment.machine())
    return run


@pytest.fixture
def steps(monkeypatch):
    """The measuring steps, as no-ops; a test makes one of them fail."""
    for name in ("measure", "measure_cold_starts"):
        monkeypatch.setattr(bench.run.runner, name, lambda run, deployments: None)
    monkeypatch.setattr(bench.run.runner, "verify_and_probe", lambda run: [])
    return monkeypatch


def latest_of(results_dir):
    return os.readlink(results_dir / "latest")


@pytest.mark.parametrize("fault", [KeyboardInterrupt, RuntimeError])
def test_an_interrupted_run_leaves_latest_at_the_last_finished_run(
    results_dir, new_run, steps, fault
):
    before = latest_of(results_dir)

    def stopped(run, deployments):
        raise fault("stopped during a level")

    steps.setattr(bench.run.runner, "measure", stopped)
    with pytest.raises(fault):
        _run(new_run, corrupt_expected=False)
    assert json.loads((new_run.run_dir / "run.json").read_text())["status"] == "interrupted"
    assert latest_of(results_dir) == before != new_run.run_dir.name


def test_latest_does_not_point_at_a_run_while_it_is_running(results_dir, new_run, steps):
    during = []
    steps.setattr(bench.run.runner, "measure", lambda run, _: during.append(latest_of(results_dir)))
    _run(new_run, corrupt_expected=False)
    assert during and during[0] != new_run.run_dir.name


def test_a_finished_run_moves_latest(results_dir, new_run, steps):
    run_dir, status = _run(new_run, corrupt_expected=False)
    assert status == "complete"
    assert (results_dir / "latest").resolve() == run_dir.resolve()
    assert not list(results_dir.glob(".*.tmp"))


def test_a_partial_run_moves_latest_too(results_dir, model, steps):
    """A deployment that failed verification makes the run partial: it finished, and it is
    what `make report` should show."""
    [flask] = select(discover(), ["flask"])
    run = Run(TINY, [flask], model, new_run_dir(results_dir, "test"), (0,), (0,))
    run.info = run_info(run, environment.machine())
    run_dir, status = _run(run, corrupt_expected=False)
    assert status == "partial"
    assert (results_dir / "latest").resolve() == run_dir.resolve()
