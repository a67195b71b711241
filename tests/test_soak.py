"""`python -m bench soak`: the RSS trend and window arithmetic on synthetic data, the command's
refusals, and real soaks of Flask (complete, and interrupted by SIGINT)."""

from __future__ import annotations

import argparse
import csv
import json
import math
import random
import signal
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

import bench.cli.main as cli
from bench import PROJECT_ROOT
from bench.measure.rss_trend import rss_trend
from bench.measure.sampler import Sample
from bench.run.soak import check_choices
from bench.run.soak_arguments import add_arguments
from bench.run.soak_model import RSS_COLUMNS, SOAK_KEYS, window_lengths
from bench.run.soak_record import json_safe
from bench.targets.cores import available_cores
from bench.targets.manifest import ManifestError, discover, select
from bench.targets.servers import port_in_use
from tests.live import alive, free_port, own_lock_env, still_alive

MIB = 2**20


def samples(rss_mib, every_s=1.0, processes=2):
    return [
        Sample(1000.0 + i * every_s, 0.0, int(m * MIB), 4, processes) for i, m in enumerate(rss_mib)
    ]


def test_a_linear_growth_gives_its_slope_in_mib_per_hour():
    # 100 MiB, growing 6 MiB per hour, sampled every 10 s for an hour
    trend = rss_trend(samples([100 + 6 * i * 10 / 3600 for i in range(361)], every_s=10))
    assert trend.slope_mib_per_hour == pytest.approx(6.0)
    assert trend.slope_stderr_mib_per_hour == pytest.approx(0.0, abs=1e-6)  # bytes are whole
    assert (trend.start_mib, trend.end_mib) == (pytest.approx(100.0), pytest.approx(106.0))
    assert trend.growth_mib == pytest.approx(6.0)
    assert trend.growth_percent == pytest.approx(6.0)
    assert trend.samples == 361 and trend.span_s == pytest.approx(3600)


def test_a_flat_rss_has_no_slope_and_noise_does_not_make_one():
    flat = rss_trend(samples([80.0] * 30))
    assert flat.slope_mib_per_hour == 0 and flat.growth_mib == 0 and flat.growth_percent == 0
    rng = random.Random(1)
    noisy = rss_trend(samples([80 + rng.gauss(0, 0.5) for _ in range(600)]))
    # 10 minutes of noise: the fitted slope stays within a few standard errors of zero
    assert abs(noisy.slope_mib_per_hour) < 4 * noisy.slope_stderr_mib_per_hour


def test_a_leak_is_found_under_noise():
    rng = random.Random(2)
    rss = [200 + 30 * i / 3600 + rng.gauss(0, 1) for i in range(1800)]  # 30 MiB/h, 30 min
    trend = rss_trend(samples(rss))
    assert trend.slope_mib_per_hour == pytest.approx(30, rel=0.1)
    assert trend.slope_mib_per_hour > 10 * trend.slope_stderr_mib_per_hour


def test_samples_of_a_dead_server_are_left_out():
    trend = rss_trend([*samples([50.0, 51.0, 52.0]), *samples([0.0, 0.0], processes=0)])
    assert trend.end_mib == pytest.approx(52.0) and trend.samples == 3


def test_too_few_samples_give_growth_but_no_slope():
    assert rss_trend([]) is None
    assert rss_trend(samples([0.0], processes=0)) is None
    two = rss_trend(samples([10.0, 12.0]))
    assert two.growth_mib == pytest.approx(2.0) and two.growth_percent == pytest.approx(20.0)
    assert two.slope_mib_per_hour is None and two.slope_stderr_mib_per_hour is None


@pytest.mark.parametrize(
    ("total_s", "window_s", "expected"),
    [
        (15, 60, [15]),
        (600, 60, [60] * 10),
        (650, 60, [650 / 11] * 11),  # windows as near 60 s as whole ones covering 650 s allow
        (605, 60, [60.5] * 10),
        (15, 5, [5, 5, 5]),
        (17, 6, [17 / 3] * 3),
    ],
)
def test_the_soak_is_cut_into_windows(total_s, window_s, expected):
    assert window_lengths(total_s, window_s) == pytest.approx(expected)
    assert sum(window_lengths(total_s, window_s)) == pytest.approx(total_s)


