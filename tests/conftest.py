import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# The Django project is laid out as `startproject` makes it: its packages sit in its folder.
sys.path.insert(0, str(ROOT / "deployments" / "django_app"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-not-a-secret")
os.environ.setdefault("FLASK_SECRET_KEY", "test-only-not-a-secret")


@pytest.fixture
def private_bench_lock(tmp_path, monkeypatch):
    """A run in this process takes a lock of its own: it runs on ports the OS picks, so it
    neither waits for nor blocks a benchmark that holds the machine-wide lock."""
    from bench.run import lock

    monkeypatch.setattr(lock, "LOCK_PATH", tmp_path / "bench.lock")


@pytest.fixture(scope="session")
def model():
    from shared_model.model import load_model

    return load_model()


@pytest.fixture
def good_row(model):
    return {f["name"]: f["default"] for f in model.metadata["features"]}


@pytest.fixture(scope="session")
def servers(tmp_path_factory):
    """Every deployment at its default configuration, started once for the whole session on
    ports the OS picks, for the live tests that only read from a server."""
    from bench.targets.manifest import discover
    from tests.live import ServerPool

    pool = ServerPool(discover(), tmp_path_factory.mktemp("servers"))
    try:
        pool.warm(pool.deployments)
        yield pool
    finally:
        left = pool.close()
    assert not left, f"servers outlived stop(): {left}"
