"""The report's equal-work section (reports/work.py) on a small hand-made stored run: Flask and
Django in their default and two work configurations, three repetitions each, with the answer
probe's findings and the verification rows. The figures are placeholders, not measurements."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from bench.store.table import COLUMNS
from reports import inputs, work

MODEL = "m"
REPS = (1, 2, 3)
# (deployment, config) -> throughput per repetition at 16 users; repetition 3 is slow for all.
THROUGHPUT = {
    ("flask", "default"): (400.0, 410.0, 300.0),
    ("flask", "equal_work"): (440.0, 451.0, 330.0),  # 1.10 x its default in every repetition
    ("flask", "keepalive"): (500.0, 512.5, 375.0),
    ("django", "default"): (360.0, 369.0, 270.0),
    ("django", "equal_work"): (400.0, 410.0, 300.0),
    ("django", "keepalive"): (450.0, 461.25, 337.5),
}
ANSWER = {
    "status": 200, "content_length": True, "chunked": False, "body_bytes": 90,
    "body_sha256": "0123456789abcdef", "evidence": "seen",
}  # fmt: skip


def answer(kept_alive: bool, **headers: str) -> dict:
    return {"answer": {**ANSWER, "kept_alive": kept_alive, "headers": headers}}


PROBES = {
    "flask": {
        "default": answer(False, **{"Content-Type": "x", "Content-Security-Policy": "nonce"}),
        "equal_work": answer(False, **{"Content-Type": "x", "X-Frame-Options": "DENY"}),
        "keepalive": answer(True, **{"Content-Type": "x"}),
    },
}
DEPLOYMENTS = {
    name: {"display_name": name.capitalize(), "framework": name, "role": "subject",
           "configs": {"default": "d", "equal_work": "e", "keepalive": "k"},
           "work_configs": ["equal_work", "keepalive"]}
    for name in ("flask", "django")
}  # fmt: skip


def results() -> pd.DataFrame:
    rows = [
        ("synthetic", d, c, "api_single", 16, rep, "throughput", value, "1/s", MODEL)
        for (d, c), values in THROUGHPUT.items()
        for rep, value in zip(REPS, values, strict=True)
    ]
    rows += [
        ("synthetic", "flask", "default", "form", 16, rep, "throughput", 99.0, "1/s", MODEL)
        for rep in REPS
    ]  # a scenario the work configurations do not load: not in their section
    return pd.DataFrame(rows, columns=list(COLUMNS))


def verify_rows() -> pd.DataFrame:
    rows = [("flask", "equal_work", f"check {i}", "pass", "", "") for i in range(3)]
    rows.append(("flask", "keepalive", "check 0", "fail", "answered 500", "500"))
    return pd.DataFrame(rows, columns=list(inputs.VERIFY_COLUMNS))


@pytest.fixture(scope="module")
def stored() -> inputs.StoredRun:
    return inputs.StoredRun(
        path=Path("synthetic"),
        results=results(),
        info={"run_id": "synthetic", "model": {"name": MODEL}, "deployments": DEPLOYMENTS},
        verify=verify_rows(),
        inspections={"probes": PROBES},
    )


def rows_of(table) -> dict[tuple[str, str], dict[str, str]]:
    return {
        (row[0].text, row[1].text): {c: x.text for c, x in zip(table.columns, row, strict=True)}
        for row in table.rows
    }


def test_the_work_configurations_are_kept_out_of_what_claims_read(stored):
    measured = stored.measured
    assert set(measured["config"]) == {"default"}
    assert set(stored.work["config"]) == {"default", "equal_work", "keepalive"}
    assert set(stored.work["scenario"]) == {"api_single"}  # Flask's form is not set against


def test_each_configuration_shows_what_it_sends_its_checks_and_its_cost(stored):
    rows = rows_of(work.work_table(stored))
    assert len(rows) == 6
    flask_default, equal, kept = (rows["Flask", c] for c in ("default", "equal_work", "keepalive"))
    assert flask_default["Headers beyond framing"] == "1: Content-Security-Policy"
    assert equal["Headers beyond framing"] == "1: X-Frame-Options"
    assert kept["Framing; connection"] == "Content-Length; kept alive"
    assert equal["Contract checks"] == "3/3" and kept["Contract checks"] == "0/1"
    assert rows[("Django", "equal_work")]["Headers beyond framing"] == "not probed"
    # Paired by repetition, equal work is 1.10 x the default in each: the interval is that point.
    assert equal["÷ default"].startswith("1.10")
    assert flask_default["÷ default"] == ""


def test_the_frameworks_are_set_side_by_side_in_every_shared_configuration(stored):
    table = work.framework_table(stored)
    labels = [row[1].text for row in table.rows]
    assert labels == ["api_single, default", "api_single, equal_work", "api_single, keepalive"]
    ratios = [row[3].text for row in table.rows]
    assert ratios[0].startswith("1.11") and ratios[1].startswith("1.10")


def test_a_run_without_work_configurations_has_no_section(stored):
    bare = inputs.StoredRun(
        path=Path("synthetic"),
        results=results(),
        info={"run_id": "x", "model": {"name": MODEL}, "deployments": {
            name: {**info, "work_configs": []} for name, info in DEPLOYMENTS.items()
        }},
        verify=verify_rows(),
        inspections={},
    )  # fmt: skip
    assert work.work_table(bare).empty and work.framework_table(bare).empty
    assert work.work_notes(bare) == []
