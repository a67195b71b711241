"""Build the report of the fixture run and read it back: as files, as HTML, in a real browser."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from bench.checks.browser import CHROMIUM, CHROMIUM_ARGS
from reports import claims
from reports.__main__ import main

FIXTURE = Path(__file__).parent / "fixtures" / "run-quick"
ARTIFACTS = Path(__file__).parent / "artifacts"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """The fixture run's report, built once through the command line."""
    out = tmp_path_factory.mktemp("reports-output")
    assert main(["--run", str(FIXTURE), "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def html(built) -> str:
    return (built / "latest" / "index.html").read_text()


def test_the_report_is_written_with_its_data_and_a_latest_link(built, capsys):
    run_dir = built / "20261122T010203Z-quick"
    assert (run_dir / "index.html").is_file()
    assert (built / "latest").is_symlink()
    assert (built / "latest").resolve() == run_dir.resolve()
    # results.csv sits next to index.html so that the page's relative link works offline.
    assert (run_dir / "results.csv").read_bytes() == (FIXTURE / "results.csv").read_bytes()
    records = json.loads((run_dir / "claims.json").read_text())
    assert len(records) == len(claims.load_registry().claims)


def test_the_page_is_self_contained(html):
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "<script" not in html
    # Figures are inline SVG: their text is text, and nothing is an image file or a data URI.
    assert html.count('<div class="plot" role="img"') >= 6
    assert "<?xml" not in html and "<!DOCTYPE svg" not in html and "data:image" not in html
    assert 'href="results.csv"' in html


def test_the_headline_picture_follows_table_i(html):
    glance, headline = html.index('id="table-i-glance"'), html.index('id="fig-headline"')
    assert glance < headline < html.index('id="claims"')
    figure = html[headline : html.index("</figure>", headline)]
    # The three frameworks, as users (form, Streamlit rerun) and as an API, with their text.
    for name in ("Flask", "Django", "Streamlit", "form", "ui_session", "API"):
        assert name in figure


def test_no_id_is_used_twice_on_the_page(html):
    # Inline SVGs bring their own ids (clip paths): each figure salts them with its own id.
    ids = re.findall(r"""\bid=["']([^"']+)["']""", html)
    assert ids and [i for i in set(ids) if ids.count(i) > 1] == []


def test_the_claims_table_has_one_row_per_registered_claim(html):
    registry = claims.load_registry()
    ids = re.findall(r'<tr class="claim" id="claim-([^"]+)"', html)
    assert ids == [c.id for c in registry.claims]


def test_the_garbled_row_is_shown_as_printed(html):
    row = html[html.index('id="claim-T1-rest"') :]
    row = row[: row.index("</tr>")]
    assert "Django Rest framework" in row and "Python Api" in row and "garbled" in row


def test_not_applicable_is_said_never_zero(html):
    assert "Streamlit: not applicable" in html
    assert "Flask: not applicable" in html


def test_saturated_levels_and_failed_levels_are_shown(html):
    assert "load generator saturated" in html
    assert "12 % of requests failed (connection reset by peer)" in html


def test_the_method_names_the_model_and_the_plan(html):
    assert "fe973d80591e9a76274599c641b1e66fd72ba55ef19c4aa7612d2c624bb8864a" in html
    assert "0.9211" in html
    assert "gunicorn&#39;s defaults: 1 sync worker" in html
    assert "make bench QUICK=1" in html


def _variant(tmp_path: Path, edit) -> Path:
    """A copy of the fixture run with run.json edited, and only a slice of results.csv so that
    the build stays quick."""
    run = tmp_path / "run"
    shutil.copytree(FIXTURE, run)
    info = json.loads((run / "run.json").read_text())
    edit(info)
    (run / "run.json").write_text(json.dumps(info))
    lines = (run / "results.csv").read_text().splitlines()
    keep = [lines[0]] + [x for x in lines[1:] if ",form," in x or ",code_size," in x]
    (run / "results.csv").write_text("\n".join(keep) + "\n")
    main(["--run", str(run), "--out", str(tmp_path / "out")])
    return tmp_path / "out" / "latest" / "index.html"


def test_a_partial_run_says_so_at_the_top_and_a_failed_deployment_is_not_measured(tmp_path):
    def edit(info):
        info["status"] = "partial"
        django = info["deployments"]["django"]
        django["verified"] = False
        django["verify_failures"] = [{"check": "health", "reason": "refused to start"}]

    page = _variant(tmp_path, edit).read_text()
    assert page.index("This run is PARTIAL") < page.index('id="summary"')
    assert "Django: not measured, it failed verification" in page
    assert "refused to start" in page
    assert "Django · default" not in page  # no line of an unverified deployment


def test_a_reference_deployment_stays_out_of_the_claims_columns(tmp_path):
    def edit(info):
        reference = json.loads(json.dumps(info["deployments"]["flask"]))
        reference.update(display_name="Bare WSGI", role="reference", framework="wsgiref")
        info["deployments"]["bare"] = reference

    page = _variant(tmp_path, edit).read_text()
    header = page[page.index('id="claims-table"') :]
    header = header[: header.index("</thead>")]
    assert "Bare WSGI" not in header
    assert "Bare WSGI (reference)" in page


def bare_run_json(run_id: str, status: str) -> str:
    """The fixture's run.json under another id and status: what a run stored when it started."""
    info = json.loads((FIXTURE / "run.json").read_text())
    return json.dumps({**info, "run_id": run_id, "status": status})


def test_a_run_with_nothing_but_run_json_still_gets_a_report(tmp_path):
    run = tmp_path / "r1"
    run.mkdir()
    (run / "run.json").write_text(bare_run_json("r1", "interrupted"))
    assert main(["--run", str(run), "--out", str(tmp_path / "out")]) == 0
    page = (tmp_path / "out" / "latest" / "index.html").read_text()
    assert "This run was INTERRUPTED" in page
    assert "results.csv is missing" in page
    assert page.count('<tr class="claim"') == len(claims.load_registry().claims)


@pytest.mark.parametrize("run_id", ["../escaped", "ABSOLUTE", "a/../../b", ".."])
def test_a_run_id_that_is_not_a_plain_folder_name_is_refused(tmp_path, capsys, run_id):
    """The report's folder is named after run.json's run_id: a crafted one must not write
    outside the output folder."""
    run_id = str(tmp_path / "escaped-absolute") if run_id == "ABSOLUTE" else run_id
    run = tmp_path / "stored" / "r1"
    run.mkdir(parents=True)
    (run / "run.json").write_text(bare_run_json(run_id, "complete"))
    out = tmp_path / "work" / "out"
    assert main(["--run", str(run), "--out", str(out)]) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: ") and "is not a folder name" in error
    assert "Traceback" not in error and len(error.strip().splitlines()) == 1
    assert not out.exists()
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == [
        "stored",
        "stored/r1",
        "stored/r1/run.json",
    ]


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (lambda info: info.pop("deployments"), "deployments"),
        (lambda info: info["deployments"]["flask"].update(verified="perhaps"), "verified"),
        (lambda info: info.update(schema_version=99), "schema_version"),
    ],
)
def test_a_run_json_the_store_refuses_is_one_clear_error(tmp_path, capsys, edit, field):
    run = tmp_path / "r1"
    run.mkdir()
    info = json.loads(bare_run_json("r1", "complete"))
    edit(info)
    (run / "run.json").write_text(json.dumps(info))
    assert main(["--run", str(run), "--out", str(tmp_path / "out")]) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: ") and "run.json" in error and field in error
    assert "Traceback" not in error and len(error.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_a_missing_run_is_a_clear_error(tmp_path, capsys):
    assert main(["--run", str(tmp_path / "nothing"), "--out", str(tmp_path)]) == 2
    assert "no stored run" in capsys.readouterr().err


@pytest.mark.browser
def test_the_report_renders_in_chromium(built):
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is absent: install Debian's chromium (make browser)")
    from playwright.sync_api import sync_playwright

    page_path = (built / "latest" / "index.html").resolve()
    errors, remote = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=list(CHROMIUM_ARGS))
        try:
            page = browser.new_page(viewport={"width": 1360, "height": 1000})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("request", lambda r: remote.append(r.url) if r.url.startswith("http") else None)
            page.goto(page_path.as_uri(), wait_until="load")
            rows = page.locator("#claims-table tr.claim").count()
            widths = page.eval_on_selector_all(
                "figure .plot svg", "plots => plots.map(p => p.getBoundingClientRect().width)"
            )
            plot_text = page.locator("figure .plot svg text").count()
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
        finally:
            browser.close()
    assert rows == len(claims.load_registry().claims)
    assert widths and all(w > 0 for w in widths)
    assert plot_text > 0  # searchable text, not paths
    assert errors == []
    assert remote == []
