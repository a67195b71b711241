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


@pytest.fixture(scope="session")
def model():
    from shared_model.model import load_model

    return load_model()


@pytest.fixture
def good_row(model):
    return {f["name"]: f["default"] for f in model.metadata["features"]}
