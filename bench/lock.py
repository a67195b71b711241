"""One benchmark at a time on this machine: two runs would spoil each other's figures."""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

LOCK_PATH = Path(tempfile.gettempdir()) / "ml-deploy-bench.lock"


class BenchBusy(RuntimeError):
    pass


@contextlib.contextmanager
def exclusive(wait: bool = True) -> Iterator[None]:
    """Hold the machine-wide bench lock; with wait=False, fail at once if another run holds it."""
    with LOCK_PATH.open("a+") as handle:
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
