import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import skops.io as sio

from bench.clients.payloads import canonical_instances
from shared_model.model import (
    ARTIFACT_DIR,
    DEFAULT_MODEL_NAME,
    MODEL_NAME,
    MODEL_NAME_ENV,
    MODEL_NAMES,
    TRUSTED_TYPES,
    VARIANTS,
    ModelIntegrityError,
    load_model,
    predict,
    sha256_of,
)
from shared_model.train import RECIPES, split, train
from shared_model.train import main as train_main
from tests.contract_cases import assert_same_answers


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


# Retraining must give the same model on any machine, but not the same bits: BLAS kernels differ
# between CPUs (OPENBLAS_CORETYPE among them) in the last bits of a float (9e-16 seen). Labels
# and classes must be identical; coefficients agree to RTOL, probabilities to PROBA_ATOL
# (tests/contract_cases.py).
RTOL, ATOL = 1e-9, 1e-12


def held_out_rows(model) -> list[dict[str, float]]:
    _, x_test, _, _ = split()
    return [dict(zip(model.feature_names, map(float, x), strict=True)) for x in x_test]


def comparable(metadata: dict) -> dict:
    """The metadata that must not depend on the machine: not the artifact's bytes (its
    sha256), nor the interpreter's patch release (not locked; the packages are)."""
    versions = {k: v for k, v in metadata["versions"].items() if k != "python"}
    return {**{k: v for k, v in metadata.items() if k != "sha256"}, "versions": versions}


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_retraining_is_deterministic(tmp_path, name):
    committed = load_model(name=name)
    metadata = train(tmp_path, name)
    again = load_model(tmp_path, name=name)
    rows = held_out_rows(committed) + canonical_instances(committed)
    assert_same_answers(predict(again, rows), predict(committed, rows))
    assert comparable(metadata) == comparable(committed.metadata)
    assert comparable(again.metadata) == comparable(committed.metadata)


