import math

import numpy as np
import pytest

from bench.measure.metrics import (
    Request,
    Window,
    latency_percentiles,
    level_metrics,
    read_request_log,
)
from bench.measure.sampler import Sample, cpu_percent
from bench.store.table import COLUMNS, LEVEL_METRICS, Row, read_rows, write_rows


def requests_every(
    ms: float, start: float, count: int, name: str = "predict", ok: bool = True
) -> list[Request]:
    return [
        Request(start + i * ms / 1000, name, ms, ok, "" if ok else "CatchResponseError: wrong")
        for i in range(count)
    ]


def test_the_request_log_is_read(tmp_path):
    log = tmp_path / "x.requests.csv"
    lines = ["start,name,ms,ok,error", "100.5,predict,3.25,1,"]
    lines.append("100.6,submit,4,0,CatchResponseError: wrong")
    log.write_text("\n".join(lines) + "\n")
    assert read_request_log(log) == [
        Request(100.5, "predict", 3.25, True, ""),
        Request(100.6, "submit", 4.0, False, "CatchResponseError: wrong"),
    ]


def test_metrics_count_only_interactions_that_end_inside_the_window():
    warmup = requests_every(10, 999.0, 100)  # all end before the window
    inside = requests_every(10, 1000.0, 100)  # 100 requests of 10 ms, 1 s
    setup = [Request(1000.2, "page load", 50, True, "")]  # not an interaction
    failed = requests_every(10, 1000.5, 3, ok=False)
    server = [Sample(1000.0, 10.0, 100 * 2**20, 5, 2), Sample(1001.0, 10.5, 120 * 2**20, 6, 2)]
    loadgen = [Sample(1000.0, 1.0, 0, 1, 1), Sample(1001.0, 1.95, 0, 1, 1)]
    metrics = level_metrics(
        warmup + inside + setup + failed, Window(1000.0, 1001.0), server, loadgen
    )
    # The window's own flags come from the engine's WindowResult (bench.run.runner.window_flags).
    assert set(metrics) | {"window_steady", "window_capped"} == set(LEVEL_METRICS)
    assert metrics["interactions"] == 103
    assert metrics["failures"] == 3
    assert metrics["throughput"] == pytest.approx(100.0)  # failed interactions do not count
    assert metrics["latency_p50"] == pytest.approx(10.0)
    assert metrics["server_cpu"] == pytest.approx(50.0)
    assert (metrics["server_rss_mean"], metrics["server_rss_max"]) == (110.0, 120.0)
    assert metrics["loadgen_cpu"] == pytest.approx(95.0)
    assert metrics["loadgen_bound"] == 1.0


def test_percentiles_are_exact_not_rounded():
    result = latency_percentiles(np.arange(1, 1001, dtype=float) / 100)
    assert result["latency_p50"] == pytest.approx(5.005)
    assert result["latency_p99"] == pytest.approx(9.9001)
    assert result["latency_max"] == 10.0


def test_no_successful_interaction_gives_no_latency():
    assert all(math.isnan(v) for v in latency_percentiles(np.array([])).values())


def test_cpu_percent_needs_two_samples():
    assert math.isnan(cpu_percent([Sample(1.0, 1.0, 0, 0, 0)]))


def test_results_round_trip_through_the_tidy_table(tmp_path):
    rows = [Row("r1", "flask", "default", "api_single", 8, 1, "throughput", 950.5, "1/s")]
    path = tmp_path / "results.csv"
    write_rows(path, rows)
    assert path.read_text().splitlines()[0] == ",".join(COLUMNS)
    assert read_rows(path) == rows
    assert not list(tmp_path.glob(".*tmp"))  # the atomic write leaves no temporary file


def test_a_table_with_other_columns_is_refused(tmp_path):
    path = tmp_path / "results.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="columns"):
        read_rows(path)


def test_a_table_stored_before_the_model_column_reads_as_the_first_model(tmp_path):
    path = tmp_path / "results.csv"
    path.write_text(
        ",".join(COLUMNS[:-1]) + "\nr1,flask,default,api_single,8,1,throughput,950.5,1/s\n"
    )
    (row,) = read_rows(path)
    assert row.model == "iris-logreg"
    assert row.value == 950.5
