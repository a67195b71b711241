"""--server-cores and --loadgen-cores on this machine: a short real run of the null target with
the split the other way round from the default, read back from the processes themselves (the
server's and Locust's affinity as they started) and from run.json."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os

import pytest

import bench.load.locust
import bench.run.runner
from bench.run.runner import run_benchmark
from bench.targets.cores import add_arguments, available_cores, from_args
from bench.targets.manifest import discover, select
from tests.live import STARTUP_TIMEOUT_S, free_port
from tests.plans import TINY

pytestmark = pytest.mark.live


def affinities_of(monkeypatch, module, name: str, pid_of) -> list[set[int]]:
    """Wrap module.name so that each process it starts has its affinity read as it returns
    (Popen returns after exec, when the preexec pinning has taken effect)."""
    found: list[set[int]] = []
    original = getattr(module, name)

    def recording(*args, **kwargs):
        started = original(*args, **kwargs)
        found.append(os.sched_getaffinity(pid_of(started)))
        return started

    monkeypatch.setattr(module, name, recording)
    return found


def test_a_run_pins_the_server_and_locust_to_the_cores_given(
    tmp_path, monkeypatch, private_bench_lock
):
    cores = available_cores()
    if len(cores) < 2:
        pytest.skip("one core: the server and the load generator share it, nothing to choose")
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    # The reverse of the default halves: the server on the last core, Locust on the first.
    split = from_args(
        parser.parse_args(["--server-cores", str(cores[-1]), "--loadgen-cores", str(cores[0])])
    )
    servers = affinities_of(monkeypatch, bench.run.runner, "start", lambda r: r.pid)
    locusts = affinities_of(monkeypatch, bench.load.locust, "_spawn", lambda p: p.pid)
    [null] = select(discover(), ["null"])
    null = dataclasses.replace(null, port=free_port(), startup_timeout_s=STARTUP_TIMEOUT_S)
    plan = dataclasses.replace(TINY, crosscheck=None)
    before = os.sched_getaffinity(0)
    run_dir, status = run_benchmark(plan, [null], tmp_path, wait_for_lock=True, cores=split)
    assert os.sched_getaffinity(0) == before  # the runner gives its caller its cores back
    assert status == "complete"
    assert servers and all(found == {cores[-1]} for found in servers)
    assert locusts and all(found == {cores[0]} for found in locusts)
    info = json.loads((run_dir / "run.json").read_text())
    assert info["pinning"]["server_cores"] == [cores[-1]]
    assert info["pinning"]["loadgen_cores"] == [cores[0]]
    assert "as given" in info["pinning"]["chosen"]
    # One load-generator core: "auto" keeps one Locust process.
    assert info["load"]["locust_workers"] == 0
    assert info["load"]["locust_workers_requested"] == "auto"
