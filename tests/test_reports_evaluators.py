"""Every evaluator on small hand-made stored runs, with a case for each verdict it can give."""

from __future__ import annotations

import copy
from typing import Any

import pandas as pd
import pytest

from bench.store.table import COLUMNS
from reports import evaluators as ev
from reports.evaluators import provenance
from reports.verdicts import (
    CONTRADICTED,
    NOT_MEASURABLE,
    PARTLY,
    SUPPORTED,
    Claim,
    combine,
    with_unmeasured_part,
)

# --- small stored runs ---------------------------------------------------------------------


def deployment(framework: str, **extra: Any) -> dict[str, Any]:
    scenarios = ["ui_session"] if framework == "streamlit" else ["api_single", "form"]
    return {
        "display_name": framework.capitalize(),
        "role": "subject",
        "framework": framework,
        "framework_version": "1.0",
        "scenarios": scenarios,
        "not_applicable": [],
        "configs": {"default": "defaults", "recommended": "more workers"},
        "verified": True,
        "verify_failures": [],
        "levels_failed": [],
        **extra,
    }


FLASK_EXTENSIONS = {"forms": "flask-wtf", "forgery": "flask-wtf", "headers": "flask-talisman"}
RUN = {
    "packages": {
        "djangorestframework": "3.18.3",
        "flask-wtf": "1.3.0",
        "flask-talisman": "1.1.0",
        "scikit-learn": "1.9",
    },
    "model": {"estimator": "LogisticRegression", "sha256": "ab" * 32},
    "deployments": {
        "flask": deployment("flask", extensions=FLASK_EXTENSIONS),
        **{f: deployment(f) for f in ("django", "streamlit")},
    },
}


def components(**shipped: Any) -> dict[str, Any]:
    base = dict.fromkeys(ev.COMPONENT_NAMES, False)  # every component the inspector records
    return {**base, "database_backends": [], **shipped}


def package(licence: str = "BSD-3-Clause", **extra: Any) -> dict[str, Any]:
    return {"version": "1.0", "license": licence, "components": components(), **extra}


def inspected(**packages: dict[str, Any]) -> dict[str, Any]:
    return {"packages": packages, "probes": {}}


def claim(evaluator: str, expects: dict | None = None, **params: Any) -> Claim:
    return Claim(
        id="X",
        document="paper",
        where="here",
        group="g",
        evaluator=evaluator,
        how="test",
        statement="a statement",
        expects=expects or {},
        params=params,
    )


def results(*rows: tuple) -> pd.DataFrame:
    """rows: (deployment, config, scenario, users, repetition, metric, value)."""
    return pd.DataFrame(
        [("run", *r, "unit", "iris-logreg") for r in rows], columns=list(COLUMNS)
    ).astype({"users": int, "repetition": int, "value": float})


NO_RESULTS = results()


def check(
    evaluator: str,
    expects: dict | None,
    inspections: dict | None = None,
    table: pd.DataFrame = NO_RESULTS,
    run: dict | None = None,
    **params: Any,
):
    c = claim(evaluator, expects, **params)
    return ev.EVALUATORS[evaluator](table, run or RUN, inspections or {}, c)


# --- combining parts -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        ([SUPPORTED, SUPPORTED], SUPPORTED),
        ([SUPPORTED, NOT_MEASURABLE], PARTLY),
        ([CONTRADICTED, NOT_MEASURABLE], CONTRADICTED),
        ([SUPPORTED, CONTRADICTED], PARTLY),
        ([PARTLY], PARTLY),
        ([NOT_MEASURABLE], NOT_MEASURABLE),
        ([], NOT_MEASURABLE),
    ],
)
def test_parts_combine_into_a_verdict(parts, expected):
    assert combine(parts) == expected


def test_an_unmeasured_part_keeps_a_claim_from_being_supported():
    verdict = check("licence", {"django": "open"}, inspected(django=package()))
    assert verdict.verdict == SUPPORTED
    partial = with_unmeasured_part(verdict, "community support")
    assert partial.verdict == PARTLY
    assert partial.unmeasured == "community support"
    assert partial.evidence == verdict.evidence


# --- opinion ---------------------------------------------------------------------------------


def test_an_opinion_is_not_measurable_and_says_why():
    verdict = check("opinion", None, reason="no yardstick")
    assert verdict.verdict == NOT_MEASURABLE
    assert verdict.evidence == "no yardstick"


