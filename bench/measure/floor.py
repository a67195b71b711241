"""The physical floor: how long the model itself takes, in-process, with no framework around it.

    python -m bench.measure.floor --model iris-forest --cores 0 --json

Times, for each batch size, two calls on the request bodies the load generator sends
(bench.clients.payloads.request_pool): "predict" is shared_model.predict() on rows already
validated, the one call every deployment makes to get its answer; "validate_and_predict" is the
shared validator (schema.validate_request) on the decoded body, then predict(). A deployment's
latency can get no lower than these. The measuring process is pinned to the given cores before
it imports numpy or scikit-learn, as a deployment is pinned before it starts, so that their
thread pools see the same cores.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from bench import PROJECT_ROOT
from bench.cli.console import table
from bench.cli.json_command import json_from
from bench.load.scenarios import BATCH_SIZES
from bench.targets.manifest import project_pythonpath
from shared_model.model import MODEL_NAMES
from shared_model.schema import MAX_INSTANCES, MIN_INSTANCES

MEASURES = ("predict", "validate_and_predict")
STATISTICS = ("median_ms", "p10_ms", "p90_ms", "mean_ms", "calls")
DEFAULT_BATCH_SIZES = tuple(sorted(set(BATCH_SIZES.values())))
# Each measure runs until it has both: enough calls for its percentiles, and enough time to
# span the timer's and the scheduler's hiccups.
MIN_CALLS = 200
MIN_SECONDS = 1.0
# Untimed calls first: the first ones fill caches and scikit-learn's lazily built state.
WARMUP_CALLS = 20
# Distinct bodies cycled through, so that no single row's path through a tree is all we time.
POOL_SIZE = 16
SUBPROCESS_TIMEOUT_S = 600
EXIT_USAGE = 2


class FloorError(RuntimeError):
    """The floor could not be measured: bad arguments, or the measuring process failed."""


def measure_floor(
    model_name: str,
    cores: Sequence[int],
    batch_sizes: Sequence[int] = DEFAULT_BATCH_SIZES,
    *,
    min_seconds: float = MIN_SECONDS,
    min_calls: int = MIN_CALLS,
) -> dict[int, dict[str, float]]:
    """The floor of one model variant, measured in a subprocess pinned to `cores`.

    Returns, by batch size, "<measure>_<statistic>" for each measure in MEASURES and statistic
    in STATISTICS, e.g. result[1]["predict_median_ms"] or result[100]["validate_and_predict_calls"].
    """
    document = measure_floor_document(
        model_name, cores, batch_sizes, min_seconds=min_seconds, min_calls=min_calls
    )
    return {int(size): figures for size, figures in document["floor"].items()}


def measure_floor_document(
    model_name: str,
    cores: Sequence[int],
    batch_sizes: Sequence[int] = DEFAULT_BATCH_SIZES,
    *,
    min_seconds: float = MIN_SECONDS,
    min_calls: int = MIN_CALLS,
) -> dict[str, Any]:
    """What `python -m bench.measure.floor --json` prints: the floor with the model and cores it
    used."""
    _check_arguments(cores, batch_sizes, min_seconds, min_calls)
    if model_name not in MODEL_NAMES:  # before a process is spent finding it out
        raise FloorError(f"unknown model {model_name!r}; known models: {', '.join(MODEL_NAMES)}")
    argv = [
        sys.executable,
        "-m",
        "bench.measure.floor",
        "--model",
        model_name,
        "--cores",
        ",".join(map(str, cores)),
        "--batch-sizes",
        ",".join(map(str, batch_sizes)),
        "--min-seconds",
        str(min_seconds),
        "--min-calls",
        str(min_calls),
        "--json",
    ]
    env = {**os.environ, "PYTHONPATH": project_pythonpath()}
    what = f"measuring the floor of {model_name}"
    return json_from(argv, what, FloorError, SUBPROCESS_TIMEOUT_S, cwd=PROJECT_ROOT, env=env)


def _check_arguments(
    cores: Sequence[int], batch_sizes: Sequence[int], min_seconds: float, min_calls: int
) -> None:
    if not cores or any(isinstance(c, bool) or not isinstance(c, int) or c < 0 for c in cores):
        raise FloorError(f"cores must be a non-empty list of core numbers, got {list(cores)}")
    if not batch_sizes or any(
        isinstance(size, bool)
        or not isinstance(size, int)
        or not MIN_INSTANCES <= size <= MAX_INSTANCES
        for size in batch_sizes
    ):
        raise FloorError(
            f"batch sizes must be {MIN_INSTANCES} to {MAX_INSTANCES} rows (the contract's "
            f"limits), got {list(batch_sizes)}"
        )
    if not 0 <= min_seconds < math.inf or min_calls < 1:
        raise FloorError(
            f"min_seconds must be finite and >= 0, and min_calls >= 1, got {min_seconds} and "
            f"{min_calls}"
        )


# -- in the measuring process ----------------------------------------------------------------


def floor_in_process(
    model_name: str, batch_sizes: Sequence[int], min_seconds: float, min_calls: int
) -> dict[str, Any]:
    """Measure in this process, which the caller has pinned already."""
    # Imported here, after pinning: numpy's and OpenBLAS's thread pools size themselves on
    # import from the cores the process may use.
    from bench.clients.payloads import request_pool
    from shared_model.model import ModelIntegrityError, load_model, predict
    from shared_model.schema import validate_request

    try:
        model = load_model(name=model_name)
    except ModelIntegrityError as exc:
        raise FloorError(str(exc)) from exc
    floor = {}
    for batch_size in batch_sizes:
        bodies = [item["body"] for item in request_pool(model, batch_size, POOL_SIZE)]
        validated = [validate_request(body, model.feature_names) for body in bodies]
        calls: dict[str, tuple[Callable[[Any], object], list[Any]]] = {
            "predict": (lambda rows: predict(model, rows), validated),
            "validate_and_predict": (
                lambda body: predict(model, validate_request(body, model.feature_names)),
                bodies,
            ),
        }
        figures: dict[str, float] = {}
        for measure, (call, inputs) in calls.items():
            durations = time_calls(call, inputs, min_seconds, min_calls)
            figures.update({f"{measure}_{k}": v for k, v in summarize(durations).items()})
        floor[str(batch_size)] = figures
    return {
        "model": model.summary,
        "cores": sorted(os.sched_getaffinity(0)),
        "min_seconds": min_seconds,
        "min_calls": min_calls,
        "warmup_calls": WARMUP_CALLS,
        "floor": floor,
    }


def time_calls(
    call: Callable[[Any], object], inputs: Iterable[Any], min_seconds: float, min_calls: int
) -> list[int]:
    """Nanoseconds of each timed call, cycling through `inputs`, after WARMUP_CALLS untimed."""
    cycled = itertools.cycle(inputs)
    for argument in itertools.islice(cycled, WARMUP_CALLS):
        call(argument)
    durations: list[int] = []
    deadline = time.perf_counter_ns() + int(min_seconds * 1e9)
    for argument in cycled:
        started = time.perf_counter_ns()
        call(argument)
        ended = time.perf_counter_ns()
        durations.append(ended - started)
        if len(durations) >= min_calls and ended >= deadline:
            return durations
    raise FloorError("no inputs to time the calls with")


def summarize(durations_ns: Sequence[int]) -> dict[str, float]:
    ms = [d / 1e6 for d in durations_ns]
    deciles = statistics.quantiles(ms, n=10, method="inclusive") if len(ms) > 1 else ms * 9
    return {
        "median_ms": statistics.median(ms),
        "p10_ms": deciles[0],
        "p90_ms": deciles[-1],
        "mean_ms": statistics.fmean(ms),
        "calls": len(ms),
    }


def _int_list(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers, got {text!r}"
        ) from None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.measure.floor", description=__doc__)
    parser.add_argument("--model", required=True, help="model variant, e.g. iris-forest")
    parser.add_argument(
        "--cores", type=_int_list, required=True, help="cores to pin to, e.g. 0 or 0,1"
    )
    parser.add_argument(
        "--batch-sizes",
        type=_int_list,
        default=list(DEFAULT_BATCH_SIZES),
        help=f"rows per call, comma-separated (default: {','.join(map(str, DEFAULT_BATCH_SIZES))})",
    )
    parser.add_argument("--min-seconds", type=float, default=MIN_SECONDS)
    parser.add_argument("--min-calls", type=int, default=MIN_CALLS)
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    try:
        _check_arguments(args.cores, args.batch_sizes, args.min_seconds, args.min_calls)
        _pin(args.cores)
        document = floor_in_process(args.model, args.batch_sizes, args.min_seconds, args.min_calls)
    except FloorError as exc:
        print(f"bench.measure.floor: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.json:
        print(json.dumps(document, indent=2))
    else:
        print(as_table(document))
    return 0


def _pin(cores: Sequence[int]) -> None:
    try:
        os.sched_setaffinity(0, cores)
    except OSError as exc:
        raise FloorError(f"cannot pin to cores {list(cores)}: {exc}") from exc


def as_table(document: dict[str, Any]) -> str:
    """The floor as a terminal table, one line per batch size and measure."""
    model = document["model"]
    rows = [
        [size, measure]
        + [
            f"{figures[f'{measure}_{s}']:.3f}" if s != "calls" else figures[f"{measure}_{s}"]
            for s in STATISTICS
        ]
        for size, figures in document["floor"].items()
        for measure in MEASURES
    ]
    heading = f"{model['name']} v{model['version']} on cores {document['cores']}"
    return heading + "\n" + table(["rows", "measure", *STATISTICS], rows)


if __name__ == "__main__":
    sys.exit(main())
