"""The core split, the Locust process count and the scaling plan for machines of 1 to 64
cores: every rule is given its core list, so nothing here depends on the host's cores."""

from __future__ import annotations

import argparse
import os

import pytest

from bench.cli.main import EXIT_USAGE, main
from bench.run.passes import passes
from bench.run.plan import PLAN_PATH, load_plan
from bench.targets.cores import (
    AUTO,
    CoreError,
    add_arguments,
    choose_cores,
    core_list,
    from_args,
    locust_worker_count,
    workers_option,
)
from bench.targets.manifest import discover, select

MACHINES = (1, 2, 4, 16, 64)


@pytest.mark.parametrize("cores", MACHINES)
def test_the_default_split_gives_each_side_a_disjoint_half(cores):
    split = choose_cores(list(range(cores)))
    if cores == 1:
        assert split.server == split.loadgen == (0,) and split.shared
        return
    assert split.server == tuple(range(cores // 2))
    assert split.loadgen == tuple(range(cores // 2, cores))
    assert not split.shared and str(cores) in split.chosen


def test_the_split_keeps_the_cores_it_is_given_even_when_they_are_not_contiguous():
    split = choose_cores([1, 3, 5, 7, 9])
    assert split.server == (1, 3) and split.loadgen == (5, 7, 9)


@pytest.mark.parametrize("cores", MACHINES)
def test_one_side_given_leaves_the_other_every_core_it_does_not_take(cores):
    available = list(range(cores))
    if cores == 1:
        with pytest.raises(CoreError, match="every core"):
            choose_cores(available, server=[0])
        return
    split = choose_cores(available, server=[cores - 1])
    assert split.server == (cores - 1,) and split.loadgen == tuple(range(cores - 1))
    split = choose_cores(available, loadgen=[0])
    assert split.loadgen == (0,) and split.server == tuple(range(1, cores))
    assert "as given" in split.chosen


def test_cores_not_available_shared_or_all_taken_are_refused_with_a_clear_error():
    with pytest.raises(CoreError, match=r"--server-cores 8: core\(s\) 8 are not available"):
        choose_cores([0, 1, 2, 3], server=[8])
    with pytest.raises(CoreError, match=r"share core\(s\) 1"):
        choose_cores([0, 1, 2, 3], server=[0, 1], loadgen=[1, 2])
    with pytest.raises(CoreError, match="takes every core"):
        choose_cores([0, 1], server=[0, 1])
    with pytest.raises(CoreError, match="no core"):
        choose_cores([])


@pytest.mark.parametrize(
    ("text", "cores"), [("0", [0]), ("0-3", [0, 1, 2, 3]), ("0,2", [0, 2]), ("6,0-1", [0, 1, 6])]
)
def test_a_core_list_reads_as_taskset_writes_it(text, cores):
    assert core_list(text) == cores


@pytest.mark.parametrize("text", ["", "a", "3-1", "-1", "0-x", ","])
def test_a_malformed_core_list_is_refused(text):
    with pytest.raises(argparse.ArgumentTypeError):
        core_list(text)


@pytest.mark.parametrize(("cores", "workers"), [(1, 0), (2, 0), (4, 2), (16, 8), (64, 32)])
def test_auto_runs_one_locust_worker_per_load_generator_core_once_there_are_two(cores, workers):
    """One core: one process (a master beside a worker on the same core only adds cost)."""
    loadgen = choose_cores(list(range(cores))).loadgen
    assert locust_worker_count(AUTO, loadgen) == workers


def test_an_explicit_locust_worker_count_is_kept_whatever_the_cores():
    assert locust_worker_count(0, (8, 9, 10, 11)) == 0
    assert locust_worker_count(3, (1,)) == 3
    with pytest.raises(CoreError):
        locust_worker_count(-1, (1,))
    assert workers_option("auto") == AUTO and workers_option("4") == 4
    for bad in ("-2", "many", "1.5"):
        with pytest.raises(argparse.ArgumentTypeError):
            workers_option(bad)


@pytest.mark.parametrize(
    ("cores", "counts"),
    [(1, (1,)), (2, (1,)), (4, (1, 2)), (16, (1, 2, 4, 8)), (64, (1, 2, 4, 8, 16, 32))],
)
def test_the_scaling_profile_measures_powers_of_two_up_to_the_server_cores(cores, counts):
    plan = load_plan("scaling", PLAN_PATH)
    server = choose_cores(list(range(cores))).server
    assert plan.scaling.counts(len(server)) == counts
    [flask] = select(discover(), ["flask"])
    labels = [p.label for p in passes(plan, flask, "iris-logreg", len(server))]
    # The default pass is the one-worker figure: no second pass for it.
    assert labels == ["default", *(f"workers_{n}" for n in counts if n != 1)]


def test_a_deployment_without_a_worker_setting_gets_no_scaling_pass():
    plan = load_plan("scaling", PLAN_PATH)
    [streamlit] = select(discover(), ["streamlit"])
    assert [p.label for p in passes(plan, streamlit, "iris-logreg", 8)] == ["default"]


def test_the_options_parse_into_the_split_they_name():
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    available = sorted(os.sched_getaffinity(0))
    assert from_args(parser.parse_args([])) == choose_cores(available)
    if len(available) >= 2:
        first, last = available[0], available[-1]
        split = from_args(parser.parse_args(["--server-cores", str(last), "--loadgen-cores",
                                             str(first)]))  # fmt: skip
        assert split.server == (last,) and split.loadgen == (first,)


def test_the_run_command_names_a_core_it_cannot_use_in_one_line(capsys):
    missing = max(os.sched_getaffinity(0)) + 1000
    code = main(["run", "--only", "null", "--server-cores", str(missing)])
    err = capsys.readouterr().err.strip()
    assert code == EXIT_USAGE
    assert err.startswith("error: --server-cores") and f"{missing}" in err
    assert len(err.splitlines()) == 1
