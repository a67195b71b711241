"""Load the shared model (checksum verified, skops with an explicit trust list) and predict.

This module and `schema` are the only model code in the project: every deployment imports
`load_model` and `predict` from here.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import skops.io as sio

MODEL_NAME = "iris-logreg"
MODEL_VERSION = "1"
ARTIFACT_DIR = Path(__file__).resolve().parent / "artifacts"
# Overrides the artifact folder, e.g. to point a deployment at a tampered copy in a test.
ARTIFACT_DIR_ENV = "SHARED_MODEL_DIR"

# skops refuses to load any type not listed here; nothing is unpickled.
TRUSTED_TYPES = [
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.pipeline.Pipeline",
    "sklearn.preprocessing._data.StandardScaler",
]


class ModelIntegrityError(RuntimeError):
    """The artifact is missing, or its bytes are not the ones its metadata describes."""


@dataclass(frozen=True)
class LoadedModel:
    estimator: Any
    metadata: dict[str, Any]

    @cached_property
    def feature_names(self) -> list[str]:
        return [feature["name"] for feature in self.metadata["features"]]

    @cached_property
    def classes(self) -> list[str]:
        return list(self.metadata["classes"])

    @cached_property
    def summary(self) -> dict[str, str]:
        """What /health and every prediction response say about the model."""
        meta = self.metadata
        return {"name": meta["name"], "version": meta["version"], "sha256": meta["sha256"]}


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_model(artifact_dir: Path | str | None = None) -> LoadedModel:
    """Load the model after checking its sha256 against its metadata.

    Raises ModelIntegrityError with the reason when the artifact is missing or altered.
    """
    folder = Path(artifact_dir or os.environ.get(ARTIFACT_DIR_ENV) or ARTIFACT_DIR)
    metadata_path = folder / f"{MODEL_NAME}.json"
    try:
        metadata = json.loads(metadata_path.read_text())
        artifact = folder / metadata["artifact"]
        actual = sha256_of(artifact)
    except (OSError, ValueError, KeyError) as exc:
        raise ModelIntegrityError(
            f"cannot read the model from {folder}: {exc}. "
            "Run `python -m shared_model.train` to create it."
        ) from exc
    if actual != metadata["sha256"]:
        raise ModelIntegrityError(
            f"model artifact {artifact} has sha256 {actual}, but {metadata_path.name} "
            f"records {metadata['sha256']}: refusing to load a file that was altered or "
            "replaced. Restore it from git or retrain with `python -m shared_model.train`."
        )
    estimator = sio.load(artifact, trusted=TRUSTED_TYPES)
    return LoadedModel(estimator=estimator, metadata=metadata)


def predict(model: LoadedModel, instances: Sequence[Mapping[str, float]]) -> list[dict[str, Any]]:
    """Predict a label and class probabilities for validated instances (see schema.py)."""
    rows = np.array(
        [[instance[name] for name in model.feature_names] for instance in instances],
        dtype=np.float64,
    )
    probabilities = model.estimator.predict_proba(rows)
    class_ids = probabilities.argmax(axis=1)
    return [
        {
            "label": model.classes[class_id],
            "class_id": int(class_id),
            "probabilities": dict(zip(model.classes, map(float, row), strict=True)),
        }
        for class_id, row in zip(class_ids, probabilities, strict=True)
    ]
