"""What the probes (bench/checks/probes*.py) share."""

from __future__ import annotations

TIMEOUT_S = 10  # for each request a probe sends


def status_of(answer: bytes) -> int | None:
    """The status code of a raw HTTP answer's status line, or None when it has none."""
    first = answer.split(b"\r\n", 1)[0].split()
    return int(first[1]) if len(first) > 1 and first[1].isdigit() else None
