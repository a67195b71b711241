"""The report of a run served from two stacks (tests/fixtures/run-quick-stacks, written by
make_run_quick_stacks.py: invented figures, the 2022 variants' real inspections): one view per
stack, each stack's verdicts side by side, both stacks' performance, and what the 2022 stack
is. A run served from today's stack alone is reported exactly as before."""

from __future__ import annotations

import copy
import json
import re
from dataclasses import replace
from html import unescape
from pathlib import Path

import pytest

from reports import (
    build,
    claims,
    inputs,
    perf_tables,
    run_tables,
    stack_claims,
    stack_info,
    stack_order,
    stack_perf,
    stack_section,
    stacks,
    stats,
    tables,
    text,
)
from reports.evaluators import subject_of
from reports.verdicts import CONTRADICTED, SUPPORTED

FIXTURES = Path(__file__).parent / "fixtures"
STACKED = FIXTURES / "run-quick-stacks"
TODAY_ONLY = (FIXTURES / "run-quick", FIXTURES / "run-quick-all")
TABLE_I_ROWS = 18


@pytest.fixture(scope="module")
def stored() -> inputs.StoredRun:
    return inputs.load(STACKED)


@pytest.fixture(scope="module")
def views(stored) -> dict[str, inputs.StoredRun]:
    return stacks.views(stored)


@pytest.fixture(scope="module")
def registry() -> claims.Registry:
    return claims.load_registry()


@pytest.fixture(scope="module")
def by_stack(registry, views) -> dict[str, list[claims.Checked]]:
    return stack_claims.check_stacks(registry, views)


@pytest.fixture(scope="module")
def rows(by_stack) -> dict[str, stack_claims.ClaimRow]:
    return {r.claim.id: r for r in stack_claims.claim_rows(by_stack)}


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("stacks-report")
    return build.build(STACKED, out).parent


@pytest.fixture(scope="module")
def html(built) -> str:
    return (built / "index.html").read_text()


def column(table: tables.Table, name: str) -> list[str]:
    index = list(table.columns).index(name)
    return [row[index].text for row in table.rows]


def section(page: str, start: str, end: str = "</section>") -> str:
    at = page.index(start)
    return page[at : page.index(end, at)]


# --- a run of today's stack alone ------------------------------------------------------------


@pytest.mark.parametrize("fixture", TODAY_ONLY, ids=lambda p: p.name)
def test_todays_view_of_a_run_without_stacks_gives_the_verdicts_it_always_gave(fixture, registry):
    run = inputs.load(fixture)
    assert stacks.stack_names(run.info) == [stacks.TODAY]
    direct = claims.check_all(registry, run.measured, run.info, run.inspections)
    today = stacks.view(run, stacks.TODAY)
    through_view = claims.check_all(registry, today.measured, today.info, today.inspections)
    assert claims.as_records(through_view) == claims.as_records(direct)
    assert today.results.equals(run.results)
    assert set(today.deployments) == set(run.deployments)


def test_a_run_without_stacks_renders_no_stack_section(tmp_path):
    run = inputs.load(FIXTURES / "run-quick")
    registry = claims.load_registry()
    assert stack_section.context(run, registry, stacks.views(run), {}, (0.05, 0.3)) == {
        "stacks_shown": False
    }
    folder = build.build(FIXTURES / "run-quick", tmp_path).parent
    page = (folder / "index.html").read_text()
    assert 'id="stacks"' not in page and 'href="#stacks"' not in page
    assert 'href="#stack-claims"' not in page and "today's stack" not in unescape(page)
    assert not list(folder.glob("claims-*.json"))


# --- the views ---------------------------------------------------------------------------------


def test_a_stacks_view_holds_its_variants_under_their_base_names(stored, views):
    old, today = views["2022"], views[stacks.TODAY]
    # FastAPI is today's only; the null target calibrates the one load generator, so it stays.
    assert set(old.deployments) == {"flask", "django", "streamlit", "wsgi", "null"}
    assert old.deployments["flask"]["framework_version"] == "2.0.3"
    assert old.deployments["null"]["stack"] == stacks.TODAY
    assert set(today.deployments) == {"flask", "django", "streamlit", "wsgi", "null", "fastapi"}
    assert today.deployments["flask"]["framework_version"] == "3.1.3"
    assert set(old.results["deployment"]) == {*old.deployments, "in_process"}
    assert set(old.verify["deployment"]) <= set(old.deployments)
    flask_2022 = stored.results[stored.results["deployment"] == "flask-2022"]
    flask_view = old.results[old.results["deployment"] == "flask"]
    assert (
        flask_view["value"]
        .reset_index(drop=True)
        .equals(flask_2022["value"].reset_index(drop=True))
    )


