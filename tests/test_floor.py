import os

import pytest

from bench.load.scenarios import BATCH_SIZES
from bench.measure import floor
from bench.measure.floor import (
    DEFAULT_BATCH_SIZES,
    MEASURES,
    STATISTICS,
    WARMUP_CALLS,
    FloorError,
    as_table,
    measure_floor,
    measure_floor_document,
    summarize,
    time_calls,
)
from shared_model.model import MODEL_NAMES

# Short runs: these tests check the schema and the plumbing, not the figures.
QUICK = {"min_seconds": 0.05, "min_calls": 5}
CORE = min(os.sched_getaffinity(0))


def test_the_default_batch_sizes_are_the_scenarios():
    assert set(DEFAULT_BATCH_SIZES) == set(BATCH_SIZES.values()) == {1, 100}


@pytest.mark.parametrize("model_name", MODEL_NAMES)
def test_the_floor_of_each_variant_has_every_figure(model_name):
    document = measure_floor_document(model_name, [CORE], DEFAULT_BATCH_SIZES, **QUICK)
    assert document["model"]["name"] == model_name
    assert document["cores"] == [CORE]
    assert sorted(document["floor"]) == ["1", "100"]
    for figures in document["floor"].values():
        assert set(figures) == {f"{m}_{s}" for m in MEASURES for s in STATISTICS}
        for measure in MEASURES:
            assert figures[f"{measure}_calls"] >= QUICK["min_calls"]
            assert all(figures[f"{measure}_{s}"] > 0 for s in STATISTICS)
            assert (
                figures[f"{measure}_p10_ms"]
                <= figures[f"{measure}_median_ms"]
                <= figures[f"{measure}_p90_ms"]
            )


def fake_document(model_name="iris-forest"):
    figures = {f"{m}_{s}": 200 if s == "calls" else 1.5 for m in MEASURES for s in STATISTICS}
    return {
        "model": {"name": model_name, "version": "1", "sha256": "0" * 64},
        "cores": [CORE],
        "floor": {"1": figures, "100": figures},
    }


def test_measure_floor_keys_the_figures_by_batch_size(monkeypatch):
    monkeypatch.setattr(floor, "measure_floor_document", lambda *args, **kwargs: fake_document())
    result = measure_floor("iris-forest", [CORE], [1, 100])
    assert sorted(result) == [1, 100]
    assert result[100]["validate_and_predict_median_ms"] == 1.5


def test_the_table_has_a_line_per_batch_size_and_measure():
    text = as_table(fake_document())
    assert text.splitlines()[0] == f"iris-forest v1 on cores [{CORE}]"
    # heading, column names, rule, then the rows
    assert len(text.splitlines()) == 3 + 2 * len(MEASURES)
    assert "validate_and_predict" in text


def test_an_unknown_model_is_a_clear_error():
    with pytest.raises(FloorError, match="known models: iris-logreg"):
        measure_floor("iris-gpt", [CORE], [1], **QUICK)


@pytest.mark.parametrize(
    ("cores", "batch_sizes", "match"),
    [
        ([], [1], "cores"),
        ([-1], [1], "cores"),
        ([CORE], [0], "batch sizes"),
        ([CORE], [1001], "batch sizes"),
        ([CORE], [], "batch sizes"),
    ],
)
def test_bad_arguments_are_refused_before_measuring(cores, batch_sizes, match):
    with pytest.raises(FloorError, match=match):
        measure_floor("iris-logreg", cores, batch_sizes)


@pytest.mark.parametrize(
    ("min_seconds", "min_calls"), [(-1, 5), (float("nan"), 5), (1e999, 5), (0, 0)]
)
def test_a_bad_duration_or_call_count_is_refused(min_seconds, min_calls):
    with pytest.raises(FloorError, match="min_seconds"):
        measure_floor("iris-logreg", [CORE], [1], min_seconds=min_seconds, min_calls=min_calls)


def test_a_core_that_does_not_exist_is_a_clear_error():
    with pytest.raises(FloorError, match="cannot pin to cores"):
        measure_floor("iris-logreg", [4096], [1], **QUICK)


def test_summarize_gives_milliseconds_deciles_and_the_count():
    figures = summarize([i * 1_000_000 for i in range(1, 12)])  # 1 .. 11 ms
    assert figures == {
        "median_ms": 6.0,
        "p10_ms": 2.0,
        "p90_ms": 10.0,
        "mean_ms": 6.0,
        "calls": 11,
    }


def test_time_calls_warms_up_then_cycles_through_the_inputs():
    seen = []
    durations = time_calls(seen.append, ["a", "b", "c"], min_seconds=0, min_calls=7)
    assert len(durations) == 7
    assert all(d >= 0 for d in durations)
    # The timed calls carry on the cycle where the untimed warm-up left it.
    assert seen == [["a", "b", "c"][i % 3] for i in range(WARMUP_CALLS + 7)]


def test_time_calls_without_inputs_is_an_error():
    with pytest.raises(FloorError, match="no inputs"):
        time_calls(print, [], min_seconds=0, min_calls=1)
