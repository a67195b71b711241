"""Publishing a stored run as the reference: its results without raw logs, its report built from
them, the whole folder replaced at once; a rebuild of the published results gives the same page."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from reports.__main__ import main
from reports.build import build
from reports.publish import REPORT_FOLDER, PublishError, publish, readable, report_page

FIXTURE = Path(__file__).parent / "fixtures" / "run-quick"


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("results") / "20261122T010203Z-quick"
    shutil.copytree(FIXTURE, run)
    (run / "raw").mkdir()
    (run / "raw" / "flask-default-api_single-r1.requests.csv").write_text("a raw log\n")
    reference = tmp_path_factory.mktemp("project") / "reference"
    assert main(["publish", str(run), "--to", str(reference)]) == 0
    return reference


def test_the_reference_holds_the_results_and_the_report_but_no_raw_logs(published):
    names = {p.name for p in published.iterdir()}
    assert {"results.csv", "run.json", "verify.csv", "inspections.json", REPORT_FOLDER} <= names
    assert "raw" not in names and "logs" not in names
    page = report_page(published)
    assert page.is_file() and page.parent.name == "20261122T010203Z-quick"
    assert (published / REPORT_FOLDER / "latest").resolve() == page.parent.resolve()
    html = page.read_text()
    # The page names the reference folder, not the staging folder it was built in.
    assert str(published) in html and ".publishing" not in html
    assert 'id="reproduction"' not in html  # the reference is compared with nothing
    assert not list(published.parent.glob("*.publishing")) + list(
        published.parent.glob("*.retired")
    )


def test_a_rebuild_of_the_published_results_gives_the_same_page(published, tmp_path):
    rebuilt = build(published, tmp_path, shown_as=published, compared=False)
    assert readable(rebuilt.read_text()) == readable(report_page(published).read_text())


def test_the_comparison_of_pages_sees_a_changed_figure(published, tmp_path):
    changed = tmp_path / "changed"
    shutil.copytree(published, changed, symlinks=True)
    results = (changed / "results.csv").read_text().splitlines()
    # Every throughput figure of the run doubled: the figures' axes and the tables change.
    header = results[0].split(",")
    value, metric = header.index("value"), header.index("metric")
    for i, line in enumerate(results[1:], start=1):
        cells = line.split(",")
        if cells[metric] == "throughput":
            cells[value] = str(2 * float(cells[value]))
            results[i] = ",".join(cells)
    (changed / "results.csv").write_text("\n".join(results) + "\n")
    rebuilt = build(changed, tmp_path / "out", shown_as=published, compared=False)
    assert readable(rebuilt.read_text()) != readable(report_page(published).read_text())


def test_publishing_again_replaces_the_whole_folder(published, tmp_path):
    reference = tmp_path / "reference"
    shutil.copytree(published, reference, symlinks=True)
    (reference / "stale.txt").write_text("from an older reference")
    publish(FIXTURE, reference)
    assert not (reference / "stale.txt").exists()
    assert report_page(reference).is_file()


def test_an_unfinished_run_is_not_published(tmp_path, capsys):
    run = tmp_path / "20261122T010203Z-quick"
    shutil.copytree(FIXTURE, run)
    info = json.loads((run / "run.json").read_text())
    (run / "run.json").write_text(json.dumps({**info, "status": "interrupted"}))
    with pytest.raises(PublishError, match="interrupted"):
        publish(run, tmp_path / "reference")
    assert main(["publish", str(run), "--to", str(tmp_path / "reference")]) == 2
    assert "only a finished run is published" in capsys.readouterr().err
    assert not (tmp_path / "reference").exists()