def test_a_stacks_view_reads_that_stacks_packages_and_inspections(views):
    old = views["2022"]
    assert old.info["packages"]["djangorestframework"] == "3.13.1"
    streamlit = old.inspections["packages"]["streamlit"]["server_stack"]
    assert (streamlit["server"], streamlit["interface"]) == ("tornado 6.2", "Tornado")
    assert set(old.inspections["probes"]) == {"flask", "django", "streamlit"}
    today = views[stacks.TODAY].inspections["packages"]["streamlit"]["server_stack"]
    assert today["interface"] == "ASGI"


def test_the_deployment_that_stands_for_a_framework_is_the_runs_stacks(stored):
    # Variants first: the order of run.json must not decide which stack a verdict is about.
    deployments = dict(reversed(list(stored.deployments.items())))
    run = {**stored.info, "deployments": deployments}
    assert subject_of(run, "flask") == "flask"
    assert subject_of({**run, stacks.VIEW_KEY: "2022"}, "flask") == "flask-2022"
    assert subject_of({**run, stacks.VIEW_KEY: "1999"}, "flask") is None


# --- the claims, per stack ---------------------------------------------------------------------


def test_the_table_i_cells_are_checked_on_each_stack(rows):
    server = rows["T1-server"]
    assert server.cell("2022", "streamlit").verdict == SUPPORTED
    assert "tornado 6.2" in server.cell("2022", "streamlit").value
    assert server.cell(stacks.TODAY, "streamlit").verdict == CONTRADICTED
    assert "gunicorn 20.1.0" in server.cell("2022", "flask").value
    multipage = rows["T1-multipage"]
    assert multipage.cell("2022", "streamlit").verdict == CONTRADICTED  # pages came in 1.10
    assert multipage.cell(stacks.TODAY, "streamlit").verdict == SUPPORTED
    for claim in ("T1-debugger", "T1-rest"):
        assert not rows[claim].differs(("flask", "streamlit", "django")), claim
    features = rows["T1-features"]
    assert features.cell("2022", "streamlit").value == "1 of 7 components"
    assert features.cell(stacks.TODAY, "streamlit").value == "2 of 7 components"


def test_the_differing_verdicts_are_listed_with_the_cells_that_differ(rows, registry, html):
    found = stack_claims.differing(list(rows.values()), registry.frameworks)
    ids = [r.claim.id for r in found]
    assert {"T1-server", "T1-multipage", "T1-features"} <= set(ids)
    assert "T1-debugger" not in ids and "T1-open-source" not in ids
    server = next(r for r in found if r.claim.id == "T1-server")
    assert [c.framework for c in server.cell_changes(registry.frameworks)] == ["streamlit"]
    listed = section(html, 'id="stack-differences-list"', 'id="stack-table-i-heading"')
    assert re.findall(r'<li data-claim="([^"]+)"', listed) == ids
    assert "Verdicts that differ between February 2022 and today" in html
    assert "tornado 6.2 (Tornado)" in listed


def test_every_claim_has_a_verdict_on_each_stack_side_by_side(html, registry, by_stack):
    table_i = section(html, 'id="stack-table-i"', "</table>")
    ids = re.findall(r'id="stack-claim-([^"]+)"', table_i)
    assert len(ids) == TABLE_I_ROWS
    others = re.findall(r'id="stack-claim-([^"]+)"', section(html, 'id="stack-other-claims"'))
    assert ids + others == [c.id for c in registry.claims]
    row = section(table_i, 'id="stack-claim-T1-multipage"', "</tr>")
    assert row.count('data-stack="2022"') == 4 and row.count('data-stack="today"') == 4
    tallies = {s: claims.tally(c) for s, c in by_stack.items()}
    assert tallies["2022"] != tallies[stacks.TODAY]


def test_the_claims_table_and_claims_json_stay_todays(built, views, registry, by_stack):
    today = claims.as_records(by_stack[stacks.TODAY])
    assert json.loads((built / "claims.json").read_text()) == today
    old = json.loads((built / "claims-2022.json").read_text())
    assert old == claims.as_records(by_stack["2022"])
    assert len(old) == len(registry.claims)


def test_a_stack_name_from_run_json_never_names_a_path():
    files = stack_section.claims_files({"today": [], "2022": [], "../x": [], "a/b": []})
    assert files == {"2022": "claims-2022.json"}


# --- performance on each stack -----------------------------------------------------------------