# --- licence ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expects", "packages", "verdict"),
    [
        ({"django": "open"}, {"django": package("BSD-3-Clause")}, SUPPORTED),
        ({"streamlit": "closed"}, {"streamlit": package("Apache-2.0")}, CONTRADICTED),
        (
            {"django": "open", "streamlit": "closed"},
            {"django": package(), "streamlit": package("Apache-2.0")},
            PARTLY,
        ),
        ({"django": "open"}, {}, NOT_MEASURABLE),
        ({"django": "open"}, {"django": package("Some-Custom-Terms")}, NOT_MEASURABLE),
        ({"django": "closed"}, {"django": package("Proprietary")}, SUPPORTED),
    ],
)
def test_licence(expects, packages, verdict):
    assert check("licence", expects, inspected(**packages)).verdict == verdict


def test_spdx_expressions_are_open_when_every_term_is():
    assert ev.is_open_source("BSD-3-Clause AND MIT") is True
    assert ev.is_open_source("MIT License") is True
    assert ev.is_open_source("Proprietary") is False
    assert ev.is_open_source("see LICENSE file") is None


# --- framework type and components -----------------------------------------------------------

FULL = components(**dict.fromkeys(ev.WEB_COMPONENTS, True))
MICRO = components(templates=True, test_client=True)


@pytest.mark.parametrize(
    ("expects", "packages", "verdict"),
    [
        ({"flask": ["lightweight"]}, {"flask": package(components=MICRO)}, SUPPORTED),
        ({"flask": ["full-stack"]}, {"flask": package(components=MICRO)}, CONTRADICTED),
        ({"django": ["full-stack", "closed"]}, {"django": package(components=FULL)}, PARTLY),
        ({"django": ["lightweight", "closed"]}, {"django": package(components=FULL)}, CONTRADICTED),
        ({"django": ["full-stack"]}, {"django": {"license": "MIT"}}, NOT_MEASURABLE),
    ],
)
def test_framework_type(expects, packages, verdict):
    assert check("framework_type", expects, inspected(**packages)).verdict == verdict


@pytest.mark.parametrize(
    ("component", "expects", "shipped", "verdict"),
    [
        ("auth", {"django": True}, {"auth": True}, SUPPORTED),
        ("interactive_debugger", {"django": False}, {"interactive_debugger": True}, CONTRADICTED),
        (["dev_server", "interactive_debugger"], {"django": True}, {"dev_server": True}, PARTLY),
        ("secure_cookies", {"django": True}, {}, NOT_MEASURABLE),  # not recorded by the inspector
    ],
)
def test_component(component, expects, shipped, verdict):
    packages = {"django": package(components=components(**shipped))}
    assert check("component", expects, inspected(**packages), component=component).verdict == (
        verdict
    )


def test_component_names_the_extension_used_instead():
    verdict = check(
        "component",
        {"flask": False},
        inspected(flask=package(components=MICRO)),
        component="forms",
    )
    assert verdict.verdict == SUPPORTED
    assert "flask-wtf 1.3.0 (not counted for it)" in verdict.findings["flask"].text


@pytest.mark.parametrize(
    ("expects", "verdict"),
    [
        ({"django": {"more_than": ["flask", "streamlit"]}}, SUPPORTED),
        ({"flask": {"more_than": ["django"]}}, CONTRADICTED),
        ({"streamlit": {"same_as": ["flask"]}}, PARTLY),  # 2 and 2, but not the same two
        ({"django": {"more_than": ["flask", "ghost"]}}, PARTLY),  # one side not inspected
    ],
)
def test_components_count(expects, verdict):
    packages = inspected(
        flask=package(components=MICRO),
        django=package(components=FULL),
        streamlit=package(components=components(auth=True, forms=True)),
    )
    assert check("components_count", expects, packages).verdict == verdict


def test_components_count_without_inspection_is_not_measurable():
    expects = {"django": {"more_than": ["flask"]}}
    assert check("components_count", expects, {}).verdict == NOT_MEASURABLE


# --- code size -------------------------------------------------------------------------------

CODE = results(
    ("flask", "default", "code_size", 0, 0, "sloc", 120),
    ("flask", "default", "code_size", 0, 0, "files", 3),
    ("django", "default", "code_size", 0, 0, "sloc", 230),
    ("django", "default", "code_size", 0, 0, "files", 2),
    ("streamlit", "default", "code_size", 0, 0, "sloc", 30),
)


