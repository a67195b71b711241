"""What the run ran on: machine, OS, Python, every installed package, git commit."""

from __future__ import annotations

import contextlib
import os
import platform
import subprocess
from importlib.metadata import distributions
from typing import Any

import psutil

from bench import PROJECT_ROOT


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in open("/proc/cpuinfo").read().splitlines():  # noqa: SIM115
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def machine() -> dict[str, Any]:
    return {
        "cpu_model": cpu_model(),
        "cores": os.cpu_count(),
        "cores_available": len(os.sched_getaffinity(0)),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "os": platform.platform(),
        "kernel": platform.release(),
        "hostname": platform.node(),
    }


def packages() -> dict[str, str]:
    return dict(sorted((d.metadata["Name"].lower(), d.version) for d in distributions()))


def git_state() -> dict[str, Any]:
    def git(*args: str) -> str:
        result = subprocess.run(
            ["git", *args], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=10
        )
        return result.stdout.strip() if result.returncode == 0 else ""

    return {
        "commit": git("rev-parse", "HEAD") or "unknown",
        "dirty": bool(git("status", "--porcelain")),
    }
