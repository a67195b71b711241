"""Train the shared model deterministically and write it in skops format with its metadata.

    python -m shared_model.train            # writes shared_model/artifacts/iris-logreg.{skops,json}

The data set ships inside scikit-learn (no download). Seeds are fixed, so a retrain gives the
same parameters and the same predictions; the artifact's bytes may differ (the zip container
records a timestamp), which is why the checksum lives beside it in the metadata.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
from importlib.metadata import version
from pathlib import Path

import numpy as np
import skops.io as sio
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from shared_model.model import ARTIFACT_DIR, MODEL_NAME, MODEL_VERSION, TRUSTED_TYPES

# JSON keys and form field names: the data set's own names contain spaces and parentheses.
FEATURE_NAMES = ["sepal_length_cm", "sepal_width_cm", "petal_length_cm", "petal_width_cm"]
SEED = 42


def build_estimator() -> Pipeline:
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000, random_state=SEED))


def train(out_dir: Path = ARTIFACT_DIR) -> dict:
    """Fit, evaluate and save the model; return its metadata."""
    data = load_iris()
    x_train, x_test, y_train, y_test = train_test_split(
        data.data, data.target, test_size=0.25, random_state=SEED, stratify=data.target
    )
    estimator = build_estimator().fit(x_train, y_train)
    untrusted = set(sio.get_untrusted_types(data=sio.dumps(estimator))) - set(TRUSTED_TYPES)
    if untrusted:
        raise SystemExit(f"the estimator holds types not in TRUSTED_TYPES: {sorted(untrusted)}")

    out_dir.mkdir(parents=True, exist_ok=True)
    artifact = out_dir / f"{MODEL_NAME}.skops"
    sio.dump(estimator, artifact)
    metadata = {
        "name": MODEL_NAME,
        "version": MODEL_VERSION,
        "artifact": artifact.name,
        "sha256": hashlib.sha256(artifact.read_bytes()).hexdigest(),
        "dataset": "sklearn.datasets.load_iris (ships with scikit-learn)",
        "estimator": "StandardScaler + LogisticRegression",
        "seed": SEED,
        "features": [
            _feature_summary(name, data.data[:, i]) for i, name in enumerate(FEATURE_NAMES)
        ],
        "classes": [str(name) for name in data.target_names],
        "test_accuracy": round(float(estimator.score(x_test, y_test)), 4),
        "train_rows": len(x_train),
        "test_rows": len(x_test),
        "versions": {
            "python": platform.python_version(),
            **{pkg: version(pkg) for pkg in ("scikit-learn", "numpy", "skops")},
        },
    }
    (out_dir / f"{MODEL_NAME}.json").write_text(json.dumps(metadata, indent=2) + "\n")
    return metadata


def _feature_summary(name: str, column: np.ndarray) -> dict:
    return {
        "name": name,
        "min": float(column.min()),
        "max": float(column.max()),
        # The form's default value, the same in the HTML form and in Streamlit.
        "default": round(float(np.median(column)), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ARTIFACT_DIR, help="artifact folder")
    args = parser.parse_args()
    metadata = train(args.out)
    print(
        f"trained {metadata['name']} v{metadata['version']}: test accuracy "
        f"{metadata['test_accuracy']:.3f}, sha256 {metadata['sha256'][:12]}… -> {args.out}"
    )


if __name__ == "__main__":
    main()