@pytest.mark.parametrize(
    ("expects", "metrics", "verdict"),
    [
        ({"django": {"more_than": ["flask", "streamlit"]}}, ["sloc"], SUPPORTED),
        ({"django": {"fewer_than": ["flask"]}}, ["sloc"], CONTRADICTED),
        ({"django": {"more_than": ["flask"]}}, ["sloc", "files"], PARTLY),
        ({"django": {"more_than": ["flask"]}}, ["config_lines"], NOT_MEASURABLE),
    ],
)
def test_code_size(expects, metrics, verdict):
    assert check("code_size", expects, table=CODE, metrics=metrics).verdict == verdict


# --- server stack, scaffold, database --------------------------------------------------------


def stack(interface: str, tornado: bool | None = False) -> dict[str, Any]:
    return {"interface": interface, "server": "x", "tornado_used": tornado, "evidence": "seen"}


@pytest.mark.parametrize(
    ("expects", "stacks", "verdict"),
    [
        ({"flask": "WSGI"}, {"flask": stack("WSGI")}, SUPPORTED),
        ({"streamlit": "Tornado"}, {"streamlit": stack("ASGI", tornado=False)}, CONTRADICTED),
        (
            {"flask": "WSGI", "streamlit": "Tornado"},
            {"flask": stack("WSGI"), "streamlit": stack("ASGI")},
            PARTLY,
        ),
        ({"streamlit": "Tornado"}, {"streamlit": stack("ASGI", tornado=None)}, NOT_MEASURABLE),
        ({"flask": "WSGI"}, {}, NOT_MEASURABLE),
    ],
)
def test_server_stack(expects, stacks, verdict):
    packages = {f: package(server_stack=s) for f, s in stacks.items()}
    assert check("server_stack", expects, inspected(**packages)).verdict == verdict


def test_server_stack_names_the_version():
    packages = inspected(streamlit={**package(server_stack=stack("ASGI")), "version": "1.67.0"})
    verdict = check("server_stack", {"streamlit": "Tornado"}, packages)
    assert "Streamlit 1.67.0" in verdict.findings["streamlit"].text


def scaffolding(works: bool, command: str | None = "tool new") -> dict[str, Any]:
    return {"command": command, "works": works, "evidence": ""}


@pytest.mark.parametrize(
    ("expects", "found", "verdict"),
    [
        ({"flask": False}, {"flask": scaffolding(False, None)}, SUPPORTED),
        ({"flask": True}, {"flask": scaffolding(False, None)}, CONTRADICTED),
        (
            {"flask": False, "django": True},
            {"flask": scaffolding(True), "django": scaffolding(True)},
            PARTLY,
        ),
        ({"flask": False}, {"flask": {"command": None}}, NOT_MEASURABLE),
    ],
)
def test_scaffold(expects, found, verdict):
    packages = {f: package(scaffold=s) for f, s in found.items()}
    assert check("scaffold", expects, inspected(**packages)).verdict == verdict


def test_an_extension_counts_for_the_database_only_when_installed_and_used():
    run = copy.deepcopy(RUN)
    run["packages"]["sqlalchemy"] = "2.0"
    inspections = inspected(django=package(components=components(database_backends=[])))
    installed = check("database", {"django": "extension"}, inspections, run=run)
    assert installed.verdict == PARTLY and "uses no database" in installed.findings["django"].text
    run["deployments"]["django"]["extensions"] = {"database": "sqlalchemy"}
    used = check("database", {"django": "extension"}, inspections, run=run)
    assert (
        used.verdict == SUPPORTED and used.findings["django"].value == "extension: sqlalchemy 2.0"
    )


def test_table_cells_carry_the_finding_in_the_papers_terms():
    inspections = inspected(flask=package(), django=package(licence="Proprietary"))
    cells = check("licence", {"flask": "open", "django": "open"}, inspections).findings
    assert (cells["flask"].value, cells["django"].value) == ("Yes", "No")


