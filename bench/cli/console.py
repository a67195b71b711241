"""Terminal output shared by the bench commands."""

from __future__ import annotations

import contextlib
import functools
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[str(c) for c in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


_interrupted = threading.Event()
_uninterrupted = threading.local()


def signals_as_interrupt() -> None:
    """SIGINT and SIGTERM raise KeyboardInterrupt, so `finally` blocks stop every process we
    started. SIGINT too, explicitly: a process started in the background inherits SIGINT
    ignored, and Python then installs no handler of its own. Inside `uninterrupted()` the
    raise waits for its end."""

    def handler(signum: int, frame: object) -> None:
        _interrupted.set()
        if not getattr(_uninterrupted, "depth", 0):
            raise KeyboardInterrupt(f"signal {signum}")

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, handler)


@contextlib.contextmanager
def uninterrupted() -> Iterator[None]:
    """A signal that comes inside does not raise there (call raise_if_interrupted() after):
    for a process start, whose handle would otherwise be lost with the process running."""
    _uninterrupted.depth = getattr(_uninterrupted, "depth", 0) + 1
    try:
        yield
    finally:
        _uninterrupted.depth -= 1


def spawning(stop: Callable[[T], object]) -> Callable[[Callable[P, T]], Callable[P, T]]:
    """Decorate a function that spawns processes: a signal's raise is held until it has
    returned; a signal that came meanwhile then stops what it started (with `stop`), and is
    raised. Without it, a raise between the spawn and the return loses the only handle."""

    def decorate(start: Callable[P, T]) -> Callable[P, T]:
        @functools.wraps(start)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> T:
            with uninterrupted():
                started = start(*args, **kwargs)
            try:
                raise_if_interrupted()
            except KeyboardInterrupt:
                stop(started)
                raise
            return started

        return guarded

    return decorate


def raise_if_interrupted() -> None:
    """Raise KeyboardInterrupt if a signal came earlier. The handler's own raise is lost when it
    lands inside a finalizer (__del__ during garbage collection), where CPython only prints
    "Exception ignored"; the runner calls this between steps so that no signal is lost."""
    if _interrupted.is_set():
        raise KeyboardInterrupt("a signal was received")
