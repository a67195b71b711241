"""python -m bench crosscheck: wrk's figures read right, compared right, and measured for real."""

from __future__ import annotations

import argparse
import csv
import json
import math
import shutil
from pathlib import Path

import pytest

from bench.clients.payloads import request_pool
from bench.load import wrk
from bench.load.wrk import WrkError, measure_wrk, parse_wrk_output, write_bodies
from bench.measure.agreement import (
    CSV_COLUMNS,
    Level,
    compare,
    csv_text,
    locust_repetitions,
    note,
    summarise,
)
from bench.run import crosscheck
from bench.run.crosscheck import load_run
from bench.run.wrk_check import Settings, write_results
from bench.store.files import atomic_write_text
from bench.targets.cores import split_cores
from bench.targets.manifest import discover, select
from shared_model.model import load_model
from tests.live import free_port

FIXTURE_RUN = Path(__file__).parent / "fixtures" / "run-quick"

WRK_STDOUT = """Running 2s test @ http://127.0.0.1:8231
  1 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     4.10ms    1.22ms  12.02ms   89.85%
  1938 requests in 2.00s, 1.41MB read
Requests/sec:    967.54
crosscheck-json {"requests": 1938, "duration_us": 2000000, "non_2xx": 38, "errors": \
{"connect": 0, "read": 2, "write": 0, "status": 38, "timeout": 1}, "latency_us": \
{"p50": 3712, "p90": 5374, "p99": 8693, "p999": 12020, "max": 12020, "mean": 4099.5}}
"""


def wrk_rep(throughput: float, p50: float, non_2xx: float = 0, socket: float = 0) -> dict:
    return {
        "throughput": throughput,
        "latency_p50": p50,
        "non_2xx": non_2xx,
        "socket_errors": socket,
    }


# ---- parsing ---------------------------------------------------------------------------------


def test_parse_reads_the_json_line_of_the_lua_done_hook():
    result = parse_wrk_output(WRK_STDOUT)
    assert result.requests == 1938
    assert result.duration_s == 2.0
    assert result.non_2xx == 38
    assert result.socket_errors == {"connect": 0, "read": 2, "write": 0, "timeout": 1}
    assert result.socket_error_count == 3
    assert result.latency_ms["p50"] == pytest.approx(3.712)
    assert result.latency_ms["p99"] == pytest.approx(8.693)
    # Throughput counts 2xx answers only, as Locust's counts successful interactions.
    assert result.throughput == pytest.approx((1938 - 38) / 2.0)


def test_a_window_with_errors_reports_them_among_its_figures():
    figures = parse_wrk_output(WRK_STDOUT).repetition()
    assert figures["non_2xx"] == 38
    assert figures["socket_errors"] == 3
    assert figures["latency_p90"] == pytest.approx(5.374)
    assert "latency_p999" not in figures  # not a compared figure


@pytest.mark.parametrize(
    "stdout, why",
    [
        ("Running 2s test\nRequests/sec: 10\n", "no figures"),
        ('crosscheck-json {"requests": 1\n', "cannot read"),
        ('crosscheck-json {"requests": 5, "duration_us": 1}\n', "cannot read"),
        (WRK_STDOUT.replace('"duration_us": 2000000', '"duration_us": 0'), "run of 0"),
    ],
)
def test_unreadable_wrk_output_is_a_clear_error(stdout, why):
    with pytest.raises(WrkError, match=why):
        parse_wrk_output(stdout)


def test_wrk_threads_never_exceed_the_connections(monkeypatch):
    monkeypatch.setattr(wrk, "wrk_path", lambda: "/usr/bin/wrk")
    argv = wrk.wrk_command("http://127.0.0.1:1", 1, 3, Path("b.txt"), threads=2)
    assert argv[1:4] == ["-t1", "-c1", "-d3s"]
    assert argv[-3:] == ["--", "b.txt", "/api/predict"]


