"""The report's trust, scale and hardening sections, from a real quick run of every deployment
(tests/fixtures/run-quick-all: results.csv, run.json, verify.csv, inspections.json and the wrk
cross-check, copied from `make bench QUICK=1`)."""

import math
from pathlib import Path

import pytest

from reports import build, hardening, inputs, scale, scaling, trust

FIXTURE = Path(__file__).parent / "fixtures" / "run-quick-all"
API_DEPLOYMENTS = {"Flask", "Django", "FastAPI (reference)", "bare WSGI (reference)"}


@pytest.fixture(scope="module")
def stored():
    return inputs.load(FIXTURE)


def column(table, name):
    index = list(table.columns).index(name)
    return [row[index].text for row in table.rows]


def test_a_one_repetition_run_is_invalid_and_says_why(stored):
    verdict = trust.validity(stored)
    assert verdict["verdict"] == "INVALID"
    assert any("fewer than 3 repetitions" in r for r in verdict["reasons"])
    # The null target saturates the load generator on purpose: that is not a reason.
    assert not any("null" in r and "saturated" in r for r in verdict["reasons"])


def test_a_percentile_without_enough_samples_is_not_shown(stored):
    levels = stored.load_levels
    p99 = levels[levels["metric"] == "latency_p99"].set_index(
        ["deployment", "scenario", "users", "model"]
    )["value"]
    count = levels[levels["metric"] == "interactions"].set_index(
        ["deployment", "scenario", "users", "model"]
    )["value"]
    for key, value in p99.items():
        assert math.isnan(value) == (count[key] < 1000), key


def test_the_slo_table_has_a_confirmed_rate_for_each_api(stored):
    table = trust.slo_table(stored)
    assert set(column(table, "Deployment")) == API_DEPLOYMENTS
    # The fixture's searches spent their step budget: each rate is shown as a lower bound.
    rates = column(table, "Max rate under SLO (/s)")
    assert all(rate.startswith("\u2265 ") for rate in rates)
    assert all(float(rate.removeprefix("\u2265 ").replace(",", "")) > 0 for rate in rates)
    assert all("✓" in trials for trials in column(table, "Trials (rate: p99 ms)"))


def test_headroom_sets_every_level_against_the_null_targets_ceiling(stored):
    table = trust.headroom_table(stored)
    shares = column(table, "Share of ceiling")
    assert "the ceiling" in shares
    assert any(s.endswith("%") for s in shares)
    assert trust.ceilings(stored)[16].value > 1000


def test_the_wrk_crosscheck_is_shown_per_level(stored):
    table = trust.crosscheck_table(stored)
    assert {"Flask", "Django"} <= set(column(table, "Deployment"))
    assert all("\u00d7" in r for r in column(table, "wrk ÷ Locust"))


def test_floor_and_overhead_for_the_light_and_the_heavy_model(stored):
    floors = scale.floor_table(stored)
    assert set(column(floors, "Model")) == {"iris-logreg", "iris-forest"}
    overhead = scale.overhead_table(stored)
    rows = list(zip(column(overhead, "Deployment"), column(overhead, "Model"), strict=True))
    assert ("Flask", "iris-forest") in rows and ("Flask", "iris-logreg") in rows
    assert not any("null" in d for d, _ in rows)  # the null target serves no model
    shares = dict(zip(rows, column(overhead, "Overhead share"), strict=True))
    # The heavy model leaves the framework a smaller share of the latency.
    assert int(shares["Flask", "iris-forest"][:-1]) < int(shares["Flask", "iris-logreg"][:-1])


def test_worker_scaling_has_one_row_per_worker_count(stored):
    table = scaling.scaling_table(stored)
    flask = [w for d, w in zip(column(table, "Deployment"), column(table, "Workers"), strict=True)
             if d == "Flask"]  # fmt: skip
    assert flask == ["1", "2"]
    assert scaling.scaling_figure(stored) is not None


def test_the_hostile_input_suite_found_no_server_error(stored):
    summary = hardening.hostile_summary(stored)
    assert set(column(summary, "Deployment")) >= API_DEPLOYMENTS
    assert set(column(summary, "5xx answers")) == {"0"}
    assert set(column(summary, "Failed")) == {"0"}
    matrix = hardening.hostile_matrix(stored)
    assert len(matrix.rows) > 40


def test_the_whole_report_builds_with_every_section(tmp_path):
    page = build.build(FIXTURE, tmp_path).read_text()
    anchors = ("validity", "slo", "trust", "crosscheck", "scale", "scaling-efficiency", "hostile",
               "security")  # fmt: skip
    for anchor in anchors:
        assert f'id="{anchor}"' in page, anchor
    assert "INVALID" in page


def test_an_slo_limit_where_the_generator_fell_behind_is_flagged(stored):
    import dataclasses

    import pandas as pd

    trial = {"offered_rate": 1600.0, "met_slo": 0.0, "late_sends": 500.0, "interactions": 1000.0}
    extra = pd.DataFrame(
        [
            (
                stored.run_id,
                "flask",
                "default",
                "open_loop:api_single",
                0,
                99,
                m,
                v,
                "",
                "iris-logreg",
            )
            for m, v in trial.items()
        ],
        columns=stored.results.columns,
    )
    behind = dataclasses.replace(stored, results=pd.concat([stored.results, extra]))
    table = trust.slo_table(behind)
    rates = dict(zip(column(table, "Deployment"), column(table, "Max rate under SLO (/s)"),
                     strict=True))  # fmt: skip
    assert rates["Flask"].endswith("\u2691")
    assert not rates["Django"].endswith("\u2691")


def test_an_slo_search_that_spent_its_step_budget_shows_a_lower_bound(stored):
    import copy
    import dataclasses

    from bench.store.table import SLO_STEP_BUDGET

    info = copy.deepcopy(stored.info)
    info["deployments"]["django"]["slo_stops"] = {"default/api_single": "converged"}
    assert info["deployments"]["flask"]["slo_stops"] == {"default/api_single": SLO_STEP_BUDGET}
    budget = dataclasses.replace(stored, info=info)
    table = trust.slo_table(budget)
    rates = dict(
        zip(column(table, "Deployment"), column(table, "Max rate under SLO (/s)"), strict=True)
    )
    assert rates["Flask"].startswith("\u2265 ")
    assert not rates["Django"].startswith("\u2265")
