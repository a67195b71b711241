"""Turns one stored benchmark run into one self-contained HTML report (python -m reports)."""

from pathlib import Path

REPORTS_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = REPORTS_DIR.parent
OUTPUT_DIR = REPORTS_DIR / "output"
DEFAULT_RUN = PROJECT_ROOT / "bench" / "results" / "latest"
# The run a reproduction is checked against (python -m reports compare): a stored run folder.
REFERENCE_DIR = PROJECT_ROOT / "reference"