# ---- summarising and comparing ------------------------------------------------------------


def test_repetitions_with_errors_are_flagged_and_left_out_of_the_medians():
    summary = summarise(
        [wrk_rep(100, 2.0), wrk_rep(300, 1.0, non_2xx=5), wrk_rep(110, 3.0, socket=1)],
        ("non_2xx", "socket_errors"),
    )
    assert summary["repetitions"] == 3
    assert summary["flagged_repetitions"] == 2
    assert summary["non_2xx"] == 5
    assert summary["socket_errors"] == 1
    assert summary["throughput"] == 100  # the one clean repetition
    assert summary["latency_p50"] == 2.0


def test_only_errored_repetitions_give_no_figure_at_all():
    summary = summarise([wrk_rep(300, 1.0, non_2xx=5)], ("non_2xx", "socket_errors"))
    assert "throughput" not in summary
    assert summary["flagged_repetitions"] == 1


def test_compare_gives_wrk_over_locust_medians_and_flags_a_difference_over_10_percent():
    level = Level("flask", "default", 8)
    wrk = {level: [wrk_rep(90, 1.0), wrk_rep(100, 2.0), wrk_rep(130, 3.0)]}
    locust = {level: [{"throughput": 80, "latency_p50": 2.0, "failures": 0}]}
    (c,) = compare(wrk, locust)
    assert c.ratios == {"throughput": pytest.approx(1.25), "latency_p50": pytest.approx(1.0)}
    assert c.disagrees == ["throughput"]
    assert not c.flagged
    assert "DIFFER > 10%: throughput" in note(c)


def test_figures_within_10_percent_agree():
    level = Level("django", "default", 1)
    (c,) = compare(
        {level: [wrk_rep(105, 1.95)]}, {level: [{"throughput": 100, "latency_p50": 2.0}]}
    )
    assert c.disagrees == []


def test_a_level_locust_never_measured_has_no_ratio_and_no_locust_rows():
    (c,) = compare({Level("flask", "default", 3): [wrk_rep(100, 1.0)]}, {})
    assert c.ratios == {}
    rows = list(csv.DictReader(csv_text([c]).splitlines()))
    assert {r["tool"] for r in rows} == {"wrk"}
    assert "no Locust figures" in note(c)


# ---- against the stored fixture run --------------------------------------------------------


def read_csv(path: Path) -> dict[tuple, str]:
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        assert tuple(reader.fieldnames) == CSV_COLUMNS
        return {
            (r["deployment"], r["config"], int(r["users"]), r["tool"], r["metric"]): r["value"]
            for r in reader
        }


def test_locust_figures_of_the_fixture_are_its_api_single_repetitions():
    run = load_run(FIXTURE_RUN)
    locust = locust_repetitions(run.rows, run.model)
    reps = locust[Level("flask", "default", 1)]
    assert [r["throughput"] for r in reps] == [408.43, 408.06, 416.84]
    assert all(level.users in (1, 8) for level in locust)
    assert not any(level.deployment == "streamlit" for level in locust)


def test_comparison_with_the_fixture_run_is_written_as_a_tidy_csv(tmp_path):
    run_dir = tmp_path / "run"
    shutil.copytree(FIXTURE_RUN, run_dir)
    run = load_run(run_dir)
    level = Level("flask", "default", 1)
    # Locust's medians there: throughput 408.43/s, p50 2.31 ms.
    wrk = {level: [wrk_rep(816.86, 1.155), wrk_rep(800, 1.2, non_2xx=3)]}
    comparisons = compare(wrk, locust_repetitions(run.rows, run.model))
    atomic_write_text(run_dir / "crosscheck.csv", csv_text(comparisons))
    values = read_csv(run_dir / "crosscheck.csv")
    key = ("flask", "default", 1)
    assert float(values[(*key, "wrk/locust", "throughput")]) == pytest.approx(2.0)
    assert float(values[(*key, "wrk/locust", "latency_p50")]) == pytest.approx(0.5)
    assert values[(*key, "wrk/locust", "disagrees")] == "1"
    assert values[(*key, "wrk", "flagged_repetitions")] == "1"
    assert values[(*key, "wrk", "non_2xx")] == "3"
    assert float(values[(*key, "locust", "throughput")]) == pytest.approx(408.43)
    assert values[(*key, "locust", "repetitions")] == "3"
    assert not (FIXTURE_RUN / "crosscheck.csv").exists()


