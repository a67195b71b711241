"""One benchmark at a time for this user: two runs would spoil each other's figures.

The lock file is per user ($XDG_RUNTIME_DIR when it is the user's own, else a per-uid file in
the temp folder): a shared name in a world-writable folder lets any other user pre-create it,
as a file of theirs (every run then fails to open it) or as a symlink (the run then truncates
whatever it points to). Such a file is refused with a message that names it.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

LOCK_NAME = "ml-deploy-bench.lock"
# None: default_lock_path(), decided when the lock is taken (tests point it elsewhere).
LOCK_PATH: Path | None = None


class LockError(RuntimeError):
    """The bench lock cannot be taken safely."""


class BenchBusy(LockError):
    """Another benchmark of this user holds the lock."""


def default_lock_path(environ: dict[str, str] | None = None) -> Path:
    """$XDG_RUNTIME_DIR/ml-deploy-bench.lock if that folder is this user's and no one else can
    write to it, else <temp folder>/ml-deploy-bench-<uid>.lock."""
    environ = os.environ if environ is None else environ
    runtime = environ.get("XDG_RUNTIME_DIR")
    if runtime and _private_folder(Path(runtime)):
        return Path(runtime) / LOCK_NAME
    return Path(tempfile.gettempdir()) / f"ml-deploy-bench-{os.geteuid()}.lock"


def _private_folder(folder: Path) -> bool:
    try:
        info = folder.lstat()
    except OSError:
        return False
    return (
        stat.S_ISDIR(info.st_mode)
        and info.st_uid == os.geteuid()
        and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    )


def open_lock_file(path: Path) -> int:
    """Open (or create, 0600) the lock file; refuse a symlink or a file that is not this
    user's own regular file."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise LockError(
                f"the bench lock {path} is a symbolic link; refusing to follow it: remove it"
            ) from None
        owner = _owner(path)
        raise LockError(
            f"cannot open the bench lock {path}: {exc.strerror}"
            + (f" (it belongs to uid {owner}, not to you, uid {os.geteuid()})" if owner else "")
        ) from None
    info = os.fstat(fd)
    problem = None
    if info.st_uid != os.geteuid():
        problem = f"belongs to uid {info.st_uid}, not to you (uid {os.geteuid()})"
    elif not stat.S_ISREG(info.st_mode):
        problem = "is not a regular file"
    elif info.st_nlink != 1:  # a hard link to another file of yours, which the lock would empty
        problem = f"has {info.st_nlink} names (hard links)"
    if problem:
        os.close(fd)
        raise LockError(f"the bench lock {path} {problem}; refusing it: remove it")
    return fd


def _owner(path: Path) -> int | None:
    try:
        uid = path.lstat().st_uid
    except OSError:
        return None
    return uid if uid != os.geteuid() else None


@contextlib.contextmanager
def exclusive(wait: bool = True) -> Iterator[None]:
    """Hold this user's bench lock; with wait=False, fail at once if another run holds it."""
    path = LOCK_PATH or default_lock_path()
    with os.fdopen(open_lock_file(path), "r+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise BenchBusy(
                f"another benchmark is running ({holder}); wait for it to finish"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