def test_retrained_coefficients_agree_within_the_stated_tolerance(tmp_path, model):
    train(tmp_path)
    again = load_model(tmp_path).estimator[-1]
    committed = model.estimator[-1]
    np.testing.assert_allclose(again.coef_, committed.coef_, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(again.intercept_, committed.intercept_, rtol=RTOL, atol=ATOL)


def test_a_changed_model_fails_the_determinism_check(model):
    """The checks above can fail: another seed's forest answers differently on held-out rows."""
    forest = load_model(name="iris-forest")
    rows = held_out_rows(model)
    with pytest.raises(AssertionError):
        assert_same_answers(predict(forest, rows), predict(model, rows))


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


def test_the_bytes_loaded_are_the_bytes_checked(artifact_copy, monkeypatch):
    """The artifact is read once: a file swapped after the check (here, as soon as it has been
    read) cannot be what is loaded, and skops loads exactly the bytes whose sha256 matched."""
    artifact = artifact_copy / f"{MODEL_NAME}.skops"
    expected = json.loads((artifact_copy / f"{MODEL_NAME}.json").read_text())["sha256"]
    reads, loaded = [], []
    real_read_bytes, real_loads = Path.read_bytes, sio.loads

    def read_then_swap(path):
        data = real_read_bytes(path)
        if path == artifact:
            reads.append(path)
            sio.dump(NotAModel(), artifact)  # the swap an attacker would make after the check
        return data

    monkeypatch.setattr(Path, "read_bytes", read_then_swap)
    monkeypatch.setattr(sio, "loads", lambda data, trusted: loaded.append(data) or real_loads(
        data, trusted=trusted))  # fmt: skip
    monkeypatch.setattr(sio, "load", lambda *a, **k: pytest.fail("the file was read again"))
    swapped = load_model(artifact_copy)
    assert len(reads) == 1
    assert [hashlib.sha256(data).hexdigest() for data in loaded] == [expected]
    rows = canonical_instances(swapped)
    assert_same_answers(predict(swapped, rows), predict(load_model(), rows))


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
    artifact = artifact_copy / f"{MODEL_NAME}.skops"
    sio.dump(NotAModel(), artifact)
    meta_path = artifact_copy / f"{MODEL_NAME}.json"
    meta = json.loads(meta_path.read_text())
    meta_path.write_text(json.dumps({**meta, "sha256": sha256_of(artifact)}))
    with pytest.raises(Exception, match="NotAModel"):
        load_model(artifact_copy)


# -- model variants ------------------------------------------------------------------------------


@pytest.fixture(params=MODEL_NAMES)
def variant(request):
    return VARIANTS[request.param]


def test_a_variant_is_selected_by_argument(variant):
    loaded = load_model(name=variant.name)
    assert loaded.summary["name"] == variant.name
    assert loaded.metadata["artifact"] == variant.artifact_name


def test_a_variant_is_selected_by_the_environment_and_an_argument_overrides_it(monkeypatch):
    monkeypatch.setenv(MODEL_NAME_ENV, "iris-forest")
    assert load_model().summary["name"] == "iris-forest"
    assert load_model(name="iris-logreg").summary["name"] == "iris-logreg"


def test_the_default_variant_is_the_logistic_regression(monkeypatch):
    monkeypatch.delenv(MODEL_NAME_ENV, raising=False)
    assert load_model().summary["name"] == DEFAULT_MODEL_NAME == "iris-logreg"


def test_an_unknown_variant_names_the_known_ones(monkeypatch):
    with pytest.raises(ModelIntegrityError, match="'iris-gpt'; known models: iris-logreg, iris"):
        load_model(name="iris-gpt")
    monkeypatch.setenv(MODEL_NAME_ENV, "iris-gpt")
    with pytest.raises(ModelIntegrityError, match=f"environment variable {MODEL_NAME_ENV}"):
        load_model()


def test_each_variant_predicts_valid_answers_the_same_way_after_each_load(variant):
    first, second = load_model(name=variant.name), load_model(name=variant.name)
    rows = canonical_instances(first)
    results = predict(first, rows)
    assert_same_answers(predict(second, rows), results)
    for result in results:
        assert result["label"] == first.classes[result["class_id"]]
        assert sum(result["probabilities"].values()) == pytest.approx(1.0)
        assert max(result["probabilities"], key=result["probabilities"].get) == result["label"]


def test_the_variants_differ_in_their_answers_not_in_their_inputs(model):
    forest = load_model(name="iris-forest")
    # The form's defaults and ranges come from the metadata: they must not depend on the variant.
    for key in ("features", "classes", "dataset", "seed", "train_rows", "test_rows", "version"):
        assert forest.metadata[key] == model.metadata[key], key
    rows = canonical_instances(model)
    assert predict(forest, rows) != predict(model, rows)


def test_the_training_command_trains_only_the_variant_asked_for(tmp_path):
    train_main(["--out", str(tmp_path), "--model", "iris-forest"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["iris-forest.json", "iris-forest.skops"]
    assert set(RECIPES) == set(MODEL_NAMES)


def test_a_tampered_variant_is_refused_and_the_other_is_not_affected(variant, artifact_copy):
    artifact = artifact_copy / variant.artifact_name
    data = bytearray(artifact.read_bytes())
    data[len(data) // 2] ^= 0xFF
    artifact.write_bytes(data)
    with pytest.raises(ModelIntegrityError, match="refusing to load"):
        load_model(artifact_copy, name=variant.name)
    # Each variant checks only its own file: a probe must tamper with the one it selects.
    [other] = set(MODEL_NAMES) - {variant.name}
    assert load_model(artifact_copy, name=other).summary["name"] == other


def test_a_variant_selected_by_the_environment_is_checked_too(artifact_copy, monkeypatch):
    (artifact_copy / "iris-forest.skops").write_bytes(b"not a model")
    monkeypatch.setenv("SHARED_MODEL_DIR", str(artifact_copy))
    monkeypatch.setenv(MODEL_NAME_ENV, "iris-forest")
    with pytest.raises(ModelIntegrityError, match="refusing to load"):
        load_model()


def test_a_variant_served_under_another_name_is_refused(artifact_copy):
    shutil.copy(artifact_copy / "iris-logreg.json", artifact_copy / "iris-forest.json")
    with pytest.raises(ModelIntegrityError, match="describes model 'iris-logreg'"):
        load_model(artifact_copy, name="iris-forest")


def test_each_trust_list_covers_its_artifact_and_the_forest_list_is_exact(variant):
    untrusted = sio.get_untrusted_types(file=ARTIFACT_DIR / variant.artifact_name)
    assert set(untrusted) <= set(variant.trusted_types)
    assert set(VARIANTS["iris-forest"].trusted_types) == set(
        sio.get_untrusted_types(file=ARTIFACT_DIR / "iris-forest.skops")
    )
    assert set(TRUSTED_TYPES) == {t for v in VARIANTS.values() for t in v.trusted_types}


def test_a_variant_does_not_load_under_another_variants_trust_list():
    with pytest.raises(sio.exceptions.UntrustedTypesFoundException, match="Tree"):
        sio.load(
            ARTIFACT_DIR / "iris-forest.skops",
            trusted=list(VARIANTS["iris-logreg"].trusted_types),
        )
