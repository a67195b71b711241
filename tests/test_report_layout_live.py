"""The report's layout in a real browser: Table I at a glance near the top and compact, a page
short enough to find one's way in with nothing expanded, every internal link resolving, and no
request leaving the file. Screenshots go to tests/artifacts/ for a person to look at."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.checks.browser import CHROMIUM, CHROMIUM_ARGS
from reports import claims, glance
from reports.__main__ import main

FIXTURE = Path(__file__).parent / "fixtures" / "run-quick-stacks"
ARTIFACTS = Path(__file__).parent / "artifacts"
VIEWPORT = {"width": 1400, "height": 1000}
# The limits issue 16 sets, in CSS pixels at the viewport's width.
GLANCE_STARTS_BY = 2500
GLANCE_AT_MOST = 2000
PAGE_AT_MOST = 9000

MEASURE = """() => {
  const box = e => {
    const r = e.getBoundingClientRect();
    return {top: r.top + scrollY, height: r.height};
  };
  const glance = document.getElementById("table-i-glance");
  const ids = new Set([...document.querySelectorAll("[id]")].map(e => e.id));
  const hrefs = [...document.querySelectorAll('a[href^="#"]')].map(a => a.getAttribute("href"));
  const toc = document.querySelector("nav.toc");
  return {
    page: document.documentElement.scrollHeight,
    glance: glance ? box(glance) : null,
    rows: document.querySelectorAll("#table-i-glance tbody tr").length,
    marks: [...document.querySelectorAll("#table-i-glance td.g .mark")].map(m => m.textContent),
    open: document.querySelectorAll("main details[open]").length,
    missing: [...new Set(hrefs.filter(h => !ids.has(decodeURIComponent(h.slice(1)))))],
    links: hrefs.length,
    tocPosition: toc ? getComputedStyle(toc).position : null,
  };
}"""


@pytest.fixture(scope="module")
def page_path(tmp_path_factory) -> Path:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is absent: install Debian's chromium (make browser)")
    out = tmp_path_factory.mktemp("layout")
    assert main(["--run", str(FIXTURE), "--out", str(out)]) == 0
    return (out / "latest" / "index.html").resolve()


@pytest.fixture(scope="module")
def measured(page_path):
    """The page's layout at 1400 px as it opens, and after following a link into a fold."""
    from playwright.sync_api import sync_playwright

    left, errors = [], []

    def guard(route):
        # Every request is routed here: a file: URL is the page itself, anything else leaves it.
        if route.request.url.startswith("file:"):
            route.continue_()
        else:
            left.append(route.request.url)
            route.abort()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=list(CHROMIUM_ARGS))
        try:
            page = browser.new_page(viewport=VIEWPORT)
            page.route("**/*", guard)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(page_path.as_uri(), wait_until="load")
            found = page.evaluate(MEASURE)
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "report-layout.png"), full_page=True)
            page.locator("#table-i-glance").screenshot(path=str(ARTIFACTS / "table-i-glance.png"))
            first = page.locator("#table-i-glance td.g a").first
            target = first.get_attribute("href")
            first.click()
            page.wait_for_function(
                "id => { const e = document.getElementById(id);"
                " return e && e.getBoundingClientRect().height > 0; }",
                arg=target[1:],
            )
            found["revealed"] = page.evaluate(
                "id => { const r = document.getElementById(id).getBoundingClientRect();"
                " return r.top >= 0 && r.top < innerHeight; }",
                target[1:],
            )
        finally:
            browser.close()
    return {**found, "left": left, "errors": errors}


@pytest.mark.browser
def test_table_i_at_a_glance_is_near_the_top_and_compact(measured):
    glance = measured["glance"]
    assert glance is not None, "no element with id table-i-glance"
    assert glance["top"] < GLANCE_STARTS_BY
    assert 0 < glance["height"] <= GLANCE_AT_MOST


@pytest.mark.browser
def test_table_i_at_a_glance_has_every_row_and_a_mark_in_every_cell(measured):
    registry = claims.load_registry()
    rows = [c for c in registry.claims if c.is_table_row]
    assert measured["rows"] == len(rows)
    # the fixture serves two stacks: each framework has one cell per stack in every row
    assert len(measured["marks"]) == len(rows) * len(registry.frameworks) * 2
    assert set(measured["marks"]) <= set(glance.MARKS.values())


@pytest.mark.browser
def test_the_page_is_short_with_nothing_expanded(measured):
    assert measured["open"] == 0
    assert measured["page"] <= PAGE_AT_MOST


@pytest.mark.browser
def test_the_contents_stay_in_view(measured):
    assert measured["tocPosition"] == "sticky"


@pytest.mark.browser
def test_every_internal_link_resolves(measured):
    assert measured["links"] > 0
    assert measured["missing"] == []


@pytest.mark.browser
def test_a_link_into_a_collapsed_part_opens_it(measured):
    """The page carries no script: the browser opens the details holding a fragment's target."""
    assert measured["revealed"]


@pytest.mark.browser
def test_no_request_leaves_the_file(measured):
    assert measured["left"] == []
    assert measured["errors"] == []


def test_a_long_printed_cell_is_cut_at_a_word_and_marked():
    assert glance.shorten("Yes", 10) == "Yes"
    cut = glance.shorten("Flask-Marshmallow Flask-JWT Flask-RESTful", 30)
    assert len(cut) <= 30 and cut.endswith(glance.ELLIPSIS) and "Flask-JWT" in cut
    assert glance.shorten("a  b\n c", 10) == "a b c"


def test_each_stack_links_to_the_row_that_holds_its_evidence():
    from reports import inputs, stack_claims, stacks

    stored = inputs.load(FIXTURE)
    registry = claims.load_registry()
    by_stack = stack_claims.check_stacks(registry, stacks.views(stored))
    grid = glance.glance(registry, by_stack, stored.info, stacks_shown=True)
    assert [s for s, _ in grid.stacks] == stacks.shown_order(by_stack)
    row = grid.rows[0]
    hrefs = [c.href for c in row.cells[registry.frameworks[0]]]
    assert hrefs == [f"#stack-claim-{row.claim_id}", f"#claim-{row.claim_id}"]
    alone = glance.glance(registry, by_stack, stored.info, stacks_shown=False)
    assert [s for s, _ in alone.stacks] == [stacks.TODAY]
    cells = [c for r in alone.rows for cs in r.cells.values() for c in cs]
    assert all(c.href.startswith("#claim-") for c in cells)
