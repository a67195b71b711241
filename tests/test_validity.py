"""The run verdict (VALID / INVALID), the sample minimums per percentile, and the CoV."""

import dataclasses
import math

import pytest

from bench.store.rules import (
    coefficient_of_variation,
    percentile_shown,
    run_validity,
    samples_needed,
)
from bench.store.table import Row

COMPLETE = {"status": "complete", "model": {"name": "m"}}


def level(rep: int, users: int = 8, **metrics: float) -> list[Row]:
    values = {"throughput": 100.0, "interactions": 1200.0, "window": 12.0, "failures": 0.0}
    values.update(metrics)
    return [
        Row("r", "flask", "default", "api_single", users, rep, name, value, "", "m")
        for name, value in values.items()
    ]


def test_percentiles_need_ten_samples_beyond_them():
    assert samples_needed("latency_p50") == 20
    assert samples_needed("latency_p90") == 100
    assert samples_needed("latency_p99") == 1000
    assert samples_needed("latency_p999") == 10000
    assert samples_needed("throughput") == 0
    assert percentile_shown("latency_p99", 1000) and not percentile_shown("latency_p99", 999)


def test_a_short_window_that_met_the_window_rule_is_valid():
    # The window rule, not a fixed length, ends a window: 2 s holding 1 200 steady interactions.
    rows = level(1, window=2.0, window_steady=1.0) + level(2) + level(3)
    assert run_validity(rows, COMPLETE)["verdict"] == "VALID"


def test_three_clean_repetitions_of_long_windows_are_valid():
    rows = level(1) + level(2) + level(3)
    verdict = run_validity(rows, COMPLETE)
    assert verdict["verdict"] == "VALID", verdict["reasons"]
    assert verdict["rules"]["min_repetitions"] == 3


@pytest.mark.parametrize(
    ("rows", "reason"),
    [
        (level(1) + level(2), "fewer than 3 repetitions"),
        (level(1) + level(2) + level(3, window_steady=0.0), "a window that was not steady"),
        (level(1) + level(2) + level(3, interactions=50.0), "fewer than 100 interactions"),
        (level(1) + level(2) + level(3, failures=2.0), "failed interactions"),
        (level(1) + level(2) + level(3, loadgen_bound=1.0), "load generator saturated"),
    ],
)
def test_each_minimum_missed_makes_the_run_invalid_and_says_where(rows, reason):
    verdict = run_validity(rows, COMPLETE)
    assert verdict["verdict"] == "INVALID"
    (line,) = verdict["reasons"]
    assert reason in line and "flask/default api_single 8u" in line


def test_an_incomplete_or_empty_run_is_invalid():
    rows = level(1) + level(2) + level(3)
    assert "partial" in run_validity(rows, {**COMPLETE, "status": "partial"})["reasons"][0]
    assert run_validity([], COMPLETE)["reasons"] == ["no load level was measured"]


def test_coefficient_of_variation_is_sample_sd_over_mean():
    assert coefficient_of_variation([9.0, 10.0, 11.0]) == pytest.approx(0.1)
    assert coefficient_of_variation([5.0, 5.0]) == 0.0
    assert math.isnan(coefficient_of_variation([5.0]))
    assert math.isnan(coefficient_of_variation([0.0, 0.0]))


def test_the_null_target_may_saturate_the_load_generator():
    rows = [
        dataclasses.replace(r, deployment="null")
        for r in level(1, loadgen_bound=1.0) + level(2) + level(3)
    ]
    info = {**COMPLETE, "deployments": {"null": {"role": "calibration"}}}
    assert run_validity(rows, info)["verdict"] == "VALID"
    assert run_validity(rows, COMPLETE)["verdict"] == "INVALID"


def test_a_run_whose_locust_master_refused_a_peer_is_invalid_and_names_it():
    rows = level(1) + level(2) + level(3)
    refused = [{"peer": "'intruder'", "message": "'stats'", "reason": "unsigned"}]
    verdict = run_validity(rows, {**COMPLETE, "refused_peers": refused})
    assert verdict["verdict"] == "INVALID"
    assert [r for r in verdict["reasons"] if "unauthenticated" in r and "intruder" in r]
    assert verdict["rules"]["no_refused_peers"] is True
    assert run_validity(rows, {**COMPLETE, "refused_peers": []})["verdict"] == "VALID"


CROSSCHECKED = {**COMPLETE, "plan": {"crosscheck": {"repetitions": 1, "configs": ["default"]}}}


def test_a_level_where_wrk_disagrees_stays_valid_but_decides_no_throughput_claim():
    rows = level(1, wrk_disagrees=1.0) + level(2) + level(3)
    rows += level(1, users=1, wrk_disagrees=0.0) + level(2, users=1) + level(3, users=1)
    verdict = run_validity(rows, CROSSCHECKED)
    assert verdict["verdict"] == "VALID", verdict["reasons"]
    assert verdict["harness_limited"] == ["flask/default api_single 8u"]
    assert verdict["rules"]["wrk_agrees_where_throughput_decides"] == 0.10


def test_a_level_the_plan_cross_checks_but_wrk_did_not_measure_makes_the_run_invalid():
    rows = level(1, wrk_disagrees=0.0) + level(2) + level(3)
    rows += level(1, users=1) + level(2, users=1) + level(3, users=1)
    verdict = run_validity(rows, CROSSCHECKED)
    assert verdict["verdict"] == "INVALID"
    assert verdict["reasons"] == [
        "not cross-checked with wrk, which the plan asks for: flask/default api_single 1u"
    ]
    # A plan without a cross-check asks for none.
    assert run_validity(rows, COMPLETE)["verdict"] == "VALID"


def test_a_json_api_level_near_the_load_generators_ceiling_makes_the_run_invalid():
    """The ceiling is the null target's with as many users and the same connection handling:
    kept alive for a deployment whose default keeps connections (run.json keeps_connections),
    closed after every answer otherwise."""

    def null(rep: int, throughput: float, config: str = "default") -> list[Row]:
        return [
            dataclasses.replace(r, deployment="null", config=config)
            for r in level(rep, throughput=throughput)
        ]

    def info(keeps_connections: bool) -> dict:
        deployments = {
            "null": {"role": "calibration"},
            "flask": {"keeps_connections": keeps_connections},
        }
        return {**COMPLETE, "deployments": deployments}

    ceiling = [r for rep in (1, 2, 3) for r in null(rep, 140.0) + null(rep, 200.0, "keepalive")]
    rows = level(1) + level(2) + level(3) + ceiling  # flask: 100/s
    assert run_validity(rows, info(keeps_connections=True))["verdict"] == "VALID"  # 50 % of 200
    verdict = run_validity(rows, info(keeps_connections=False))  # 71 % of 140
    assert verdict["reasons"] == [
        "above 70% of the load generator's calibrated ceiling: flask/default api_single 8u"
    ]
    assert verdict["rules"]["below_ceiling_share"] == 0.70
