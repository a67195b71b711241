"""Verification against the real servers: every deployment passes every check over the network,
and `python -m bench verify` starts, checks and stops what it is given."""

import subprocess
import sys
import time

import psutil
import pytest

from bench import PROJECT_ROOT
from bench.checks.verify import HOSTILE, verify
from bench.targets.manifest import discover
from tests.live import alive, descendants, own_lock_env

pytestmark = pytest.mark.live

NAMES = [d.name for d in discover()]


@pytest.mark.parametrize("name", NAMES)
def test_every_deployment_passes_every_check(servers, model, name):
    running = servers.get(name)
    results = verify(running, model)
    assert results
    assert not [f"{r.check}: {r.reason}" for r in results if not r.passed]
    if running.deployment.role != "calibration":
        assert any(r.check.startswith(HOSTILE) for r in results)
    # Every deployment refuses a foreign Host, the null target and Streamlit included.
    foreign = [r for r in results if r.check.startswith(HOSTILE + "foreign Host")]
    assert len(foreign) == (1 if running.deployment.base_name == "streamlit" else 3)
    assert all(r.http_status is not None and 400 <= r.http_status < 500 for r in foreign)


# A start (STARTUP_TIMEOUT_S at most) and the checks of one small server: a hung command fails.
VERIFY_TIMEOUT_S = 300


def test_the_verify_command_checks_and_leaves_nothing_running(tmp_path):
    """Its table, exit code and clean-up, on the null target (the checks of every deployment
    are the test above: the command runs the same verify())."""
    out, err = tmp_path / "out.txt", tmp_path / "err.txt"
    with out.open("w") as stdout, err.open("w") as stderr:
        command = subprocess.Popen(
            [sys.executable, "-m", "bench", "verify", "--only", "null"],
            cwd=PROJECT_ROOT, stdout=stdout, stderr=stderr, text=True,
            env=own_lock_env(tmp_path),  # it refuses to start while another holds the lock
        )  # fmt: skip
    seen: set[psutil.Process] = set()
    deadline = time.monotonic() + VERIFY_TIMEOUT_S
    try:
        while command.poll() is None:  # what it starts, while it runs
            assert time.monotonic() < deadline, f"verify ran past {VERIFY_TIMEOUT_S} s"
            seen.update(descendants(command.pid))
            time.sleep(0.05)
    finally:
        if command.poll() is None:
            command.kill()
    output, errors = out.read_text(), err.read_text()
    assert command.returncode == 0, output + errors
    assert "all checks passed" in errors
    assert "\nnull " in "\n" + output
    assert "FAIL" not in output
    assert seen, "verify started no server"
    assert not [p for p in seen if alive(p)], "verify left a deployment running"
