"""Start, verify, load and measure the deployments; results go to bench/results/."""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEPLOYMENTS_DIR = PROJECT_ROOT / "deployments"
RESULTS_DIR = PROJECT_ROOT / "bench" / "results"
