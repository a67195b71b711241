"""Hostile input: what each deployment answered to each case of the suite
(bench/checks/bad_inputs.py, run by bench/checks/verify.py as checks named "hostile: <case>")."""

from __future__ import annotations

import pandas as pd

from reports.inputs import StoredRun
from reports.tables import Cell, Table, label, ordered

HOSTILE = "hostile: "


def hostile_rows(stored: StoredRun) -> pd.DataFrame:
    """The suite's cases at each deployment's default configuration (a work configuration's own
    verification is counted in the equal-work section)."""
    verify = stored.verify
    return verify[verify["check"].str.startswith(HOSTILE) & (verify["config"] == "default")]


def _is_server_error(row: pd.Series) -> bool:
    status = str(row.get("http_status") or "")
    return status.startswith("5") or "server error" in str(row.get("reason", ""))


def hostile_summary(stored: StoredRun) -> Table:
    rows = hostile_rows(stored)
    cells = []
    for name in ordered(stored.info):
        mine = rows[rows["deployment"] == name]
        if mine.empty:
            continue
        failed = mine[mine["status"] != "pass"]
        server_errors = int(sum(_is_server_error(r) for _, r in mine.iterrows()))
        cells.append(
            [
                Cell(label(stored.info, name)),
                Cell(str(len(mine)), css="num"),
                Cell(str(len(mine) - len(failed)), css="num"),
                Cell(str(len(failed)), css="num bad" if len(failed) else "num"),
                Cell(str(server_errors), css="num bad" if server_errors else "num"),
                Cell(", ".join(c.removeprefix(HOSTILE) for c in failed["check"]) or "none"),
            ]
        )
    notes = (
        "Each case is one request over real HTTP with the status and error code the contract "
        "requires, the same for every deployment; after the suite the deployment must still "
        "answer health and a correct prediction. A 5xx answer always fails.",
    )
    columns = ["Deployment", "Cases", "Passed", "Failed", "5xx answers", "Failed cases"]
    return Table(columns, cells, notes=notes)


def hostile_matrix(stored: StoredRun) -> Table:
    """Case by deployment: what each answered (status and error code), marked pass or fail."""
    rows = hostile_rows(stored)
    names = [n for n in ordered(stored.info) if n in set(rows["deployment"])]
    cases = list(dict.fromkeys(rows["check"]))
    answers = {(r["check"], r["deployment"]): r for _, r in rows.iterrows()}
    cells = []
    for case in cases:
        line = [Cell(case.removeprefix(HOSTILE))]
        for name in names:
            row = answers.get((case, name))
            if row is None:
                line.append(Cell("not run", css="muted"))
                continue
            passed = row["status"] == "pass"
            shown = str(row["reason"]).removeprefix("answered ") or (
                str(row.get("http_status") or "") or row["status"]
            )
            mark = "\u2713 " if passed else "\u2717 "
            line.append(Cell(mark + shown, note=str(row["reason"]), css="" if passed else "bad"))
        cells.append(line)
    return Table(["Case", *(label(stored.info, n) for n in names)], cells)
