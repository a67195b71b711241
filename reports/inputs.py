"""Read one stored run (bench/results/<run-id>/) into what the report works from.

Only bench.store is imported from bench: it is what the runner writes. run.json must load
through the store; every other file of a run is read defensively, because a partial or
interrupted run may lack some of them and the report must still say what it has.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench.store.inspections import load_inspections
from bench.store.records import StoreError
from bench.store.rules import samples_needed
from bench.store.run_info import RunInfo, load_run_info
from bench.store.runs import RunIdError, check_run_id
from bench.store.table import CODE_SIZE, COLD_START, COLUMNS, LEGACY_MODEL, OPEN_LOOP, read_rows

LOAD_SCENARIOS = ("api_single", "api_batch", "form", "ui_session")
# http_status: what the server answered to a one-request check (absent in older runs).
VERIFY_COLUMNS = ("deployment", "config", "check", "status", "reason", "http_status")
SUBJECT = "subject"


class RunError(RuntimeError):
    """The folder is not a stored run the report can read."""


@dataclass(frozen=True)
class StoredRun:
    """A stored run: the tidy results table, run.json, verify.csv and inspections.json."""

    path: Path
    results: pd.DataFrame  # every row of results.csv, COLUMNS as in bench/store/table.py
    info: dict[str, Any]  # run.json, as validated by bench/store/run_info.py
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
        results = self.all_models
        return results[(results["model"] == self.model_name).to_numpy(dtype=bool)]

    @property
    def all_models(self) -> pd.DataFrame:
        """`measured`, with the rows of every model variant the run served (see `model_name`)."""
        unverified = [n for n, d in self.deployments.items() if d.get("verified") is False]
        keep = ~self.results["deployment"].isin(unverified) | (
            self.results["scenario"] == CODE_SIZE
        )
        aside = self._rows_of(self.diagnostic_configs | self.scaling_configs | self.work_configs)
        return self.results[keep.to_numpy(dtype=bool) & ~aside]

    @property
    def scaling(self) -> pd.DataFrame:
        """Load levels of the worker-count passes (configs workers_N), with every deployment's
        default configuration at the same scenario and levels, which has one worker or one
        process."""
        results = self.results
        load = results["scenario"].isin(LOAD_SCENARIOS).to_numpy(dtype=bool)
        main = (results["model"] == self.model_name).to_numpy(dtype=bool)
        scaled = self._rows_of(self.scaling_configs)
        if not scaled.any():
            return results.iloc[0:0]
        scenarios = set(results.loc[scaled, "scenario"])
        users = set(results.loc[scaled, "users"])
        defaults = (
            (results["config"] == "default")
            & results["scenario"].isin(scenarios)
            & results["users"].isin(users)
        ).to_numpy(dtype=bool)
        return results[load & main & (scaled | defaults)]

    @property
    def work(self) -> pd.DataFrame:
        """Load levels of the work configurations (project defaults, equal work, plain Django,
        keep-alive), with the same deployments' default configuration at the same scenarios and
        levels to set them against. Verification failures leave nothing out here: the report's
        work table shows each configuration's contract checks beside its figures."""
        results = self.results
        load = results["scenario"].isin(LOAD_SCENARIOS).to_numpy(dtype=bool)
        main = (results["model"] == self.model_name).to_numpy(dtype=bool)
        worked = self._rows_of(self.work_configs) & load & main
        if not worked.any():
            return results.iloc[0:0]
        at = set(zip(results.loc[worked, "scenario"], results.loc[worked, "users"], strict=True))
        defaults = self._rows_of({(d, "default") for d, _ in self.work_configs}) & np.array(
            [k in at for k in zip(results["scenario"], results["users"], strict=True)], dtype=bool
        )
        return results[load & main & (worked | defaults)]

    @property
    def work_configs(self) -> set[tuple[str, str]]:
        return {
            (name, config)
            for name, info in self.deployments.items()
            for config in info.get("work_configs") or ()
        }

    @property
    def scaling_configs(self) -> set[tuple[str, str]]:
        return {
            (name, config)
            for name, info in self.deployments.items()
            for config in info.get("scaling_configs") or ()
        }

    def _rows_of(self, pairs: set[tuple[str, str]]) -> np.ndarray:
        together = zip(self.results["deployment"], self.results["config"], strict=True)
        return np.array([p in pairs for p in together], dtype=bool)

    @property
    def model_name(self) -> str:
        """The run's main model: every table and claim reads it; other variants (a heavier
        model) appear only where the report sets the variants side by side."""
        return str((self.info.get("model") or {}).get("name") or LEGACY_MODEL)

    @property
    def diagnostics(self) -> pd.DataFrame:
        """Load levels of diagnostic configurations, with the same deployment's other
        configurations at those levels to compare them with."""
        results = self.results
        load = results["scenario"].isin(LOAD_SCENARIOS).to_numpy(dtype=bool)
        levels = set(results.loc[load & self._rows_of(self.diagnostic_configs), "users"])
        with_diagnostics = {d for d, _ in self.diagnostic_configs}
        keep = (
            results["deployment"].isin(with_diagnostics)
            & results["users"].isin(levels)
            & (results["model"] == self.model_name)  # a heavier model's pass is not a config
        )
        return results[load & keep.to_numpy(dtype=bool)]

    @property
    def diagnostic_configs(self) -> set[tuple[str, str]]:
        return {
            (name, config)
            for name, info in self.deployments.items()
            for config in info.get("diagnostic_configs") or ()
        }

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
        raise RunError(
            f"no stored run at {run_dir}: run `make bench` first, or name a stored run folder"
        )
    return run_dir.resolve()