# ---- the command line ----------------------------------------------------------------------


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    crosscheck.add_arguments(parser)
    return parser.parse_args(argv)


def test_missing_wrk_is_a_usage_error_that_says_how_to_install_it(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert crosscheck.run(parse(["--run", str(FIXTURE_RUN)]), discover()) == 2
    assert "apt-get install wrk" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--run", "/nonexistent/run"], "not a readable stored run"),
        (["--run", str(FIXTURE_RUN), "--only", "streamlit"], "no api_single scenario"),
        (["--run", str(FIXTURE_RUN), "--configs", "nope"], "nothing to measure"),
    ],
)
def test_bad_input_is_a_clear_error_before_anything_starts(argv, message, capsys, monkeypatch):
    monkeypatch.setattr(crosscheck, "wrk_path", lambda: "/usr/bin/wrk")
    monkeypatch.setattr(crosscheck.lock, "exclusive", pytest.fail)  # never reached
    assert crosscheck.run(parse(argv), discover()) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["--levels", "0"], ["--repetitions", "x"], ["--window", "-1"]])
def test_bad_numbers_are_refused_by_the_parser(argv):
    with pytest.raises(SystemExit):
        parse(argv)


# ---- live ------------------------------------------------------------------------------------


@pytest.fixture
def bodies(tmp_path):
    pool = request_pool(load_model(name="iris-logreg"), 1)
    return write_bodies((json.dumps(item["body"]) for item in pool), tmp_path / "b.txt")


@pytest.mark.live
def test_wrk_measures_flask_without_errors(servers, bodies):
    _, loadgen_cores = split_cores()
    result = measure_wrk(servers.get("flask").base_url, 4, 2, bodies, loadgen_cores)
    assert result.throughput > 0
    assert result.non_2xx == 0
    assert result.socket_error_count == 0
    assert 0 < result.latency_ms["p50"] <= result.latency_ms["p99"]


@pytest.mark.live
def test_a_server_that_is_not_there_is_a_clear_wrk_error(bodies):
    port = free_port()  # nothing listens on it
    with pytest.raises(WrkError, match="unable to connect"):
        measure_wrk(f"http://127.0.0.1:{port}", 2, 1, bodies, split_cores()[1])


@pytest.mark.live
def test_crosscheck_of_the_fixture_run_measures_and_compares(tmp_path):
    run_dir = tmp_path / "run"
    shutil.copytree(FIXTURE_RUN, run_dir)
    run = load_run(run_dir)
    flask = select(discover(), ["flask"])[0]
    settings = Settings(
        levels=(1,), repetitions=1, window_s=1, warmup_s=0, ports={"flask": free_port()}
    )
    work = crosscheck.plan_levels([flask], run, settings)
    comparisons, measurements = crosscheck.crosscheck(run, work, settings)
    write_results(run_dir, comparisons, measurements, settings)
    values = read_csv(run_dir / "crosscheck.csv")
    assert float(values[("flask", "default", 1, "wrk", "throughput")]) > 0
    ratio = float(values[("flask", "default", 1, "wrk/locust", "throughput")])
    assert math.isfinite(ratio) and ratio > 0
    stored = json.loads((run_dir / "crosscheck.json").read_text())
    assert [m["users"] for m in stored["measurements"]] == [1]
    assert stored["tool"].startswith("wrk")
