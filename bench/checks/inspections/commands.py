"""Running an installed command-line tool, bounded in time, in an environment that cannot make
it load this project's app instead of answering for itself."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Mapping
from pathlib import Path

CLI_TIMEOUT_S = 60
# Environment that would make a CLI load this project's app instead of showing its own help.
CLI_ENV_DROP = ("FLASK_APP", "DJANGO_SETTINGS_MODULE", "STREAMLIT_SERVER_PORT")


def cli_env() -> dict[str, str]:
    """This process's environment without CLI_ENV_DROP."""
    return {k: v for k, v in os.environ.items() if k not in CLI_ENV_DROP}


def run_bounded(
    argv: list[str], cwd: Path, stdin: str = "", env: Mapping[str, str] | None = None
) -> tuple[int | None, str]:
    """Run a command in its own process group, bounded; (exit code or None on timeout, output)."""
    process = subprocess.Popen(
        argv,
        cwd=cwd,
        env=dict(env) if env is not None else cli_env(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(stdin, timeout=CLI_TIMEOUT_S)
        return process.returncode, output
    except subprocess.TimeoutExpired:
        _kill_group(process.pid)
        output, _ = process.communicate()
        return None, output
    finally:
        _kill_group(process.pid)  # anything it left behind


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)