def load(run_dir: Path) -> StoredRun:
    path = resolve(run_dir)
    problems: list[str] = []
    info = _read_run_info(path / "run.json")
    try:
        # The report's folder is named after it: refused here, before anything is written.
        check_run_id(info.run_id)
    except RunIdError as exc:
        raise RunError(f"{path / 'run.json'}: {exc}") from None
    return StoredRun(
        path=path,
        results=_read_results(path / "results.csv", problems),
        info=info.as_dict(),
        verify=_read_verify(path / "verify.csv", problems),
        inspections=_read_inspections(path / "inspections.json", problems),
        problems=problems,
    )


def _read_run_info(path: Path) -> RunInfo:
    if not path.exists():
        raise RunError(f"{path.parent}: run.json is missing; it is not a stored run")
    try:
        return load_run_info(path)
    except StoreError as exc:
        raise RunError(str(exc)) from None


def _read_results(path: Path, problems: list[str]) -> pd.DataFrame:
    if not path.exists():
        problems.append(f"{path.name} is missing: no measurement was stored")
        return pd.DataFrame(columns=list(COLUMNS))
    try:
        rows = read_rows(path)
    except ValueError as exc:
        raise RunError(str(exc)) from exc
    frame = pd.DataFrame([vars(r) for r in rows], columns=list(COLUMNS))
    return hide_thin_percentiles(frame.astype({"users": int, "repetition": int, "value": float}))


def hide_thin_percentiles(frame: pd.DataFrame) -> pd.DataFrame:
    """A latency percentile of a level with too few interactions to state it becomes NaN in
    every repetition (shown as not measured): p99 of 200 requests is the second-slowest
    request, not a p99. The whole level, not one window: hiding only the thin repetitions
    would keep the faster ones, and bias the median."""
    keys = ["deployment", "config", "scenario", "users", "model"]
    counts = frame[frame["metric"] == "interactions"].groupby(keys)["value"].min()
    if counts.empty:
        return frame
    index = pd.MultiIndex.from_frame(frame[keys])
    interactions = counts.reindex(index).to_numpy()
    needed = frame["metric"].map(samples_needed).to_numpy()
    # An open-loop trial's p99 has its own minimum, judged by the search and shown beside it.
    open_loop = frame["scenario"].str.startswith(OPEN_LOOP).to_numpy(dtype=bool)
    # Rows with no interaction count of their own (the in-process floor) are not windows.
    counted = ~np.isnan(interactions.astype(float))
    thin = (needed > 0) & counted & ~(interactions >= needed) & ~open_loop
    out = frame.copy()
    out.loc[thin, "value"] = float("nan")
    return out


def _read_verify(path: Path, problems: list[str]) -> pd.DataFrame:
    if not path.exists():
        problems.append(f"{path.name} is missing: verification outcome per check unknown")
        return pd.DataFrame(columns=list(VERIFY_COLUMNS))
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    return pd.DataFrame(rows, columns=list(VERIFY_COLUMNS)).astype(object).fillna("")


def _read_inspections(path: Path, problems: list[str]) -> dict[str, Any]:
    if not path.exists():
        problems.append(f"{path.name} is missing")
        return {}
    try:
        return load_inspections(path).as_dict()
    except StoreError as exc:
        problems.append(f"{path.name} is unreadable: {exc}")
        return {}
