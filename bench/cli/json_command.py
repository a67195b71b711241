"""A command that answers JSON on its standard output (another interpreter, a measuring child):
run bounded, its failure an error that names what was asked and ends with its stderr."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any


def json_from(
    argv: Sequence[str],
    what: str,
    error: type[Exception],
    timeout_s: float,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> Any:
    """The decoded standard output of `argv`; `error` ("<what> failed ...") when it times out,
    cannot start, exits non-zero or prints no JSON."""
    try:
        done = subprocess.run(
            list(argv), cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout_s
        )
    except subprocess.TimeoutExpired as exc:
        raise error(f"{what} took over {exc.timeout} s") from exc
    except OSError as exc:
        raise error(f"{what} could not start: {exc}") from exc
    if done.returncode != 0:
        raise error(f"{what} failed (exit {done.returncode}): {done.stderr.strip()[-2000:]}")
    try:
        return json.loads(done.stdout)
    except ValueError as exc:
        raise error(f"{what} printed no JSON: {done.stdout.strip()[-200:]!r}") from exc
