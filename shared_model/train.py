"""Train the shared model variants deterministically and write each in skops format with its
metadata.

    python -m shared_model.train                      # every variant, into shared_model/artifacts/
    python -m shared_model.train --model iris-forest  # one: iris-forest.{skops,json}

The data set ships inside scikit-learn (no download). Every variant uses the same features,
classes, split and seed; seeds are fixed, so a retrain gives the same parameters and the same
predictions; the artifact's bytes may differ (the zip container records a timestamp), which is
why the checksum lives beside it in the metadata.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import numpy as np
import skops.io as sio
from sklearn.base import ClassifierMixin
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import Bunch

from shared_model.model import ARTIFACT_DIR, MODEL_NAMES, MODEL_VERSION, VARIANTS

# JSON keys and form field names: the data set's own names contain spaces and parentheses.
FEATURE_NAMES = ["sepal_length_cm", "sepal_width_cm", "petal_length_cm", "petal_width_cm"]
SEED = 42
# Chosen so that predict_proba of one row takes ~4 ms on one core of the benchmark machine
# (each tree is walked in turn: the cost grows linearly with the count).
FOREST_TREES = 100


@dataclass(frozen=True)
class Recipe:
    build: Callable[[], ClassifierMixin]
    description: str


RECIPES = {
    "iris-logreg": Recipe(
        lambda: make_pipeline(
            StandardScaler(), LogisticRegression(max_iter=1000, random_state=SEED)
        ),
        "StandardScaler + LogisticRegression",
    ),
    "iris-forest": Recipe(
        # n_jobs=1: a request is served on one core; joblib's threads would only add overhead.
        lambda: RandomForestClassifier(n_estimators=FOREST_TREES, n_jobs=1, random_state=SEED),
        f"RandomForestClassifier ({FOREST_TREES} trees, n_jobs=1)",
    ),
}


def train(out_dir: Path = ARTIFACT_DIR, name: str = MODEL_NAMES[0]) -> dict:
    """Fit, evaluate and save one variant; return its metadata."""
    variant, recipe = VARIANTS[name], RECIPES[name]
    data = load_iris()
    x_train, x_test, y_train, y_test = split(data)
    estimator = recipe.build().fit(x_train, y_train)
    untrusted = set(sio.get_untrusted_types(data=sio.dumps(estimator)))
    missing = sorted(untrusted - set(variant.trusted_types))
    if missing:
        raise SystemExit(
            f"{name} holds types missing from its trust list (shared_model.model): {missing}"
        )

    out_dir.mkdir(parents=True, exist_ok=True)
    artifact = out_dir / variant.artifact_name
    # Deflated: a forest's many small arrays shrink about tenfold, and load faster.
    sio.dump(estimator, artifact, compression=zipfile.ZIP_DEFLATED, compresslevel=9)
    metadata = {
        "name": name,
        "version": MODEL_VERSION,
        "artifact": artifact.name,
        "sha256": hashlib.sha256(artifact.read_bytes()).hexdigest(),
        "dataset": "sklearn.datasets.load_iris (ships with scikit-learn)",
        "estimator": recipe.description,
        "seed": SEED,
        "features": [
            _feature_summary(feature, data.data[:, i]) for i, feature in enumerate(FEATURE_NAMES)
        ],
        "classes": [str(label) for label in data.target_names],
        "test_accuracy": round(float(estimator.score(x_test, y_test)), 4),
        "train_rows": len(x_train),
        "test_rows": len(x_test),
        "versions": {
            "python": platform.python_version(),
            **{pkg: version(pkg) for pkg in ("scikit-learn", "numpy", "skops")},
        },
    }
    (out_dir / variant.metadata_name).write_text(json.dumps(metadata, indent=2) + "\n")
    return metadata


def split(data: Bunch | None = None) -> list[np.ndarray]:
    """The fixed train/test split: x_train, x_test, y_train, y_test."""
    data = data or load_iris()
    return train_test_split(
        data.data, data.target, test_size=0.25, random_state=SEED, stratify=data.target
    )


def _feature_summary(name: str, column: np.ndarray) -> dict:
    return {
        "name": name,
        "min": float(column.min()),
        "max": float(column.max()),
        # The form's default value, the same in the HTML form and in Streamlit.
        "default": round(float(np.median(column)), 1),
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ARTIFACT_DIR, help="artifact folder")
    parser.add_argument(
        "--model",
        choices=MODEL_NAMES,
        action="append",
        help="variant to train (repeatable; default: every variant)",
    )
    args = parser.parse_args(argv)
    for name in args.model or MODEL_NAMES:
        metadata = train(args.out, name)
        print(
            f"trained {metadata['name']} v{metadata['version']}: test accuracy "
            f"{metadata['test_accuracy']:.3f}, sha256 {metadata['sha256'][:12]}… -> {args.out}"
        )


if __name__ == "__main__":
    main()