@pytest.mark.parametrize(
    ("expects", "backends", "verdict"),
    [
        ({"django": ["mysql", "oracle"]}, ["mysql", "oracle", "sqlite3"], SUPPORTED),
        ({"django": ["mysql"]}, ["sql (SQLAlchemy)"], PARTLY),
        ({"django": ["mysql"]}, [], CONTRADICTED),
        # Usable as installed: SQLAlchemy is neither installed nor used here.
        ({"django": "extension"}, [], PARTLY),
        ({"django": "extension"}, ["sqlite3"], CONTRADICTED),
        ({"django": ["mysql"]}, None, NOT_MEASURABLE),
    ],
)
def test_database(expects, backends, verdict):
    shipped = components() if backends is None else components(database_backends=backends)
    if backends is None:
        del shipped["database_backends"]
    assert check("database", expects, inspected(django=package(components=shipped))).verdict == (
        verdict
    )


# --- what our deployments serve --------------------------------------------------------------


def unverified(framework: str) -> dict[str, Any]:
    run = copy.deepcopy(RUN)
    run["deployments"][framework]["verified"] = False
    run["deployments"][framework]["verify_failures"] = [{"check": "health", "reason": "down"}]
    return run


@pytest.mark.parametrize(
    ("expects", "run", "verdict"),
    [
        ({"django": True, "streamlit": True}, RUN, SUPPORTED),
        ({"flask": False}, RUN, CONTRADICTED),  # the Table I row: our Flask app serves one
        ({"flask": False, "django": True}, RUN, PARTLY),
        ({"django": True}, unverified("django"), NOT_MEASURABLE),
    ],
)
def test_dynamic_html(expects, run, verdict):
    assert check("dynamic_html", expects, run=run).verdict == verdict


def test_a_failed_verification_is_reported_with_its_reason():
    verdict = check("dynamic_html", {"django": True}, run=unverified("django"))
    assert "health: down" in verdict.findings["django"].text


@pytest.mark.parametrize(
    ("expects", "run", "verdict"),
    [
        ({"django": {"serves": True, "via": ["djangorestframework"]}}, RUN, SUPPORTED),
        ({"streamlit": {"serves": True, "via": ["djangorestframework"]}}, RUN, CONTRADICTED),
        ({"flask": {"serves": True, "via": ["flask-restful"]}}, RUN, PARTLY),
        ({"django": {"serves": True}}, unverified("django"), NOT_MEASURABLE),
    ],
)
def test_rest_api(expects, run, verdict):
    assert check("rest_api", expects, run=run).verdict == verdict


@pytest.mark.parametrize(
    ("expects", "run", "verdict"),
    [
        ({"django": True}, RUN, SUPPORTED),
        ({"django": False}, RUN, CONTRADICTED),
        ({"django": True, "flask": True}, unverified("flask"), PARTLY),
        ({"django": True}, unverified("django"), NOT_MEASURABLE),
    ],
)
def test_serves_model(expects, run, verdict):
    assert check("serves_model", expects, run=run).verdict == verdict


# --- performance -----------------------------------------------------------------------------


def load(
    throughput: dict[tuple[str, str, str], list[float]], users: int = 8, bound: tuple = ()
) -> pd.DataFrame:
    rows = []
    for (name, config, scenario), values in throughput.items():
        for rep, value in enumerate(values, start=1):
            rows.append((name, config, scenario, users, rep, "throughput", value))
            rows.append((name, config, scenario, users, rep, "latency_p50", 1000 / value))
            rows.append(
                (
                    name,
                    config,
                    scenario,
                    users,
                    rep,
                    "loadgen_bound",
                    1.0 if (name, config, scenario) in bound else 0.0,
                )
            )
    return results(*rows)


DJANGO = {("django", "default", "api_single"): [400, 402, 398]}
SLIGHTLY = {("flask", "default", "api_single"): [460, 462, 458], **DJANGO}  # 1.15x
CLEARLY = {("flask", "default", "api_single"): [800, 801, 799], **DJANGO}  # 2x
SAME = {("flask", "default", "api_single"): [401, 402, 399], **DJANGO}
FLASK_BETTER = {"flask": {"vs": "django", "reading": "slightly better"}}


@pytest.mark.parametrize(
    ("table", "expects", "verdict"),
    [
        (SLIGHTLY, FLASK_BETTER, SUPPORTED),
        (SAME, {"flask": {"vs": "django", "reading": "slightly worse"}}, PARTLY),
        (CLEARLY, FLASK_BETTER, PARTLY),  # right direction, wrong size
        (SLIGHTLY, {"flask": {"vs": "django", "reading": "slightly worse"}}, CONTRADICTED),
        (SAME, FLASK_BETTER, PARTLY),
        (CLEARLY, {"flask": {"vs": "django", "reading": "same"}}, CONTRADICTED),
        ({("flask", "default", "form"): [300, 300, 300], **DJANGO}, FLASK_BETTER, NOT_MEASURABLE),
    ],
)
def test_performance(table, expects, verdict):
    result = check("performance", expects, table=load(table), same_within=0.05, slightly_up_to=0.30)
    assert result.verdict == verdict


