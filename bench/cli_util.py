"""Terminal output shared by the bench commands."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Sequence


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


def signals_as_interrupt() -> None:
    """SIGINT and SIGTERM raise KeyboardInterrupt, so `finally` blocks stop every process we
    started. SIGINT too, explicitly: a process started in the background inherits SIGINT
    ignored, and Python then installs no handler of its own."""

    def handler(signum: int, frame: object) -> None:
        _interrupted.set()
        raise KeyboardInterrupt(f"signal {signum}")

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, handler)


def raise_if_interrupted() -> None:
    """Raise KeyboardInterrupt if a signal came earlier. The handler's own raise is lost when it
    lands inside a finalizer (__del__ during garbage collection), where CPython only prints
    "Exception ignored"; the runner calls this between steps so that no signal is lost."""
    if _interrupted.is_set():
        raise KeyboardInterrupt("a signal was received")
