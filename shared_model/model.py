"""Load the shared model (checksum verified, skops with an explicit trust list) and predict.

This module and `schema` are the only model code in the project: every deployment imports
`load_model` and `predict` from here. The model is one of a few variants trained from the same
data (see VARIANTS); a deployment serves the one SHARED_MODEL_NAME names, by default iris-logreg.
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

DEFAULT_MODEL_NAME = "iris-logreg"
# The default variant's name, kept for the code that names the artifact it tampers with.
MODEL_NAME = DEFAULT_MODEL_NAME
MODEL_VERSION = "1"
ARTIFACT_DIR = Path(__file__).resolve().parent / "artifacts"
# Overrides the artifact folder, e.g. to point a deployment at a tampered copy in a test.
ARTIFACT_DIR_ENV = "SHARED_MODEL_DIR"
# Selects the variant a deployment serves, since deployments call load_model() without a name.
MODEL_NAME_ENV = "SHARED_MODEL_NAME"


@dataclass(frozen=True)
class ModelVariant:
    name: str
    # skops refuses to load any type that is neither on its own default list nor listed here;
    # nothing is unpickled. Each variant trusts only what its own artifact holds.
    trusted_types: tuple[str, ...]

    @property
    def artifact_name(self) -> str:
        return f"{self.name}.skops"

    @property
    def metadata_name(self) -> str:
        return f"{self.name}.json"


VARIANTS = {
    variant.name: variant
    for variant in (
        # A light model: predict_proba of one row is tens of microseconds.
        ModelVariant(
            "iris-logreg",
            (
                "sklearn.linear_model._logistic.LogisticRegression",
                "sklearn.pipeline.Pipeline",
                "sklearn.preprocessing._data.StandardScaler",
            ),
        ),
        # A heavy one: a random forest whose one-row predict_proba takes milliseconds, so that
        # the model, not the framework, dominates a request.
        ModelVariant("iris-forest", ("sklearn.tree._tree.Tree",)),
    )
}
MODEL_NAMES = tuple(VARIANTS)
# Every type some variant trusts.
TRUSTED_TYPES = sorted({name for v in VARIANTS.values() for name in v.trusted_types})


class ModelIntegrityError(RuntimeError):
    """The model is unknown, its artifact is missing, or its bytes are not the ones its
    metadata describes."""


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


def selected_variant(name: str | None = None) -> ModelVariant:
    """The variant called `name`, else the one SHARED_MODEL_NAME names, else the default."""
    chosen = name or os.environ.get(MODEL_NAME_ENV) or DEFAULT_MODEL_NAME
    try:
        return VARIANTS[chosen]
    except KeyError:
        source = "" if name else f" (from the environment variable {MODEL_NAME_ENV})"
        raise ModelIntegrityError(
            f"unknown model {chosen!r}{source}; known models: {', '.join(MODEL_NAMES)}"
        ) from None


def artifact_folder(artifact_dir: Path | str | None = None) -> Path:
    return Path(artifact_dir or os.environ.get(ARTIFACT_DIR_ENV) or ARTIFACT_DIR)


def read_metadata(artifact_dir: Path | str | None = None, name: str | None = None) -> dict:
    """The selected variant's metadata JSON, without loading (or checking) its artifact."""
    folder = artifact_folder(artifact_dir)
    path = folder / selected_variant(name).metadata_name
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ModelIntegrityError(
            f"cannot read the model metadata {path}: {exc}. "
            "Run `python -m shared_model.train` to create it."
        ) from exc


def load_model(artifact_dir: Path | str | None = None, name: str | None = None) -> LoadedModel:
    """Load a model variant after checking its sha256 against its metadata.

    `name` defaults to SHARED_MODEL_NAME, else iris-logreg; `artifact_dir` to SHARED_MODEL_DIR,
    else the committed artifacts. Raises ModelIntegrityError with the reason when the name is
    unknown or the artifact is missing or altered.
    """
    variant = selected_variant(name)
    folder = artifact_folder(artifact_dir)
    metadata_path = folder / variant.metadata_name
    try:
        metadata = json.loads(metadata_path.read_text())
        artifact = folder / metadata["artifact"]
        # Read once: the bytes checked are the bytes loaded (no file to swap in between).
        data = artifact.read_bytes()
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelIntegrityError(
            f"cannot read the model from {folder}: {exc}. "
            "Run `python -m shared_model.train` to create it."
        ) from exc
    if metadata.get("name") != variant.name:
        raise ModelIntegrityError(
            f"{metadata_path} describes model {metadata.get('name')!r}, not {variant.name!r}: "
            "refusing to serve a model under another model's name."
        )
    actual = hashlib.sha256(data).hexdigest()
    if actual != metadata["sha256"]:
        raise ModelIntegrityError(
            f"model artifact {artifact} has sha256 {actual}, but {metadata_path.name} "
            f"records {metadata['sha256']}: refusing to load a file that was altered or "
            "replaced. Restore it from git or retrain with `python -m shared_model.train`."
        )
    estimator = sio.loads(data, trusted=list(variant.trusted_types))
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