def test_saturated_levels_do_not_decide_a_performance_claim():
    table = load(SLIGHTLY, bound=(("flask", "default", "api_single"),))
    result = check("performance", FLASK_BETTER, table=table)
    assert result.verdict == NOT_MEASURABLE
    assert "saturated" in result.findings["flask"].text


def test_a_level_where_wrk_disagreed_decides_no_performance_claim():
    """Where wrk, on the same warm server, served a throughput more than 10 % from Locust's, the
    level's figure is the harness's: the ratio is shown but decides nothing."""
    disagrees = results(("flask", "default", "api_single", 8, 1, "wrk_disagrees", 1.0))
    table = pd.concat([load(SLIGHTLY), disagrees], ignore_index=True)
    result = check("performance", FLASK_BETTER, table=table)
    assert result.verdict == NOT_MEASURABLE
    assert "disagreed with wrk" in result.findings["flask"].text
    agrees = results(("flask", "default", "api_single", 8, 1, "wrk_disagrees", 0.0))
    table = pd.concat([load(SLIGHTLY), agrees], ignore_index=True)
    assert check("performance", FLASK_BETTER, table=table).verdict == SUPPORTED


def test_streamlit_is_compared_by_interaction_at_defaults():
    table = load(
        {
            ("streamlit", "default", "ui_session"): [13, 13.2, 12.9],
            ("django", "default", "form"): [260, 262, 259],
        }
    )
    result = check("performance", {"streamlit": {"vs": "django", "reading": "same"}}, table=table)
    assert result.verdict == CONTRADICTED
    assert "one form submission against one Streamlit rerun" in result.findings["streamlit"].text
    # Repetition i against repetition i: the geometric mean of the per-repetition ratios.
    paired = (13 / 260 * 13.2 / 262 * 12.9 / 259) ** (1 / 3)
    assert result.numbers["Streamlit ÷ Django throughput, lowest"] == pytest.approx(paired)


@pytest.mark.parametrize(
    ("ratio", "reading"),
    [
        (1.0, "same"),
        (1.15, "slightly better"),
        (1.6, "clearly better"),
        (0.87, "slightly worse"),
        (0.5, "clearly worse"),
    ],
)
def test_reading_of_a_ratio(ratio, reading):
    assert ev.reading_of(ratio, 0.05, 0.30) == reading


def _interval(value: float, low: float, high: float, n: int = 3):
    from reports import intervals

    return intervals.Estimate(value, low, high, n, intervals.PAIRED_T, intervals.CONFIDENCE)


def test_an_interval_across_a_band_edge_is_undecided():
    from reports.stats import Estimate

    assert ev.read_estimate(_interval(1.06, 1.01, 1.10), 0.05, 0.30) == ""
    assert ev.read_estimate(_interval(1.15, 1.10, 1.20), 0.05, 0.30) == "slightly better"
    # Without an interval one window cannot tell "slightly" from "same": undecided.
    assert ev.read_estimate(Estimate(1.15, float("nan"), float("nan"), 2), 0.05, 0.30) == ""


def test_a_range_or_bounds_of_unknown_coverage_decide_nothing():
    from reports import intervals

    # The range of 3 repetitions holds the true value 75 % of the time: not an interval.
    short = intervals.Estimate(1.15, 1.10, 1.20, 3, intervals.RANGE, intervals.range_coverage(3))
    assert ev.read_estimate(short, 0.05, 0.30) == ""
    assert ev.read_estimate(intervals.Estimate(1.15, 1.10, 1.20, 3), 0.05, 0.30) == ""


def test_an_interval_holding_no_difference_across_bands_is_not_distinguishable():
    assert ev.read_estimate(_interval(1.04, 0.97, 1.12), 0.05, 0.30) == ev.INDISTINGUISHABLE
    assert ev.read_estimate(_interval(1.01, 0.98, 1.03), 0.05, 0.30) == "same"


