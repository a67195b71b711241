"""Run folders: their names (run ids), a new one per run or soak, and results/latest."""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from bench.store.files import fsync_folder

# A run id names a folder, here and under reports/output/: one path component, never hidden,
# never a parent (an absolute or ../ run_id in run.json would write outside those folders).
RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


class RunIdError(ValueError):
    """A run id that is not one safe folder name."""


def check_run_id(run_id: object) -> str:
    """Return `run_id` if it matches RUN_ID and holds no "..", else raise RunIdError."""
    text = str(run_id)
    # "latest" is the link to the newest run, in bench/results/ and in reports/output/.
    if (
        not isinstance(run_id, str)
        or not RUN_ID.fullmatch(text)
        or ".." in text
        or text == "latest"
    ):
        raise RunIdError(
            f"run id {text!r} is not a folder name: it must match {RUN_ID.pattern}, without "
            "'..', and not be 'latest'"
        )
    return text


def new_run_dir(results_dir: Path, label: str) -> Path:
    """A new folder <UTC stamp>-<label> (-1, -2, ... if taken), for a run or a soak."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    check_run_id(f"{stamp}-{label}")  # a profile or deployment name makes part of it
    for n in range(100):
        run_dir = results_dir / (f"{stamp}-{label}" + (f"-{n}" if n else ""))
        with contextlib.suppress(FileExistsError):
            run_dir.mkdir(parents=True)
            return run_dir
    raise RuntimeError(f"cannot create a folder in {results_dir}")


def point_latest(results_dir: Path, run_dir: Path) -> None:
    """Point results_dir/latest at run_dir, a folder inside it, in one rename."""
    if run_dir.parent.resolve() != results_dir.resolve():
        raise RunIdError(f"{run_dir} is not a folder of {results_dir}")
    target = check_run_id(run_dir.name)
    # A symlink cannot be made by mkstemp: make it in a private temp folder, then rename it.
    scratch = Path(tempfile.mkdtemp(dir=results_dir, prefix=".latest.", suffix=".tmp"))
    try:
        (scratch / "latest").symlink_to(target)
        os.replace(scratch / "latest", results_dir / "latest")
    finally:
        with contextlib.suppress(OSError):
            (scratch / "latest").unlink()
        scratch.rmdir()
    fsync_folder(results_dir)
