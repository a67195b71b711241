"""The store's typed JSON files: each round-trips, and a missing field, a wrong type or an
unknown schema version is one StoreError that names the file and the field."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bench.store.crosscheck import load_crosscheck_info, write_crosscheck_info
from bench.store.inspections import load_inspections, write_inspections
from bench.store.records import StoreError
from bench.store.run_info import load_run_info, write_run_info
from bench.store.soak import load_soak, write_soak
from tests.store_samples import fixture_json, soak_document

Loader = Callable[[Path], Any]
Writer = Callable[[Path, Any], Any]
# name, loader, writer, a valid document, a required field's path, a typed field's path
KINDS = {
    "run.json": (load_run_info, write_run_info, lambda: fixture_json("run-quick-all/run.json"),
                 ("deployments", "flask", "levels_failed"), ("pinning", "server_cores")),
    "inspections.json": (
        load_inspections, write_inspections,
        lambda: fixture_json("run-quick-all/inspections.json"),
        ("probes", "flask", "default", "security"),
        ("probes", "flask", "default", "security", "loopback_only"),
    ),
    "soak.json": (load_soak, write_soak, soak_document, ("deployment", "port"), ("users",)),
    "crosscheck.json": (
        load_crosscheck_info, write_crosscheck_info,
        lambda: fixture_json("run-quick-all/crosscheck.json"),
        ("measurements", 0, "figures"), ("threads",),
    ),
}  # fmt: skip


def store(tmp_path: Path, name: str, data: Any) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def at(data: Any, where: tuple) -> tuple[Any, Any]:
    """The container holding the field at `where`, and the field's key."""
    for key in where[:-1]:
        data = data[key]
    return data, where[-1]


def dotted(where: tuple) -> str:
    return ".".join(map(str, where))


@pytest.fixture(params=sorted(KINDS))
def kind(request):
    return request.param, *KINDS[request.param]


def test_a_written_file_loads_back_as_written(tmp_path, kind):
    name, load, write, document, _, _ = kind
    data = document()
    data.pop("schema_version", None)  # the writer adds today's version
    written = write(tmp_path / name, data)
    loaded = load(tmp_path / name)
    assert loaded == written
    stored = json.loads((tmp_path / name).read_text())
    assert stored == {**data, "schema_version": stored["schema_version"]}
    assert isinstance(stored["schema_version"], int)


def test_a_missing_field_names_the_file_and_the_field(tmp_path, kind):
    name, load, _, document, required, _ = kind
    data = document()
    holder, key = at(data, required)
    del holder[key]
    path = store(tmp_path, name, data)
    with pytest.raises(StoreError) as caught:
        load(path)
    assert caught.value.path == path and caught.value.field == dotted(required)
    assert str(path) in str(caught.value) and dotted(required) in str(caught.value)


def test_a_wrong_type_names_the_file_and_the_field(tmp_path, kind):
    name, load, _, document, _, typed = kind
    data = document()
    holder, key = at(data, typed)
    holder[key] = {"not": "this"}
    path = store(tmp_path, name, data)
    with pytest.raises(StoreError) as caught:
        load(path)
    assert caught.value.field.startswith(dotted(typed))
    assert str(path) in str(caught.value)


@pytest.mark.parametrize("version", [99, "1", True, None])
def test_an_unknown_schema_version_is_refused(tmp_path, kind, version):
    name, load, _, document, _, _ = kind
    path = store(tmp_path, name, {**document(), "schema_version": version})
    with pytest.raises(StoreError) as caught:
        load(path)
    assert caught.value.field == "schema_version" and str(path) in str(caught.value)


def test_a_file_that_is_not_a_json_object_is_refused(tmp_path, kind):
    name, load, _, _, _, _ = kind
    (tmp_path / name).write_text("[1, 2")
    with pytest.raises(StoreError, match="is not JSON"):
        load(tmp_path / name)
    (tmp_path / name).write_text("[1, 2]")
    with pytest.raises(StoreError, match="not a JSON object"):
        load(tmp_path / name)


def test_the_writer_refuses_a_bad_document_and_keeps_the_old_file(tmp_path, kind):
    name, _, write, document, required, _ = kind
    write(tmp_path / name, document())
    before = (tmp_path / name).read_text()
    bad = copy.deepcopy(document())
    holder, key = at(bad, required)
    del holder[key]
    with pytest.raises(StoreError, match=dotted(required)):
        write(tmp_path / name, bad)
    with pytest.raises(StoreError, match="schema_version"):
        write(tmp_path / name, {**document(), "schema_version": 99})
    assert (tmp_path / name).read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


def test_keys_the_model_does_not_name_are_kept(tmp_path):
    data = {**fixture_json("run-quick-all/run.json"), "added_later": {"any": [1]}}
    write_run_info(tmp_path / "run.json", data)
    assert load_run_info(tmp_path / "run.json").as_dict()["added_later"] == {"any": [1]}


def test_a_crosscheck_json_stored_before_versions_is_read_as_version_1(tmp_path):
    data = fixture_json("run-quick-all/crosscheck.json")
    assert "schema_version" not in data
    assert load_crosscheck_info(store(tmp_path, "crosscheck.json", data)).schema_version == 1


def test_a_run_json_of_schema_1_still_loads():
    assert load_run_info(Path("tests/fixtures/run-quick/run.json")).schema_version == 1


def test_a_soak_minute_types_every_level_metric():
    from bench.store.soak import SoakMinute
    from bench.store.table import LEVEL_METRICS

    assert set(LEVEL_METRICS) <= set(SoakMinute.model_fields)


def test_the_slo_search_judges_with_the_store_s_allowances():
    from bench.measure import slo
    from bench.store import rules

    limits = slo.Slo(slo.API_SLO_MS)
    assert limits.failure_allowance == rules.FAILURE_ALLOWANCE
    assert limits.late_send_allowance == rules.LATE_SEND_ALLOWANCE