# --- probes ----------------------------------------------------------------------------------


def probe(overlapped: bool) -> dict[str, Any]:
    return {
        "clients": 4,
        "request_seconds": 1.0,
        "wall_seconds": 1.0 if overlapped else 4.0,
        "overlapped": overlapped,
        "evidence": "",
    }


@pytest.mark.parametrize(
    ("django", "flask", "verdict"),
    [
        # Django serialises where Flask overlaps: the claim holds for that configuration.
        ({"default": False}, {"default": True}, SUPPORTED),
        # Both serialise (one sync worker each): the configuration decides, not Django.
        ({"default": False}, {"default": False}, NOT_MEASURABLE),
        # No control under that configuration: nothing tells Django apart.
        ({"default": False}, {}, NOT_MEASURABLE),
        # Django overlaps: contradicted, whatever the controls do.
        ({"recommended": True}, {"recommended": True}, CONTRADICTED),
        # Both serialise at defaults and Django overlaps with more workers.
        (
            {"default": False, "recommended": True},
            {"default": False, "recommended": True},
            CONTRADICTED,
        ),
        (
            {"default": False, "recommended": False},
            {"default": True, "recommended": False},
            PARTLY,
        ),
        ({}, {"default": True}, NOT_MEASURABLE),
    ],
)
def test_concurrency_is_judged_against_the_controls_under_the_same_configuration(
    django, flask, verdict
):
    probes = {
        name: {c: {"concurrency": probe(o)} for c, o in configs.items()}
        for name, configs in (("django", django), ("flask", flask))
    }
    result = check(
        "concurrency", {"django": {"overlapped": False}}, {"probes": probes}, controls=["flask"]
    )
    assert result.verdict == verdict
    if flask.get("default") is False and django.get("default") is False:
        assert "the configuration decides, not the framework" in result.evidence


def security_probe(csrf: bool | None, escaped: bool | None, headers: dict) -> dict[str, Any]:
    all_headers = dict.fromkeys(("X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy"))
    return {
        "csrf_refused": csrf,
        "csrf_status": 403 if csrf else 200,
        "reflected_input_escaped": escaped,
        "headers": {**all_headers, **headers},
    }


DJANGO_HEADERS = {"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff"}


def probed(django: dict, flask: dict | None = None) -> dict[str, Any]:
    probes = {"django": {"default": {"security": django}}}
    if flask:
        probes["flask"] = {"default": {"security": flask}}
    return {"packages": {"flask": package(components=MICRO)}, "probes": probes}


@pytest.mark.parametrize(
    ("inspections", "params", "verdict"),
    [
        # Django refuses forgery and escapes; Flask does neither: "added protection" holds.
        (
            probed(security_probe(True, True, DJANGO_HEADERS), security_probe(False, False, {})),
            {"compare_to": "flask", "sql_injection": False},
            SUPPORTED,
        ),
        # Both escape; Flask refuses forgery only through Flask-WTF; SQL injection unmeasurable.
        (
            probed(security_probe(True, True, DJANGO_HEADERS), security_probe(True, True, {})),
            {"compare_to": "flask"},
            PARTLY,
        ),
        # Django's page reflects input unescaped and accepts forged posts.
        (probed(security_probe(False, False, {})), {"sql_injection": False}, CONTRADICTED),
        (
            probed(security_probe(True, True, DJANGO_HEADERS)),
            {"compare_to": "flask"},
            NOT_MEASURABLE,
        ),
        ({}, {}, NOT_MEASURABLE),
    ],
)
def test_security(inspections, params, verdict):
    assert check("security", None, inspections, framework="django", **params).verdict == verdict


def test_security_reports_the_headers_each_framework_sends():
    inspections = probed(security_probe(True, True, DJANGO_HEADERS), security_probe(True, True, {}))
    result = check("security", None, inspections, framework="django", compare_to="flask")
    text = " ".join(result.details)
    assert "X-Frame-Options: DENY" in text
    assert "Flask sends none of" in text
    assert "flask-wtf 1.3.0" in text
    assert "SQL injection" in text
    assert "counts for a framework only when the framework itself provides it" in text


TALISMAN_HEADERS = {"X-Frame-Options": "SAMEORIGIN", "X-Content-Type-Options": "nosniff"}