def test_the_side_by_side_table_quotes_each_stacks_medians_and_their_ratio(stored, views):
    table = stack_perf.side_by_side_table(stack_perf.Measured(views), 0.05, 0.30)
    assert {"Throughput, 2022 (/s)", "Throughput, today (/s)"} <= set(table.columns)
    assert {"Throughput: 2022 ÷ today", "p50: 2022 ÷ today"} <= set(table.columns)
    names = set(column(table, "Deployment"))
    assert names == {"Flask", "Django", "Streamlit", "bare WSGI (reference)"}
    assert {int(u.split()[0]) for u in column(table, "Users")} == {1, 16}
    levels = stored.load_levels
    old = stats.values_by_repetition(levels, "flask-2022", "default", "api_single", 1, "throughput")
    new = stats.values_by_repetition(levels, "flask", "default", "api_single", 1, "throughput")
    at = next(
        i
        for i, r in enumerate(table.rows)
        if r[0].text == "Flask" and r[1].text == "api_single" and r[3].text == "1"
    )
    cells = dict(zip(table.columns, (c.text for c in table.rows[at]), strict=True))
    assert cells["Throughput, 2022 (/s)"] == text.estimate(stats.median_ci(list(old.values())))
    assert cells["Throughput, today (/s)"] == text.estimate(stats.median_ci(list(new.values())))
    assert cells["Throughput: 2022 ÷ today"] == text.ratio(stats.paired_ratio_ci(old, new))
    assert "[" in cells["Throughput: 2022 ÷ today"]  # 3 repetitions: an interval
    # The saturated window of flask-2022 at 16 users is flagged.
    assert any(u.endswith(tables.SATURATED) for u in column(table, "Users"))


def test_without_enough_repetitions_no_interval_is_claimed(stored):
    results = stored.results[stored.results["repetition"] <= 1]
    views = stacks.views(replace(stored, results=results))
    table = stack_perf.side_by_side_table(stack_perf.Measured(views), 0.05, 0.30)
    assert not any("[" in c.text for row in table.rows for c in row[4:])
    assert set(column(table, "Reading: 2022 against today")) == {"undecided"}
    verdicts = [o.verdict for o in stack_order.orderings(stack_perf.Measured(views))]
    assert verdicts and all("by medians alone" in v for v in verdicts)


def test_the_order_of_the_frameworks_is_compared_across_the_stacks(views):
    measured = stack_perf.Measured(views)
    orderings = stack_order.orderings(measured)
    found = {(o.comparison, o.users): o for o in orderings}
    interaction = stack_order.COMPARISONS["form"]
    assert found[(interaction, 16)].by_stack["2022"] == "Flask > Django > Streamlit"
    assert found[(interaction, 16)].verdict == stack_order.HOLDS
    assert found[("api_single", 1)].verdict == stack_order.HOLDS
    flipped = found[("api_batch", 16)]
    assert flipped.names_by_stack["2022"] == ("django", "flask")
    assert flipped.names_by_stack[stacks.TODAY] == ("flask", "django")
    assert flipped.verdict == stack_order.CHANGES
    line = stack_order.ordering_line(measured, orderings)
    assert f"at {len(found) - 1} of {len(found)} compared levels" in line


def test_each_frameworks_overhead_is_over_the_bare_wsgi_app_of_its_own_stack(stored, views):
    table = stack_perf.overhead_table(stack_perf.Measured(views))
    assert set(column(table, "Framework")) == {"Flask", "Django"}  # Streamlit is no WSGI app
    levels = stored.load_levels

    def p50(name: str) -> float:
        values = stats.values_of(levels, name, "default", "api_single", 1, "latency_p50")
        return stats.median_ci(values).value

    at = next(
        i
        for i, r in enumerate(table.rows)
        if r[0].text == "Flask" and r[1].text == "api_single" and r[2].text == "1"
    )
    cells = dict(zip(table.columns, (c.text for c in table.rows[at]), strict=True))
    old, new = p50("flask-2022") - p50("wsgi-2022"), p50("flask") - p50("wsgi")
    assert cells["p50 added over bare WSGI, 2022 (ms)"] == text.number(old, 2)
    assert cells["p50 added over bare WSGI, today (ms)"] == text.number(new, 2)
    assert cells["Change, 2022 against today (ms)"] == f"{old - new:+,.2f}"
    assert any("without an interval" in n for n in table.notes)


# --- the 2022 stack ----------------------------------------------------------------------------


def test_every_exception_is_listed_with_its_reason_and_installed_version(stored):
    record = stored.info["stacks"]["2022"]
    table = stack_info.exceptions_table(stored.info, "2022")
    assert column(table, "Package") == [e["package"] for e in record["exceptions"]]
    assert column(table, "Why it is not of the cut-off") == [
        e["reason"] for e in record["exceptions"]
    ]
    assert column(table, "Locked") == [e["version"] for e in record["exceptions"]]
    installed = dict(zip(column(table, "Package"), column(table, "Installed"), strict=True))
    assert installed["tornado"] == "6.2" and installed["scikit-learn"] == "1.9.1"
    assert "2022-02-28" in table.caption


