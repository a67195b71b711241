"""Diagnostic configurations are shown apart and never read by a claim or a comparison."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from reports import claims, inputs, perf_tables, run_tables
from reports.build import build

FIXTURE = Path(__file__).parent / "fixtures" / "run-quick"
DIAGNOSTIC = "diag_fast"


@pytest.fixture
def run_with_diagnostics(tmp_path: Path) -> Path:
    """The fixture run plus a Streamlit diagnostic config that is absurdly fast at 1 user."""
    run = tmp_path / "run"
    shutil.copytree(FIXTURE, run)
    info = json.loads((run / "run.json").read_text())
    streamlit = info["deployments"]["streamlit"]
    streamlit["configs"][DIAGNOSTIC] = "diagnostic: a change that explains a figure"
    streamlit["diagnostic_configs"] = [DIAGNOSTIC]
    (run / "run.json").write_text(json.dumps(info))
    with (run / "results.csv").open("a", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        for rep in (1, 2, 3):
            for metric, value, unit in (
                ("throughput", 100000.0, "1/s"),
                ("latency_p50", 0.01, "ms"),
                ("latency_p99", 0.02, "ms"),
            ):
                writer.writerow(
                    [
                        info["run_id"],
                        "streamlit",
                        DIAGNOSTIC,
                        "ui_session",
                        1,
                        rep,
                        metric,
                        value,
                        unit,
                    ]
                )
    return run


def verdicts(stored: inputs.StoredRun) -> list[tuple[str, str]]:
    checked = claims.check_all(
        claims.load_registry(), stored.measured, stored.info, stored.inspections
    )
    return [(c.claim.id, c.verdict.verdict) for c in checked]


def test_claims_read_no_diagnostic_row(run_with_diagnostics):
    with_diagnostic = inputs.load(run_with_diagnostics)
    assert DIAGNOSTIC not in set(with_diagnostic.measured["config"])
    assert verdicts(with_diagnostic) == verdicts(inputs.load(FIXTURE))


def test_diagnostics_are_tabled_beside_the_same_deployments_other_configs(run_with_diagnostics):
    stored = inputs.load(run_with_diagnostics)
    table = perf_tables.diagnostics_table(stored)
    configs = {row[1].text for row in table.rows}
    assert DIAGNOSTIC in configs and "default" in configs
    assert {int(row[3].text) for row in table.rows} == {1}  # only the levels the diagnostic ran


def test_the_report_has_a_diagnostics_section_only_when_there_are_diagnostics(
    run_with_diagnostics, tmp_path
):
    assert 'id="diagnostics"' in build(run_with_diagnostics, tmp_path / "a").read_text()
    assert 'id="diagnostics"' not in build(FIXTURE, tmp_path / "b").read_text()


def test_the_security_probe_is_tabled_per_deployment():
    table = run_tables.security_table(inputs.load(FIXTURE))
    by_name = {row[0].text: row for row in table.rows}
    assert set(by_name) == {"Flask", "Django", "Streamlit"}
    csrf = table.columns.index("Form POST without CSRF token refused")
    assert by_name["Streamlit"][csrf].text == "n/a"
    frame = table.columns.index("X-Frame-Options")
    assert by_name["Django"][frame].text != "-" and by_name["Flask"][frame].text == "-"


def test_the_foreign_host_probe_and_each_deployments_host_check_are_tabled(tmp_path):
    stored = inputs.load(FIXTURE)
    stored.inspections["probes"]["flask"]["default"]["security"]["foreign_host_refused"] = True
    stored.deployments["flask"]["host_check"] = "Flask's TRUSTED_HOSTS: 400"
    security = run_tables.security_table(stored)
    column = security.columns.index("Foreign Host refused (DNS rebinding)")
    by_name = {row[0].text: row for row in security.rows}
    assert by_name["Flask"][column].text == "yes"
    configs = run_tables.configs_table(stored)
    shown = {row[0].text: row[3].text for row in configs.rows}
    assert shown["Flask"] == "Flask's TRUSTED_HOSTS: 400"
    assert shown["Django"] == "-"  # a run stored before the field existed
