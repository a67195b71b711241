"""Deterministic request payloads drawn from the model's feature ranges, with their answers."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from bench.load.scenarios import BATCH_SIZES
from shared_model.model import LoadedModel, predict

SEED = 20220222  # the review's month of publication


def instances(model: LoadedModel, count: int, seed: int = SEED) -> list[dict[str, float]]:
    """`count` rows, each feature uniform in its training range, rounded as a form would send it."""
    rng = random.Random(seed)
    return [
        {f["name"]: round(rng.uniform(f["min"], f["max"]), 2) for f in model.metadata["features"]}
        for _ in range(count)
    ]


def canonical_instances(model: LoadedModel) -> list[dict[str, float]]:
    """The rows every deployment must answer identically: the defaults, the range corners, and
    a seeded sample."""
    features = model.metadata["features"]
    return [
        {f["name"]: f["default"] for f in features},
        {f["name"]: f["min"] for f in features},
        {f["name"]: f["max"] for f in features},
        *instances(model, 7),
    ]


def request_pool(
    model: LoadedModel, batch_size: int, pool_size: int = 64, seed: int = SEED
) -> list[dict[str, Any]]:
    """Precomputed bodies with their expected predictions, so the load generator spends no CPU
    on the model while it measures."""
    rng = random.Random(seed)
    pool = []
    for _ in range(pool_size):
        rows = instances(model, batch_size, seed=rng.randrange(2**32))
        pool.append({"body": {"instances": rows}, "expected": predict(model, rows)})
    return pool


def write_payload_file(model: LoadedModel, path: Path, corrupt_expected: bool = False) -> None:
    """The pools every scenario draws from, by batch size, for the load generator to read.

    corrupt_expected makes every expected answer name the wrong class: a self-test of the
    scenarios' checks, under which every interaction must fail.
    """
    pools = {}
    for batch_size in sorted(set(BATCH_SIZES.values())):
        pool = request_pool(model, batch_size)
        if corrupt_expected:
            for item in pool:
                item["expected"] = [_wrong_class(p, model.classes) for p in item["expected"]]
        pools[str(batch_size)] = pool
    path.write_text(json.dumps(pools))


def _wrong_class(prediction: dict[str, Any], classes: list[str]) -> dict[str, Any]:
    wrong = (prediction["class_id"] + 1) % len(classes)
    return {**prediction, "class_id": wrong, "label": classes[wrong]}
