"""The committed reference run (reference/): a full run's results without raw logs, and its
report, which `make report` rebuilds from them (this test rebuilds it the same way)."""

from __future__ import annotations

from pathlib import Path

import pytest

from reports import REFERENCE_DIR, inputs
from reports.build import build
from reports.publish import REPORT_FOLDER, readable, report_page

README = Path(__file__).resolve().parent.parent / "README.md"


@pytest.fixture(scope="module")
def reference() -> inputs.StoredRun:
    return inputs.load(REFERENCE_DIR)


def test_the_reference_is_a_finished_full_run_without_raw_logs(reference):
    assert reference.info["profile"] == "full"
    assert reference.info["status"] == "complete"
    names = {p.name for p in REFERENCE_DIR.iterdir()}
    assert {"results.csv", "run.json", REPORT_FOLDER} <= names
    assert not names & {"raw", "logs", "probes"}


def test_the_committed_report_is_what_its_committed_results_give(reference, tmp_path):
    committed = report_page(REFERENCE_DIR)
    rebuilt = build(REFERENCE_DIR, tmp_path, compared=False)
    assert readable(rebuilt.read_text()) == readable(committed.read_text())


def test_the_readme_links_the_reference_report_first(reference):
    text = README.read_text()
    link = str(report_page(REFERENCE_DIR).relative_to(README.parent))
    assert link in text
    assert text.index(link) < text.index("## The two commands")