def test_a_soak_without_duration_is_refused():
    with pytest.raises(ValueError, match="more than 0"):
        window_lengths(0)


def test_json_gets_null_for_what_was_not_measured():
    assert json_safe({"a": [math.nan, 1.0], "b": {"c": math.inf}}) == {
        "a": [None, 1.0],
        "b": {"c": None},
    }


def bench_soak(folder: Path, *args: str) -> subprocess.Popen:
    """`python -m bench soak ARGS --results FOLDER`, under a bench lock of its own."""
    return subprocess.Popen(
        [sys.executable, "-m", "bench", "soak", *args, "--results", str(folder)],
        cwd=PROJECT_ROOT, stderr=subprocess.PIPE, text=True, env=own_lock_env(folder),
    )  # fmt: skip


def soak_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="soak")
    add_arguments(parser)
    return parser


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["flask", "--minutes", "0"], "--minutes: must be more than 0"),
        (["flask", "--minutes", "nan"], "--minutes: not a finite number"),
        (["flask", "--users", "two"], "--users: not an integer"),
        (["flask", "--warmup", "-1"], "--warmup: must be 0 or more"),
        (["flask", "--port", "70000"], "a port is 1 to 65535"),
    ],
)
def test_bad_numbers_are_refused_with_the_option_named(capsys, args, message):
    with pytest.raises(SystemExit) as exit_:
        soak_parser().parse_args(args)
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


def test_a_config_or_scenario_the_manifest_lacks_is_refused():
    [flask] = select(discover(), ["flask"])
    with pytest.raises(ManifestError, match="flask has no config 'turbo'; it has"):
        check_choices(flask, "turbo", "api_single")
    with pytest.raises(ManifestError, match="does not support scenario 'ui_session'"):
        check_choices(flask, "default", "ui_session")


def test_the_command_exits_2_and_starts_nothing_on_a_bad_choice(tmp_path, capsys, monkeypatch):
    def refuse_to_start(*args, **kwargs):
        raise AssertionError(f"a process was started: {args[0] if args else kwargs}")

    monkeypatch.setattr(cli, "signals_as_interrupt", lambda: None)  # pytest's own stay
    monkeypatch.setattr(subprocess, "Popen", refuse_to_start)
    assert cli.main(["soak", "flask", "--config", "turbo", "--results", str(tmp_path)]) == 2
    assert "error: flask has no config 'turbo'" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def soak_folder(results: Path) -> Path:
    [folder] = (results / "soak").iterdir()
    return folder


def started_by(pid: int, seen: dict[psutil.Process, str]) -> None:
    """Add the processes below `pid` (server, Locust) to `seen`, with their command lines."""
    try:
        children = psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return
    for child in children:
        try:
            seen.setdefault(child, " ".join(child.cmdline()))
        except psutil.Error:
            continue


def assert_all_gone(seen: dict[psutil.Process, str], port: int) -> None:
    left = [seen[p] for p in still_alive(seen)]
    assert not left, f"left running: {left}"
    assert not port_in_use(port)
    loading = []
    for proc in psutil.process_iter(["cmdline"]):
        if f"127.0.0.1:{port}" in " ".join(proc.info["cmdline"] or ()) and alive(proc):
            loading.append(proc)
    assert not loading, f"Locust left running against port {port}: {loading}"


def read_rss_csv(folder: Path) -> list[dict[str, str]]:
    with (folder / "rss.csv").open(newline="") as handle:
        reader = csv.DictReader(handle)
        assert tuple(reader.fieldnames) == RSS_COLUMNS
        return list(reader)


