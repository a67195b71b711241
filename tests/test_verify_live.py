"""`python -m bench verify` against the real servers on real ports."""

import subprocess
import sys

import psutil
import pytest

from bench import PROJECT_ROOT

pytestmark = pytest.mark.live


def deployment_processes() -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if "gunicorn" in cmdline or "streamlit run" in cmdline:
            found.append(proc)
    return found


def test_verify_passes_for_every_deployment_and_leaves_nothing_running():
    assert not deployment_processes(), "a deployment was already running before the test"
    result = subprocess.run(
        [sys.executable, "-m", "bench", "verify"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "all checks passed" in result.stderr
    for name in ("flask", "django", "streamlit"):
        assert f"\n{name} " in result.stdout
    assert "FAIL" not in result.stdout
    assert not deployment_processes(), "verify left a deployment running"