def test_each_stacks_framework_and_server_versions_are_shown(stored):
    table = stack_info.versions_table(stored.info)
    flask = next(r for r in table.rows if r[0].text == "Flask")
    assert [c.text for c in flask[1:]] == [
        "flask 2.0.3",
        "gunicorn 20.1.0",
        "flask 3.1.3",
        "gunicorn 27.0.1",
    ]
    assert "FastAPI (reference)" not in column(table, "Deployment")  # one stack only
    stacks_rows = stack_info.stacks_table(stored.info)
    assert column(stacks_rows, "Label") == ["February 2022", "today"]


def test_what_every_stacks_view_shares_with_todays_is_said(stored, html):
    calibration, floor = stack_info.shared_parts(stored)
    assert calibration.startswith("null target (calibration)") and "load generator" in calibration
    assert "are the same versions on every stack" in floor and "scikit-learn" in floor
    info = copy.deepcopy(stored.info)
    info["stacks"]["2022"]["packages"]["scikit-learn"] = "1.0.2"
    (_, differs) = stack_info.shared_parts(replace(stored, info=info))
    assert "differ between the stacks (scikit-learn 1.0.2 (2022) / 1.9.1 (today))" in differs
    assert unescape(calibration) in unescape(html)
    # The exceptions are named as the reason only where they record the model's libraries.
    assert "the exceptions below say why" in floor
    info = copy.deepcopy(stored.info)
    info["stacks"]["2022"]["exceptions"] = []
    (_, unexplained) = stack_info.shared_parts(replace(stored, info=info))
    assert "same versions on every stack" in unexplained and "exceptions" not in unexplained


def test_the_section_names_what_each_stack_served_from_run_json(html):
    page = unescape(html)
    assert (
        "From the February 2022 stack this run served Flask 2022, Streamlit 2022, Django 2022 "
        "and bare WSGI 2022 (reference), at 1 and 16 users" in page
    )
    assert '<a href="#stacks">February 2022 and today</a>' in page


def test_a_run_without_stack_records_is_still_reported_per_stack(stored, registry):
    # Deployments that say their stack, in a run.json that holds no stack records.
    info = {k: v for k, v in stored.info.items() if k != "stacks"}
    run = replace(stored, info=info)
    views = stacks.views(run)
    assert views["2022"].info["packages"] == {}  # unknown, never today's
    assert stacks.stack_label(info, "2022") == "2022"
    by_stack = stack_claims.check_stacks(registry, views)
    page = stack_section.context(run, registry, views, by_stack, (0.05, 0.30))
    assert page["stacks_shown"] and page["stack_measured"] == {
        "2022": "at 1 and 16 users, in the default configuration, with cold starts, and with no "
        "model-variant, scaling or SLO-search passes"
    }
    (exceptions,) = page["stack_exceptions_tables"]
    assert exceptions.empty and exceptions.caption == "Exceptions to the 2022 stack's cut-off"


# --- the rest of the page ----------------------------------------------------------------------


def test_the_variants_appear_under_their_display_names_everywhere(stored, html):
    for table in (
        run_tables.configs_table(stored),
        run_tables.coverage_table(stored),
        run_tables.security_table(stored),
        perf_tables.cold_start_table(stored),
        run_tables.code_size_table(stored),
    ):
        shown = set(column(table, "Deployment"))
        assert {"Flask 2022", "Django 2022", "Streamlit 2022"} <= shown, table.columns
    assert 'href="#stacks"' in html and 'href="claims-2022.json"' in html


def test_frameworks_are_compared_with_each_other_on_one_stack_only(stored):
    compared = set(column(perf_tables.ratio_table(stored, 0.05, 0.30), "A ÷ B"))
    assert "Flask ÷ Django" in compared and "Flask 2022 ÷ Django 2022" in compared
    assert all(c.count("2022") in (0, 2) for c in compared)


def test_each_summary_sentence_names_its_stack(html):
    summary = unescape(section(html, '<section id="summary">'))
    lines = re.findall(r"<li>(On [^<]*)", summary)
    assert any(line.startswith("On the February 2022 stack: api_single") for line in lines)
    assert any(line.startswith("On today's stack: api_single") for line in lines)
    for line in lines:
        if line.startswith("On today's stack:"):
            assert "2022" not in line


def test_a_stacked_view_does_not_leak_into_the_stored_run(stored):
    before = copy.deepcopy(stored.info)
    stacks.views(stored)
    assert stored.info == before
    assert "flask-2022" in set(stored.results["deployment"])
