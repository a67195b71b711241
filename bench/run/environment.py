"""What the run ran on: machine, OS, Python, every installed package, git commit."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import platform
import subprocess
from typing import Any

import psutil

from bench import PROJECT_ROOT
from bench.targets.stacks import today


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
        "bytecode_precompiled": bytecode_precompiled(),
    }


def bytecode_precompiled(package: str = "sklearn") -> bool:
    """Whether `package` (the heaviest import of every server) has its .pyc on disk. Without it
    every process compiles the package from source at start, slower by seconds where
    PYTHONDONTWRITEBYTECODE keeps Python from caching what it compiled."""
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        return False
    return os.path.exists(importlib.util.cache_from_source(spec.origin))


BYTECODE_WARNING = (
    "warning: the installed packages have no compiled bytecode, so every server and load "
    "generator compiles them from source as it starts (cold starts included); install with "
    "UV_COMPILE_BYTECODE=1 as the Makefile does, or with pip"
)


def packages() -> dict[str, str]:
    return today().packages()


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
