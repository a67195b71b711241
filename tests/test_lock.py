"""The bench lock: one file per user, never a symlink or another user's file."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

import pytest

from bench.run import lock
from bench.run.lock import BenchBusy, LockError, default_lock_path, exclusive


@pytest.fixture
def lock_at(tmp_path, monkeypatch):
    path = tmp_path / "bench.lock"
    monkeypatch.setattr(lock, "LOCK_PATH", path)
    return path


def test_without_a_runtime_folder_the_lock_is_a_per_uid_file_in_the_temp_folder():
    path = default_lock_path({})
    assert path.parent == Path(tempfile.gettempdir())
    assert path.name == f"ml-deploy-bench-{os.geteuid()}.lock"


def test_a_private_runtime_folder_holds_the_lock(tmp_path):
    runtime = tmp_path / "run-user"
    runtime.mkdir(mode=0o700)
    runtime.chmod(0o700)  # whatever the umask
    assert default_lock_path({"XDG_RUNTIME_DIR": str(runtime)}) == runtime / "ml-deploy-bench.lock"


@pytest.mark.parametrize("mode", [0o777, 0o770])
def test_a_runtime_folder_others_can_write_to_is_not_used(tmp_path, mode):
    runtime = tmp_path / "shared"
    runtime.mkdir()
    runtime.chmod(mode)
    assert default_lock_path({"XDG_RUNTIME_DIR": str(runtime)}).parent != runtime


def test_a_runtime_folder_of_another_user_is_not_used(tmp_path, monkeypatch):
    runtime = tmp_path / "theirs"
    runtime.mkdir(mode=0o700)
    runtime.chmod(0o700)
    monkeypatch.setattr(lock.os, "geteuid", lambda: runtime.stat().st_uid + 1)
    assert default_lock_path({"XDG_RUNTIME_DIR": str(runtime)}).parent != runtime


def test_the_lock_file_is_created_owner_only_and_names_its_holder(lock_at):
    with exclusive(wait=False):
        assert stat.S_IMODE(lock_at.stat().st_mode) == 0o600
        assert lock_at.read_text() == f"pid {os.getpid()}"


def test_a_held_lock_makes_another_run_busy(lock_at):
    busy = pytest.raises(BenchBusy, match=f"pid {os.getpid()}")
    with exclusive(wait=False), busy, exclusive(wait=False):
        pytest.fail("the lock was taken twice")


def test_a_symlink_in_place_of_the_lock_is_refused_and_its_target_untouched(tmp_path, lock_at):
    victim = tmp_path / "precious"
    victim.write_text("keep me")
    lock_at.symlink_to(victim)
    with pytest.raises(LockError, match="symbolic link"), exclusive(wait=False):
        pytest.fail("the lock was taken through a symlink")
    assert victim.read_text() == "keep me"


def test_a_lock_file_of_another_user_is_refused_with_a_clear_error(lock_at, monkeypatch):
    lock_at.write_text("")
    monkeypatch.setattr(lock.os, "geteuid", lambda: lock_at.stat().st_uid + 1)
    refused = pytest.raises(LockError, match=r"belongs to uid \d+, not to you")
    with refused, exclusive(wait=False):
        pytest.fail("another user's lock file was taken")


def test_a_lock_path_that_is_not_a_file_is_refused(lock_at):
    lock_at.mkdir()
    with pytest.raises(LockError, match=str(lock_at)), exclusive(wait=False):
        pytest.fail("a folder was taken as the lock")


def test_a_hard_link_in_place_of_the_lock_is_refused_and_its_target_untouched(tmp_path, lock_at):
    victim = tmp_path / "precious"
    victim.write_text("keep me")
    os.link(victim, lock_at)
    with pytest.raises(LockError, match="hard links"), exclusive(wait=False):
        pytest.fail("the lock was taken through a hard link")
    assert victim.read_text() == "keep me"
