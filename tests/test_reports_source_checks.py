"""The evaluators of dates, maintainers, dependencies, languages and printed code, on small
hand-made stored runs, with a case for each verdict they give."""

from __future__ import annotations

from typing import Any

from reports.evaluators import provenance as sc
from reports.verdicts import CONTRADICTED, NOT_MEASURABLE, PARTLY, SUPPORTED
from tests.test_reports_evaluators import NO_RESULTS, RUN, claim, inspected, package


def provenance(year: int | None = None, **extra: Any) -> dict[str, Any]:
    created = {"year": year, "words": f"Copyright {year} X", "file": "LICENSE"}
    return {"created": created if year else {"year": None}, **extra}


def check(evaluator: str, expects: dict | None, inspections: dict, **params: Any):
    return sc.EVALUATORS[evaluator](
        NO_RESULTS, RUN, inspections, claim(evaluator, expects, **params)
    )


def listed(key: str, **counts: int) -> dict[str, Any]:
    """Inspections whose provenance lists `counts[framework]` names under `key`."""
    return inspected(**{
        f: package(provenance={key: [f"{f}.n{i}" for i in range(n)]}) for f, n in counts.items()
    })  # fmt: skip


def dated(**years: int | None) -> dict[str, Any]:
    return inspected(**{f: package(provenance=provenance(y)) for f, y in years.items()})


def test_the_same_year_supports_an_earlier_one_partly_a_later_one_decides_nothing():
    verdict = check("created_year", {"flask": 2010, "django": 2005, "streamlit": 2018},
                    dated(flask=2010, django=2003, streamlit=2019))  # fmt: skip
    findings = {f: x.verdict for f, x in verdict.findings.items()}
    assert findings == {"flask": SUPPORTED, "django": PARTLY, "streamlit": NOT_MEASURABLE}
    assert "Copyright 2010 X" in verdict.findings["flask"].text
    assert verdict.findings["django"].value == "2003"  # the cell in the paper's terms


def test_a_year_no_file_states_is_not_measurable_not_guessed():
    verdict = check("created_year", {"flask": 2010}, dated(flask=None))
    assert verdict.verdict == NOT_MEASURABLE
    assert check("created_year", {"flask": 2010}, {}).verdict == NOT_MEASURABLE


def test_a_gap_within_a_year_of_the_claim_supports_it_a_wider_one_partly_the_wrong_order_not():
    params = {"earlier": "django", "later": "flask", "years": 5, "within": 1}
    assert check("created_gap", None, dated(django=2005, flask=2010), **params).verdict == SUPPORTED
    wide = check("created_gap", None, dated(django=2003, flask=2010), **params)
    assert wide.verdict == PARTLY and wide.numbers["gap_years"] == 7
    assert check("created_gap", None, dated(django=2011, flask=2010), **params).verdict == (
        CONTRADICTED
    )
    assert check("created_gap", None, dated(django=2005), **params).verdict == NOT_MEASURABLE


def test_a_maintainer_is_found_in_the_metadata_fields_or_not():
    found = {"fields": {"Maintainer-email": "Pallets <contact@palletsprojects.com>"}}
    inspections = inspected(flask=package(provenance={"maintainer": found}))
    assert check("maintainer", {"flask": "Pallets"}, inspections).verdict == SUPPORTED
    assert check("maintainer", {"flask": "Django"}, inspections).verdict == CONTRADICTED
    assert check("maintainer", {"flask": "Pallets"}, {}).verdict == NOT_MEASURABLE


def test_little_to_no_dependencies_holds_only_with_no_framework_needing_fewer():
    params = {"compare_with": ["flask", "django", "streamlit"]}
    fewest = check(
        "dependencies",
        {"flask": "fewest"},
        listed("required_distributions", flask=1, django=2, streamlit=9),
        **params,
    )
    assert fewest.verdict == SUPPORTED
    more = check(
        "dependencies",
        {"flask": "fewest"},
        listed("required_distributions", flask=6, django=2, streamlit=9),
        **params,
    )
    assert more.verdict == CONTRADICTED and "Django 2" in more.findings["flask"].text
    assert check(
        "dependencies", {"flask": "fewest"}, listed("required_distributions", flask=1), **params
    ).verdict == (NOT_MEASURABLE)


def test_python_only_is_judged_per_part_and_a_javascript_front_end_counts():
    python = {"python": {"files": 1, "bytes": 900}}
    with_js = {**python, "javascript": {"files": 3, "bytes": 9000}}
    inspections = inspected(
        streamlit=package(
            provenance={"app_files_by_language": python, "files_by_language": with_js}
        )
    )
    app = check("languages", {"streamlit": True}, inspections, parts=["app"])
    assert app.verdict == SUPPORTED
    both = check("languages", {"streamlit": True}, inspections, parts=["app", "package"])
    assert both.verdict == PARTLY and "javascript 3 files" in both.findings["streamlit"].text
    assert check("languages", {"streamlit": True}, {}, parts=["app"]).verdict == NOT_MEASURABLE


def test_a_printed_snippet_that_does_not_compile_contradicts_ready_to_run():
    def compiled(compiles: bool) -> dict:
        error = None if compiles else "IndentationError: expected an indented block (line 4)"
        return {"snippets": {"hello": {"compiles": compiles, "error": error, "lines": 6}}}

    broken = check("snippet", None, compiled(False), snippet="hello")
    assert broken.verdict == CONTRADICTED and "IndentationError" in broken.evidence
    assert check("snippet", None, compiled(True), snippet="hello").verdict == SUPPORTED
    assert check("snippet", None, {}, snippet="hello").verdict == NOT_MEASURABLE


def test_every_source_check_is_covered_here():
    tested = {
        "created_year",
        "created_gap",
        "maintainer",
        "dependencies",
        "languages",
        "snippet",
        "framework_apis",
        "premade_packages",
    }
    assert set(sc.EVALUATORS) == tested


def test_dozens_of_libraries_holds_only_with_no_framework_needing_more():
    inspections = listed("required_distributions", flask=6, django=2)
    params = {"compare_with": ["flask", "django"]}
    verdict = check("dependencies", {"django": "most"}, inspections, **params)
    assert verdict.verdict == CONTRADICTED and "more: Flask 6" in verdict.findings["django"].text
    assert check("dependencies", {"flask": "most"}, inspections, **params).verdict == SUPPORTED


def test_the_framework_names_used_rank_the_frameworks_as_a_stated_proxy():
    expects = {"django": {"more_than": ["flask", "streamlit"]}}
    steep = check(
        "framework_apis", expects, listed("framework_apis", django=15, flask=6, streamlit=9)
    )
    assert steep.verdict == SUPPORTED and steep.findings["django"].value == "15"
    assert check(
        "framework_apis", expects, listed("framework_apis", django=5, flask=6, streamlit=9)
    ).verdict == (CONTRADICTED)
    assert (
        check("framework_apis", expects, listed("framework_apis", django=15, flask=6)).verdict
        == PARTLY
    )
    assert check("framework_apis", expects, {}).verdict == NOT_MEASURABLE


def test_premade_packages_are_the_installed_extensions_a_deployment_names():
    # RUN's Flask names flask-wtf and flask-talisman (installed); Django names none there.
    flask = check("premade_packages", {"flask": True}, {}, context=["django"])
    assert flask.verdict == SUPPORTED and "forgery through flask-wtf 1.3.0" in (
        flask.findings["flask"].text
    )
    assert "Django deployment adds none" in " ".join(flask.details)
    assert check("premade_packages", {"django": True}, {}).verdict == CONTRADICTED
