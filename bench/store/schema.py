"""The results store: the one schema the runner writes and the report reads.

A run lives in bench/results/<run-id>/:

  results.csv       the tidy table, one row per run, deployment, config, scenario, users,
                    repetition, metric and model variant (COLUMNS below); written atomically,
                    rewritten after every finished level so an interrupted run keeps what
                    finished
  run.json          machine, versions, git commit, model, plan, pinning, bind (the servers'
                    listening address: {address, loopback, allowed_hosts}), status, and per
                    deployment: display name, role, framework version, configs, scenarios,
                    verification outcome, scenarios not applicable (RunInfo below)
  verify.csv        deployment, config, check, status, reason, http_status (the checks of
                    bench/checks/verify.py; "hostile: <case>" rows are the hostile-input suite)
  inspections.json  what was inspected rather than load-tested (installed packages, probes of
                    the running servers): see bench/checks/inspections.py and bench/checks/probes.py
  crosscheck.csv    wrk's figures beside Locust's, with their ratios (python -m bench
                    crosscheck; schema in bench/run/crosscheck.py), and crosscheck.json, its
                    settings and every wrk window; written only by that command
  raw/              each recorded window's per-request log (Locust's request events)
  logs/             each deployment's and each Locust process's output

bench/results/latest is a symlink to the newest run that finished (complete or partial): an
interrupted run never moves it. A run id (its folder's name, run.json's run_id) matches RUN_ID.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 2  # 2: the model column
COLUMNS = (
    "run_id",
    "deployment",
    "config",
    "scenario",
    "users",
    "repetition",
    "metric",
    "value",
    "unit",
    "model",
)
# Rows of runs stored before the model column existed were all measured with this model.
LEGACY_MODEL = "iris-logreg"
# A run id names a folder, here and under reports/output/: one path component, never hidden,
# never a parent (an absolute or ../ run_id in run.json would write outside those folders).
RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")

# Metrics of one recorded load window (scenario = api_single | api_batch | form | ui_session).
# Latency is per interaction: one API call, one form submission, one Streamlit rerun.
LEVEL_METRICS = {
    "interactions": "count",
    "failures": "count",  # failed requests of any kind, set-up ones ("connect") included
    "throughput": "1/s",
    "latency_p50": "ms",
    "latency_p90": "ms",
    "latency_p99": "ms",
    "latency_p999": "ms",
    "latency_max": "ms",
    "latency_mean": "ms",
    "server_cpu": "%",  # mean over the window; 100 % = one core busy
    "server_rss_mean": "MiB",  # the server's whole process tree
    "server_rss_max": "MiB",
    "server_threads": "count",
    "server_processes": "count",
    "loadgen_cpu": "%",  # mean over the window, Locust's process (100 % = one core)
    "loadgen_bound": "bool",  # 1 when Locust's CPU was >= 90 % of what one process can use
    "window": "s",
}
# Per deployment and config, not per load level: scenario names of their own, users = 0.
COLD_START = "cold_start"  # metric cold_start_s, one row per sample (repetition = sample)
CODE_SIZE = "code_size"  # metrics sloc, files, config_lines, template_lines (repetition 0)
# The in-process floor (bench/measure/floor.py): shared_model's work for one request, timed in a process
# pinned to the server's cores. deployment FLOOR, config "predict" or "validate_and_predict",
# scenario = the one whose request it matches (api_single: one row, api_batch: a batch), users 0,
# metrics latency_p10/p50/p90/mean in ms, one set per repetition and model.
FLOOR = "in_process"
FLOOR_METRICS = ("latency_p10", "latency_p50", "latency_p90", "latency_mean")
# The open-loop SLO search (bench/measure/slo.py): scenario OPEN_LOOP + the closed-loop scenario it
# matches, one repetition per trial in the order they ran, users 0, metrics offered_rate (1/s),
# latency_p99 (ms, from the schedule), interactions, failures, late_sends, met_slo; and
# scenario SLO + scenario, repetition 0: slo_max_rate (1/s, NaN when none), slo_p99_bound (ms),
# slo_confirmed, slo_trials.
OPEN_LOOP = "open_loop:"
SLO = "slo:"
SLO_METRICS = {
    "offered_rate": "1/s",
    "late_sends": "count",
    "met_slo": "bool",
    "slo_max_rate": "1/s",
    "slo_p99_bound": "ms",
    "slo_confirmed": "bool",
    "slo_trials": "count",
}
PER_DEPLOYMENT_METRICS = {
    "cold_start_s": "s",
    "sloc": "lines",
    "files": "count",
    "config_lines": "lines",
    "template_lines": "lines",
}


@dataclass(frozen=True)
class Row:
    run_id: str
    deployment: str
    config: str
    scenario: str
    users: int
    repetition: int
    metric: str
    value: float
    unit: str
    model: str = LEGACY_MODEL  # the shared model variant the deployment served


class RunIdError(ValueError):
    """A run id that is not one safe folder name."""


def check_run_id(run_id: object) -> str:
    """Return `run_id` if it matches RUN_ID and holds no "..", else raise RunIdError."""
    text = str(run_id)
    # "latest" is the link to the newest run, in bench/results/ and in reports/output/.
    if (
        not isinstance(run_id, str)
        or not RUN_ID.fullmatch(text)
        or ".." in text
        or text == "latest"
    ):
        raise RunIdError(
            f"run id {text!r} is not a folder name: it must match {RUN_ID.pattern}, without "
            "'..', and not be 'latest'"
        )
    return text


def new_run_dir(results_dir: Path, label: str) -> Path:
    """A new folder <UTC stamp>-<label> (-1, -2, ... if taken), for a run or a soak."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    check_run_id(f"{stamp}-{label}")  # a profile or deployment name makes part of it
    for n in range(100):
        run_dir = results_dir / (f"{stamp}-{label}" + (f"-{n}" if n else ""))
        with contextlib.suppress(FileExistsError):
            run_dir.mkdir(parents=True)
            return run_dir
    raise RuntimeError(f"cannot create a folder in {results_dir}")


