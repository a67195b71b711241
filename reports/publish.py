"""The published reference run: a stored run's results, without its raw logs, and its built
report, committed in reference/ so that a reader can open a report before running anything and
a reproduction has something to be compared with (`python -m reports compare`).

Layout of the folder:
  reference/results.csv, run.json, verify.csv, inspections.json, crosscheck.csv/.json: the
    run's stored results (bench/store/), as the runner wrote them;
  reference/report/<run id>/index.html (and the files beside it): the report built from them;
  reference/report/latest: a link to that folder.
Publishing replaces the whole folder at once; it never measures anything.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from reports import inputs
from reports.build import DATA_FILES, build

REPORT_FOLDER = "report"
# A run published as the reference must have finished: an interrupted one is not a reference.
PUBLISHABLE = ("complete", "partial")
# Inline SVG figures: their coordinates are floats whose last digits may differ between
# machines, their text is what a reader reads.
SVG = re.compile(r"<svg\b.*?</svg>", re.DOTALL)
SVG_TEXT = re.compile(r"<text\b[^>]*>(.*?)</text>", re.DOTALL)


class PublishError(inputs.RunError):
    pass


def publish(run_dir: Path, to: Path) -> Path:
    """Publish the stored run in run_dir as the reference in `to`; returns its report's page."""
    stored = inputs.load(run_dir)
    status = stored.info.get("status")
    if status not in PUBLISHABLE:
        raise PublishError(f"{run_dir}: the run is {status}; only a finished run is published")
    if to.resolve() == stored.path.resolve():
        raise PublishError(f"{to} is the run itself")
    staging = to.with_name(to.name + ".publishing")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        for name in DATA_FILES:
            if (stored.path / name).exists():
                shutil.copyfile(stored.path / name, staging / name)
        # Built from the copied files, so that the page is what the committed files give.
        build(staging, staging / REPORT_FOLDER, shown_as=to, compared=False)
        replace_folder(staging, to)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return report_page(to)


def replace_folder(new: Path, old: Path) -> None:
    """Put `new` where `old` was, so that a reader never finds half of each."""
    retired = old.with_name(old.name + ".retired")
    shutil.rmtree(retired, ignore_errors=True)
    if old.exists():
        old.rename(retired)
    new.rename(old)
    shutil.rmtree(retired, ignore_errors=True)


def report_page(reference: Path) -> Path:
    """The index.html of the reference's built report."""
    stored = inputs.load(reference)
    return reference / REPORT_FOLDER / stored.run_id / "index.html"


def readable(html: str) -> str:
    """A page with each inline figure reduced to its text: what two builds of the same results
    must share, wherever they were built."""
    return SVG.sub(lambda m: "<svg>" + " | ".join(SVG_TEXT.findall(m.group(0))) + "</svg>", html)