@pytest.mark.live
def test_a_short_soak_of_flask_is_stored_whole(tmp_path):
    port = free_port()
    soak = bench_soak(
        tmp_path, "flask", "--minutes", "0.1", "--users", "4", "--window", "2", "--warmup", "1",
        "--port", str(port),
    )  # fmt: skip
    seen: dict[psutil.Process, str] = {}
    log = []
    try:
        for line in soak.stderr:
            log.append(line)
            started_by(soak.pid, seen)  # the server, and Locust while a window runs
        assert soak.wait(timeout=30) == 0, "".join(log)
    finally:
        if soak.poll() is None:
            soak.kill()
    assert any("gunicorn" in cmd for cmd in seen.values()), seen
    assert_all_gone(seen, port)

    folder = soak_folder(tmp_path)
    info = json.loads((folder / "soak.json").read_text())
    assert set(info) == set(SOAK_KEYS)
    assert info["status"] == "complete" and info["reason"] == ""
    assert info["deployment"]["name"] == "flask" and info["deployment"]["port"] == port
    assert (info["scenario"], info["users"]) == ("api_single", 4)
    # Three windows of 2 s, each ended at the first check (four a second) past its length.
    assert info["measured_s"] == pytest.approx(6, abs=1.0)
    assert [m["index"] for m in info["minutes"]] == [1, 2, 3]
    for minute in info["minutes"]:
        assert minute["interactions"] > 10 and minute["failures"] == 0
        assert minute["throughput"] > 0 and minute["latency_p99"] > 0
        assert (folder / minute["request_log"]).is_file()
    assert info["minutes"][0]["gap_s"] is None
    assert all(m["gap_s"] >= 0 for m in info["minutes"][1:])
    totals = info["totals"]
    assert totals["failures"] == 0 and totals["error_rate"] == 0
    assert totals["requests"] == sum(m["requests"] for m in info["minutes"])
    rss = info["rss"]
    # One sample a second of the measured windows (a slope needs three at least).
    assert rss["samples"] >= 3 and rss["start_mib"] > 10 and rss["end_mib"] > 10
    assert rss["growth_mib"] == pytest.approx(rss["end_mib"] - rss["start_mib"])
    assert isinstance(rss["slope_mib_per_hour"], float)
    assert info["pinning"]["server_cores"] and info["pinning"]["loadgen_cores"]
    if len(available_cores()) >= 2:  # a single core is shared, and the run records it
        assert set(info["pinning"]["server_cores"]).isdisjoint(info["pinning"]["loadgen_cores"])
    rows = read_rss_csv(folder)
    assert len(rows) >= rss["samples"] and float(rows[0]["elapsed_s"]) < 0  # warm-up included
    assert all(float(r["rss_mib"]) > 0 for r in rows)
    assert not list(folder.rglob(".*.tmp"))


@pytest.mark.live
def test_an_interrupted_soak_keeps_the_finished_windows_and_stops_everything(tmp_path):
    port = free_port()
    soak = bench_soak(
        tmp_path, "flask", "--minutes", "1", "--users", "4", "--window", "2", "--warmup", "1",
        "--port", str(port),
    )  # fmt: skip
    seen: dict[psutil.Process, str] = {}
    try:
        for line in soak.stderr:
            started_by(soak.pid, seen)
            if line.startswith("[2/"):  # two windows done; the third's Locust is starting
                break
        assert seen, "the soak started no process"
        soak.send_signal(signal.SIGINT)
        assert soak.wait(timeout=60) == 130
    finally:
        if soak.poll() is None:
            soak.kill()
    assert_all_gone(seen, port)

    folder = soak_folder(tmp_path)
    info = json.loads((folder / "soak.json").read_text())
    assert info["status"] == "interrupted" and "signal" in info["reason"]
    kept = [m["request_log"] for m in info["minutes"]]
    assert 2 <= len(kept) < 30
    # the one load run's log, whole (Locust was asked to quit and flushed it) and cut per window
    assert set(kept) == {"raw/load.requests.csv"} and (folder / kept[0]).is_file()
    assert info["rss"]["samples"] >= 2 and read_rss_csv(folder)
    assert info["totals"]["requests"] == sum(m["requests"] for m in info["minutes"])
    assert not list(folder.rglob(".*.tmp"))