def atomic_write_text(path: Path, text: str) -> None:
    """Write a file so that a reader never sees half of it, even if the writer (or the machine)
    stops: a temp file of a unique name in the same folder, synced, then renamed over it."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as handle:
            # mkstemp makes it 0600; the file it replaces was made under the umask, so is this.
            os.fchmod(handle.fileno(), 0o666 & ~_umask())
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_folder(path.parent)


def _umask() -> int:
    # Read, not set and restored: os.umask() changes it for every thread meanwhile.
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    return 0o022


def _fsync_folder(folder: Path) -> None:
    """Make a rename in `folder` durable; skipped where a folder cannot be opened or synced."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems refuse fsync on a folder; the rename is still atomic
    finally:
        os.close(fd)


def write_rows(path: Path, rows: Iterable[Row]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow(asdict(row).values())
    atomic_write_text(path, buffer.getvalue())


def read_rows(path: Path) -> list[Row]:
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        columns = tuple(reader.fieldnames or ())
        if columns not in (COLUMNS, COLUMNS[:-1]):
            raise ValueError(f"{path}: columns {reader.fieldnames} are not {list(COLUMNS)}")
        return [
            Row(
                **{
                    "model": LEGACY_MODEL,
                    **r,
                    "users": int(r["users"]),
                    "repetition": int(r["repetition"]),
                    "value": float(r["value"]),
                }
            )
            for r in reader
        ]


def write_json(path: Path, data: Mapping[str, Any]) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")


def point_latest(results_dir: Path, run_dir: Path) -> None:
    """Point results_dir/latest at run_dir, a folder inside it, in one rename."""
    if run_dir.parent.resolve() != results_dir.resolve():
        raise RunIdError(f"{run_dir} is not a folder of {results_dir}")
    target = check_run_id(run_dir.name)
    # A symlink cannot be made by mkstemp: make it in a private temp folder, then rename it.
    scratch = Path(tempfile.mkdtemp(dir=results_dir, prefix=".latest.", suffix=".tmp"))
    try:
        (scratch / "latest").symlink_to(target)
        os.replace(scratch / "latest", results_dir / "latest")
    finally:
        with contextlib.suppress(OSError):
            (scratch / "latest").unlink()
        scratch.rmdir()
    _fsync_folder(results_dir)