def test_headers_an_extension_sends_are_not_the_frameworks_as_forms_an_extension_handles():
    # Flask's deployment sends the same headers as Django, through Flask-Talisman, and refuses
    # forgery through Flask-WTF: neither counts for Flask, so Django's built-in ones are "added".
    inspections = probed(
        security_probe(True, True, DJANGO_HEADERS), security_probe(True, True, TALISMAN_HEADERS)
    )
    params = {"framework": "django", "compare_to": "flask", "sql_injection": False}
    verdict = check("security", None, inspections, **params)
    assert "forgery: supported" in verdict.evidence
    assert "cross-site scripting: partly supported" in verdict.evidence  # both escape alike
    assert "X-Frame-Options, X-Content-Type-Options through an extension" in " ".join(
        verdict.details
    )
    # Without the extension in Flask's manifest the same headers are Flask's own, and Django's
    # protection against cross-site scripting is no longer "added".
    run = copy.deepcopy(RUN)
    run["deployments"]["flask"]["extensions"] = {"forgery": "flask-wtf"}
    own = check("security", None, inspections, run=run, **params)
    assert "cross-site scripting: contradicted" in own.evidence


def test_every_evaluator_is_covered_here():
    tested = {
        "opinion",
        "licence",
        "framework_type",
        "component",
        "components_count",
        "code_size",
        "server_stack",
        "scaffold",
        "database",
        "dynamic_html",
        "rest_api",
        "serves_model",
        "performance",
        "concurrency",
        "security",
    }
    assert set(ev.EVALUATORS) - set(provenance.EVALUATORS) == tested  # the rest: its own file


def test_all_lines_add_python_config_and_template_lines():
    table = results(
        *[
            ("flask", "default", "code_size", 0, 0, m, v)
            for m, v in (("sloc", 100), ("config_lines", 20), ("template_lines", 40))
        ],
        *[
            ("streamlit", "default", "code_size", 0, 0, m, v)
            for m, v in (("sloc", 30), ("config_lines", 15), ("template_lines", 0))
        ],
    )
    verdict = check(
        "code_size", {"streamlit": {"fewer_than": ["flask"]}}, table=table, metrics=["total_lines"]
    )
    assert verdict.verdict == SUPPORTED
    assert "45 lines in all (vs Flask 160 lines in all)" in verdict.findings["streamlit"].text


def test_reference_deployments_never_stand_for_a_framework():
    run = copy.deepcopy(RUN)
    run["deployments"] = {
        "flask-tuned": {**deployment("flask"), "role": "reference", "verified": False},
        **run["deployments"],
    }
    assert ev.subject_of(run, "flask") == "flask"
    assert check("dynamic_html", {"flask": False}, run=run).verdict == CONTRADICTED


def injection_check(refused: bool, control: bool = True) -> dict[str, Any]:
    return {
        "refused": refused,
        "control_broke_out": control,
        "evidence": f"ORM rows 0; raw SQL rows {2 if control else 0}",
    }


@pytest.mark.parametrize(
    ("check_found", "flask_orm", "part"),
    [
        (injection_check(True), False, "SQL injection: supported"),
        (injection_check(False), False, "SQL injection: contradicted"),
        # A control that does not break out cannot tell a safe query from an unsafe one.
        (injection_check(True, control=False), False, "SQL injection: not measurable here"),
        # Flask with a query layer of its own would need its own check before "added" holds.
        (injection_check(True), True, "SQL injection: not measurable here"),
        (None, False, "SQL injection: not measurable here"),
    ],
)
def test_sql_injection_is_judged_from_the_deployments_own_check(check_found, flask_orm, part):
    inspections = probed(security_probe(True, True, DJANGO_HEADERS), security_probe(True, True, {}))
    checks = {"sql_injection": check_found} if check_found else {}
    inspections["packages"]["django"] = package(checks=checks)
    inspections["packages"]["flask"] = package(components=components(orm=flask_orm))
    verdict = check("security", None, inspections, framework="django", compare_to="flask")
    assert part in verdict.evidence


def test_a_protection_an_extension_gives_the_framework_itself_does_not_count():
    inspections = probed(security_probe(True, True, DJANGO_HEADERS), security_probe(True, True, {}))
    flask_alone = check("security", None, inspections, framework="flask", sql_injection=False)
    assert "forgery: contradicted" in flask_alone.evidence
    assert "through the extension flask-wtf 1.3.0, not the framework" in " ".join(
        flask_alone.details
    )
