import json
import shutil

import numpy as np
import pytest

from shared_model.model import (
    ARTIFACT_DIR,
    MODEL_NAME,
    ModelIntegrityError,
    load_model,
    predict,
    sha256_of,
)
from shared_model.train import train


def test_metadata_describes_the_artifact(model):
    meta = model.metadata
    assert meta["sha256"] == sha256_of(ARTIFACT_DIR / meta["artifact"])
    assert model.feature_names == [
        "sepal_length_cm",
        "sepal_width_cm",
        "petal_length_cm",
        "petal_width_cm",
    ]
    assert model.classes == ["setosa", "versicolor", "virginica"]
    assert 0.85 <= meta["test_accuracy"] <= 1.0
    for feature in meta["features"]:
        assert feature["min"] <= feature["default"] <= feature["max"]


def test_predict_returns_label_class_and_probabilities(model, good_row):
    [result] = predict(model, [good_row])
    assert result["label"] == model.classes[result["class_id"]]
    assert set(result["probabilities"]) == set(model.classes)
    assert sum(result["probabilities"].values()) == pytest.approx(1.0)
    assert max(result["probabilities"], key=result["probabilities"].get) == result["label"]


def test_a_known_flower_is_classified(model):
    setosa = {
        "sepal_length_cm": 5.1,
        "sepal_width_cm": 3.5,
        "petal_length_cm": 1.4,
        "petal_width_cm": 0.2,
    }
    virginica = {
        "sepal_length_cm": 6.9,
        "sepal_width_cm": 3.1,
        "petal_length_cm": 5.9,
        "petal_width_cm": 2.3,
    }
    assert [p["label"] for p in predict(model, [setosa, virginica])] == ["setosa", "virginica"]


def test_retraining_is_deterministic(tmp_path, model):
    train(tmp_path)
    again = load_model(tmp_path)
    committed = model.estimator[-1]
    np.testing.assert_array_equal(again.estimator[-1].coef_, committed.coef_)
    rows = [{name: float(i) for name in model.feature_names} for i in range(1, 8)]
    assert predict(again, rows) == predict(model, rows)
    retrained_meta = {k: v for k, v in again.metadata.items() if k != "sha256"}
    assert retrained_meta == {k: v for k, v in model.metadata.items() if k != "sha256"}


@pytest.fixture
def artifact_copy(tmp_path):
    for path in ARTIFACT_DIR.iterdir():
        shutil.copy(path, tmp_path / path.name)
    return tmp_path


def test_a_tampered_artifact_is_refused(artifact_copy):
    artifact = artifact_copy / f"{MODEL_NAME}.skops"
    artifact.write_bytes(artifact.read_bytes() + b"\0")
    with pytest.raises(ModelIntegrityError, match="refusing to load"):
        load_model(artifact_copy)


def test_a_mismatched_checksum_is_refused(artifact_copy):
    meta_path = artifact_copy / f"{MODEL_NAME}.json"
    meta = json.loads(meta_path.read_text())
    meta["sha256"] = "0" * 64
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(ModelIntegrityError, match="sha256"):
        load_model(artifact_copy)


def test_a_missing_artifact_says_how_to_make_it(tmp_path):
    with pytest.raises(ModelIntegrityError, match=r"shared_model\.train"):
        load_model(tmp_path)


def test_the_artifact_folder_can_come_from_the_environment(artifact_copy, monkeypatch):
    (artifact_copy / f"{MODEL_NAME}.skops").write_bytes(b"not a model")
    monkeypatch.setenv("SHARED_MODEL_DIR", str(artifact_copy))
    with pytest.raises(ModelIntegrityError):
        load_model()


class NotAModel:
    """Stands for any type that is not on the trust list."""

    def __init__(self) -> None:
        self.payload = "anything"


def test_a_type_outside_the_trust_list_is_refused_even_with_a_matching_checksum(artifact_copy):
    import skops.io as sio

    artifact = artifact_copy / f"{MODEL_NAME}.skops"
    sio.dump(NotAModel(), artifact)
    meta_path = artifact_copy / f"{MODEL_NAME}.json"
    meta = json.loads(meta_path.read_text())
    meta_path.write_text(json.dumps({**meta, "sha256": sha256_of(artifact)}))
    with pytest.raises(Exception, match="NotAModel"):
        load_model(artifact_copy)
