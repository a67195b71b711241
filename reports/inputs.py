"""Read one stored run (bench/results/<run-id>/) into what the report works from.

Only bench/results.py is imported from bench: it is the schema the runner writes. Every other
file of a run is read defensively, because a partial or interrupted run may lack some of them
and the report must still say what it has.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench.results import CODE_SIZE, COLD_START, COLUMNS, read_rows

LOAD_SCENARIOS = ("api_single", "api_batch", "form", "ui_session")
VERIFY_COLUMNS = ("deployment", "config", "check", "status", "reason")
SUBJECT = "subject"


class RunError(RuntimeError):
    """The folder is not a stored run the report can read."""


@dataclass(frozen=True)
class StoredRun:
    """A stored run: the tidy results table, run.json, verify.csv and inspections.json."""

    path: Path
    results: pd.DataFrame  # every row of results.csv, COLUMNS as in bench/results.py
    info: dict[str, Any]  # run.json
    verify: pd.DataFrame  # verify.csv (empty when the run has none)
    inspections: dict[str, Any]  # inspections.json ({} when not inspected)
    problems: list[str] = field(default_factory=list)  # files missing or unreadable

    @property
    def run_id(self) -> str:
        return str(self.info.get("run_id") or self.path.name)

    @property
    def deployments(self) -> dict[str, dict[str, Any]]:
        return self.info.get("deployments") or {}

    @property
    def measured(self) -> pd.DataFrame:
        """Rows of deployments that passed verification: a failed one is shown as not measured,
        never as slow. Code size is read from files, not from the server, so it always stays.
        Diagnostic configurations are left out: they explain a figure, they are not a way to
        serve the framework, so no claim or comparison reads them (see `diagnostics`)."""
        unverified = [n for n, d in self.deployments.items() if d.get("verified") is False]
        keep = ~self.results["deployment"].isin(unverified) | (
            self.results["scenario"] == CODE_SIZE
        )
        return self.results[keep.to_numpy(dtype=bool) & ~self._diagnostic_rows()]

    @property
    def diagnostics(self) -> pd.DataFrame:
        """Load levels of diagnostic configurations, with the same deployment's other
        configurations at those levels to compare them with."""
        results = self.results
        load = results["scenario"].isin(LOAD_SCENARIOS).to_numpy(dtype=bool)
        levels = set(results.loc[load & self._diagnostic_rows(), "users"])
        with_diagnostics = {d for d, _ in self.diagnostic_configs}
        keep = results["deployment"].isin(with_diagnostics) & results["users"].isin(levels)
        return results[load & keep.to_numpy(dtype=bool)]

    @property
    def diagnostic_configs(self) -> set[tuple[str, str]]:
        return {
            (name, config)
            for name, info in self.deployments.items()
            for config in info.get("diagnostic_configs") or ()
        }

    def _diagnostic_rows(self) -> np.ndarray:
        pairs = zip(self.results["deployment"], self.results["config"], strict=True)
        return np.array([p in self.diagnostic_configs for p in pairs], dtype=bool)

    @property
    def load_levels(self) -> pd.DataFrame:
        frame = self.measured
        return frame[frame["scenario"].isin(LOAD_SCENARIOS) & (frame["users"] > 0)]

    @property
    def cold_starts(self) -> pd.DataFrame:
        frame = self.measured
        return frame[frame["scenario"] == COLD_START]

    @property
    def code_size(self) -> pd.DataFrame:
        return self.results[self.results["scenario"] == CODE_SIZE]


def resolve(run_dir: Path) -> Path:
    """The run folder itself, following bench/results/latest."""
    if not run_dir.exists():
        raise RunError(f"no stored run at {run_dir}: run `make bench` (or pass --run DIR) first")
    return run_dir.resolve()


def load(run_dir: Path) -> StoredRun:
    path = resolve(run_dir)
    problems: list[str] = []
    info = _read_json(path / "run.json", problems)
    if not info:
        raise RunError(f"{path}: run.json is missing or unreadable; it is not a stored run")
    return StoredRun(
        path=path,
        results=_read_results(path / "results.csv", problems),
        info=info,
        verify=_read_verify(path / "verify.csv", problems),
        inspections=_read_json(path / "inspections.json", problems),
        problems=problems,
    )


def _read_results(path: Path, problems: list[str]) -> pd.DataFrame:
    if not path.exists():
        problems.append(f"{path.name} is missing: no measurement was stored")
        return pd.DataFrame(columns=list(COLUMNS))
    try:
        rows = read_rows(path)
    except ValueError as exc:
        raise RunError(str(exc)) from exc
    frame = pd.DataFrame([vars(r) for r in rows], columns=list(COLUMNS))
    return frame.astype({"users": int, "repetition": int, "value": float})


def _read_verify(path: Path, problems: list[str]) -> pd.DataFrame:
    if not path.exists():
        problems.append(f"{path.name} is missing: verification outcome per check unknown")
        return pd.DataFrame(columns=list(VERIFY_COLUMNS))
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    return pd.DataFrame(rows, columns=list(VERIFY_COLUMNS)).fillna("")


def _read_json(path: Path, problems: list[str]) -> dict[str, Any]:
    if not path.exists():
        problems.append(f"{path.name} is missing")
        return {}
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        problems.append(f"{path.name} is unreadable: {exc}")
        return {}
    return data if isinstance(data, dict) else {}
