"""Every committed fixture run loads with the store's models, and loses nothing on the way."""

from __future__ import annotations

import json

import pytest
from pydantic import TypeAdapter

from bench.store.crosscheck import load_crosscheck_info, read_crosscheck_rows
from bench.store.inspections import PackageInspection, load_inspections
from bench.store.records import StoreError
from bench.store.run_info import load_run_info
from bench.store.table import read_rows
from tests.store_samples import FIXTURES

RUNS = sorted(p.parent for p in FIXTURES.glob("*/run.json"))


def test_the_fixture_runs_are_found():
    assert {p.name for p in RUNS} >= {"run-quick", "run-quick-stacks", "run-quick-all"}


@pytest.mark.parametrize("run", RUNS, ids=lambda p: p.name)
def test_a_fixture_run_loads_whole(run):
    info = load_run_info(run / "run.json")
    assert info.as_dict() == json.loads((run / "run.json").read_text())
    assert info.run_id and info.deployments
    if (run / "inspections.json").exists():
        inspections = load_inspections(run / "inspections.json")
        assert inspections.as_dict() == json.loads((run / "inspections.json").read_text())
    assert read_rows(run / "results.csv")


@pytest.mark.parametrize("run", [p for p in RUNS if (p / "crosscheck.json").exists()], ids=str)
def test_a_fixture_crosscheck_loads(run):
    info = load_crosscheck_info(run / "crosscheck.json")
    rows = read_crosscheck_rows(run / "crosscheck.csv")
    assert info.measurements and rows
    measured = {(m.deployment, m.config, m.users) for m in info.measurements}
    assert {(r.deployment, r.config, r.users) for r in rows if r.tool == "wrk"} <= measured


def test_the_other_stack_s_package_inspections_load():
    data = json.loads((FIXTURES / "stack-2022-inspections.json").read_text())
    found = TypeAdapter(dict[str, PackageInspection]).validate_python(data)
    assert set(found) == set(data)


def test_a_crosscheck_csv_of_other_columns_is_refused(tmp_path):
    path = tmp_path / "crosscheck.csv"
    path.write_text("deployment,users\nflask,1\n")
    with pytest.raises(StoreError, match="columns"):
        read_crosscheck_rows(path)


def test_a_crosscheck_csv_row_that_is_not_a_number_names_its_column(tmp_path):
    path = tmp_path / "crosscheck.csv"
    header = (FIXTURES / "run-quick-all" / "crosscheck.csv").read_text().splitlines()[0]
    path.write_text(f"{header}\nflask,default,one,wrk,throughput,1.0,1/s\n")
    with pytest.raises(StoreError) as caught:
        read_crosscheck_rows(path)
    assert caught.value.field == "users" and "line 2" in str(caught.value)
