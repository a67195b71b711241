"""The results store's files: safe run ids, atomic writes, and where `latest` points."""

from __future__ import annotations

import json
import os
import tempfile

import pytest

from bench.store import files as results
from bench.store.files import atomic_write_text, write_json
from bench.store.runs import RunIdError, check_run_id, new_run_dir, point_latest

UNSAFE_IDS = ["../x", "/tmp/x", "a/../b", "..", ".hidden", "a..b", "", "x\n", "a b", "ä", "latest"]


@pytest.mark.parametrize("run_id", UNSAFE_IDS)
def test_an_unsafe_run_id_is_refused(run_id):
    with pytest.raises(RunIdError, match="is not a folder name"):
        check_run_id(run_id)


@pytest.mark.parametrize("run_id", ["20261122T010203Z-quick", "r1", "2026-soak_flask.default-1"])
def test_a_plain_run_id_is_kept(run_id):
    assert check_run_id(run_id) == run_id


def test_a_run_id_that_is_not_a_string_is_refused():
    with pytest.raises(RunIdError):
        check_run_id(["r1"])


@pytest.mark.parametrize("label", ["../x", "/abs", "a/b"])
def test_a_run_folder_is_never_named_outside_the_results_folder(tmp_path, label):
    results_dir = tmp_path / "results"
    with pytest.raises(RunIdError):
        new_run_dir(results_dir, label)
    assert not results_dir.exists()
    assert list(tmp_path.iterdir()) == []


def test_a_new_run_folder_is_inside_and_unique(tmp_path):
    first, second = new_run_dir(tmp_path, "quick"), new_run_dir(tmp_path, "quick")
    assert first != second and first.parent == second.parent == tmp_path
    assert first.is_dir() and second.is_dir()


def temp_names(monkeypatch) -> list[str]:
    """Record the name of every temp file mkstemp makes from now on."""
    made: list[str] = []
    real = tempfile.mkstemp

    def recording(*args, **kwargs):
        fd, name = real(*args, **kwargs)
        made.append(name)
        return fd, name

    monkeypatch.setattr(results.tempfile, "mkstemp", recording)
    return made


def test_atomic_writes_use_unique_temp_files_in_the_folder_and_leave_none(tmp_path, monkeypatch):
    made = temp_names(monkeypatch)
    target = tmp_path / "results.csv"
    atomic_write_text(target, "one\n")
    atomic_write_text(target, "two\n")
    write_json(tmp_path / "run.json", {"run_id": "r1"})
    assert target.read_text() == "two\n"
    assert json.loads((tmp_path / "run.json").read_text()) == {"run_id": "r1"}
    assert len(made) == len(set(made)) == 3
    assert {os.path.dirname(name) for name in made} == {str(tmp_path)}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.csv", "run.json"]


def test_a_failed_write_leaves_the_old_file_and_no_temp_file(tmp_path, monkeypatch):
    target = tmp_path / "run.json"
    target.write_text("old\n")

    def broken_replace(src, dst):
        raise OSError("disk gone")

    monkeypatch.setattr(results.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk gone"):
        atomic_write_text(target, "new\n")
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["run.json"]


def test_the_file_is_synced_before_it_is_renamed_and_the_folder_after(tmp_path, monkeypatch):
    events: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        events.append("fsync folder" if os.path.isdir(f"/proc/self/fd/{fd}") else "fsync file")
        real_fsync(fd)

    def replace(src, dst):
        events.append("replace")
        real_replace(src, dst)

    monkeypatch.setattr(results.os, "fsync", fsync)
    monkeypatch.setattr(results.os, "replace", replace)
    atomic_write_text(tmp_path / "results.csv", "x\n")
    assert events[:2] == ["fsync file", "replace"]
    if os.path.isdir("/proc/self/fd"):  # where a folder's descriptor can be told apart
        assert events[2:] == ["fsync folder"]


def test_a_written_file_gets_the_umask_s_mode_not_mkstemp_s(tmp_path):
    target = tmp_path / "results.csv"
    atomic_write_text(target, "x\n")
    before = os.umask(0o022)
    os.umask(before)
    assert target.stat().st_mode & 0o777 == 0o666 & ~before


def test_latest_is_moved_in_one_rename_and_leaves_no_temp(tmp_path):
    first, second = new_run_dir(tmp_path, "a"), new_run_dir(tmp_path, "b")
    point_latest(tmp_path, first)
    point_latest(tmp_path, second)
    latest = tmp_path / "latest"
    assert latest.is_symlink() and os.readlink(latest) == second.name
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([first.name, second.name, "latest"])


def test_latest_never_points_outside_its_folder(tmp_path):
    elsewhere = tmp_path / "elsewhere" / "r1"
    elsewhere.mkdir(parents=True)
    (tmp_path / "results").mkdir()
    with pytest.raises(RunIdError):
        point_latest(tmp_path / "results", elsewhere)
    assert list((tmp_path / "results").iterdir()) == []
