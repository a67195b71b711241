"""run.json: what a run says of itself (machine, versions, git commit, model, plan, pinning,
bind, status, validity) and per deployment: display name, role, framework version, configs,
scenarios, verification outcome, the scenarios not applicable.

Written by bench/run/run_info.py (run_info, deployment_entry) when the run starts, then by
Run.save_info (bench/run/context.py) after each change: status and validity from the runner,
levels_failed, slo_seeds and slo_stops from the passes. The committed fixture runs
(tests/fixtures/run-quick*) are older runs: a field some of them lack is optional, and says which.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from bench.store.records import Record, StoredFile

# 1: before results.csv had its model column; 2: today. run.json's version has followed
# results.csv's (bench/store/table.py SCHEMA_VERSION) since both were written.
RUN_INFO_VERSION = 2
RUN_STATUSES = ("running", "complete", "partial", "interrupted")
VERDICTS = ("VALID", "INVALID")


class Machine(Record):
    cpu_model: str
    cores: int | None  # os.cpu_count(), None where it cannot tell
    memory_gib: float
    os: str
    kernel: str
    # Absent in run-quick and run-quick-stacks (stored before they were recorded).
    cores_available: int | None = None
    hostname: str | None = None
    bytecode_precompiled: bool | None = None  # absent in every fixture run


class ModelInfo(Record):
    name: str
    version: str
    sha256: str
    test_accuracy: float
    estimator: str
    dataset: str


class Pinning(Record):
    server_cores: list[int]
    loadgen_cores: list[int]
    method: str | None = None  # absent in run-quick and run-quick-stacks
    # How the cores were chosen (bench/targets/cores.py): absent in runs stored before
    # --server-cores and --loadgen-cores.
    chosen: str | None = None


class GitState(Record):
    commit: str
    dirty: bool


class LoadInfo(Record):
    generator: str
    locust_processes: str
    users: str
    spawn: str
    # Local Locust workers (0: one process), what --locust-workers asked for ("auto" or a
    # count) and the rule "auto" follows: absent in runs stored before --locust-workers auto.
    locust_workers: int | None = None
    locust_workers_requested: str | None = None
    locust_workers_rule: str | None = None


class StackException(Record):
    package: str
    version: str
    reason: str


class StackRecord(Record):
    """bench/targets/stacks.py Stack.as_record(); a stack other than today's adds its packages."""

    name: str
    label: str
    released_by: str
    python: str
    lock: str
    exceptions: list[StackException]
    packages: dict[str, str] | None = None


class Validity(Record):
    """bench/store/rules.py run_validity()."""

    verdict: Literal["VALID", "INVALID"]
    reasons: list[str]
    rules: dict[str, Any]
    recomputed: bool | None = None  # set by the report for a run stored without a verdict
    # Levels where wrk disagreed with Locust: they decide no throughput claim (absent in runs
    # stored before the rule).
    harness_limited: list[str] | None = None


class Bind(Record):
    """bench/targets/bind.py Bind.record(): where the servers listened."""

    address: str
    loopback: bool
    allowed_hosts: list[str]


class VerifyFailure(Record):
    check: str
    reason: str


class FailedLevel(Record):
    """Run.fail_level(): a load level that could not be measured."""

    config: str
    scenario: str
    users: int
    repetition: int
    reason: str
    model: str | None = None  # absent in runs stored before model variants


class SloSeed(Record):
    closed_loop_peak: float | None
    start_rate: float


class DeploymentEntry(Record):
    """bench/run/run_info.py deployment_entry(), then what verification and the passes add."""

    display_name: str
    role: str
    framework: str
    framework_version: str
    server: str
    server_version: str
    scenarios: list[str]
    not_applicable: list[str]
    not_planned: list[str] | None = None  # offered, left out by the plan (absent in older runs)
    configs: dict[str, str]  # config -> its description
    verified: bool
    verify_failures: list[VerifyFailure]
    levels_failed: list[FailedLevel]
    # Absent in run-quick and run-quick-all (stored before stacks).
    stack: str | None = None
    base: str | None = None
    # Absent in some deployments of every fixture run; host_check in all of them.
    extensions: dict[str, str] | None = None
    host_check: str | None = None
    notes: str | None = None
    # Absent in run-quick and run-quick-stacks (stored before diagnostics and scaling passes).
    diagnostic_configs: list[str] | None = None
    scaling_configs: list[str] | None = None
    # Absent in runs stored before the work configurations (manifest `work = true`).
    work_configs: list[str] | None = None
    # Whether its default configuration kept the connection alive after an answer, as the
    # answer probe saw it (bench/checks/probes_answer.py); absent where it was not probed.
    keeps_connections: bool | None = None
    workers_env: str | None = None
    # The worker count of its default configuration, whose figures stand for that count where
    # the scaling passes skip it (absent in runs stored before: they measured it twice).
    default_workers: int | None = None
    model_variants: list[str] | None = None
    # Only where an SLO search ran: "<config>/<scenario>" -> its seed, and why it stopped.
    slo_seeds: dict[str, SloSeed] | None = None
    slo_stops: dict[str, str] | None = None
    # "<config>/<scenario>" -> seconds the server took to go idle after each trial that missed.
    slo_drains: dict[str, list[float]] | None = None


class RunInfo(Record):
    schema_version: int
    run_id: str
    status: Literal["running", "complete", "partial", "interrupted"]
    started_at: str
    profile: str
    plan: dict[str, Any]  # bench/run/plan.py Plan.as_dict(): its keys grow with the plan
    machine: Machine
    python: str
    packages: dict[str, str]  # installed distribution -> version
    git: GitState
    model: ModelInfo
    pinning: Pinning
    deployments: dict[str, DeploymentEntry]
    notes: list[str]
    # Set when the run ends (absent while it runs, and in a run that was killed).
    finished_at: str | None = None
    wall_s: float | None = None
    # Absent in run-quick and run-quick-stacks (stored before verdicts and the load record).
    validity: Validity | None = None
    load: LoadInfo | None = None
    stacks: dict[str, StackRecord] | None = None  # absent in run-quick and run-quick-all
    bind: Bind | None = None  # absent in every fixture run (stored before bind)
    target: str | None = None  # a deployment measured elsewhere (--target URL)
    # Peers the Locust master refused, as the load reported them, with the level they reached.
    refused_peers: list[dict[str, Any]] | None = None
    # Seconds spent in each phase of the run (bench/run/context.py PHASES); absent in runs
    # stored before the measurement engine.
    phases_s: dict[str, float] | None = None


RUN_INFO = StoredFile(RunInfo, RUN_INFO_VERSION, frozenset({1, 2}))


def load_run_info(path: Path) -> RunInfo:
    """run.json at `path`, validated; StoreError names the file and the field at fault."""
    return RUN_INFO.load(path)


def write_run_info(path: Path, info: Mapping[str, Any] | RunInfo) -> RunInfo:
    """Validate `info` as today's run.json and write it atomically at `path`."""
    return RUN_INFO.write(path, info)
