"""Real browsers beside the Streamlit protocol client (bench/checks/browser_timing.py, stored in
inspections.json): the same Predict interaction, at the same numbers of sessions at once, on the
same server. The client is what the load tests drive; the browser is what a user has. Not a
benchmark: one sample of each, no repetitions, no interval."""

from __future__ import annotations

from reports import text
from reports.inputs import StoredRun
from reports.tables import Cell, Table, _num, label, ordered


def browser_table(stored: StoredRun) -> Table:
    """One row per deployment and number of sessions: each side's median latency and rate."""
    timings = stored.inspections.get("browser_timing") or {}
    rows = []
    for name in ordered(stored.info):
        for timed in timings.get(name) or []:
            browser, client = timed["browser"], timed["client"]
            ratio = browser["median_s"] / client["median_s"] if client["median_s"] else float("nan")
            rows.append(
                [
                    Cell(label(stored.info, name)),
                    _num(timed["sessions"]),
                    _num(browser["count"]),
                    _num(browser["median_s"] * 1000, 1),
                    _num(client["median_s"] * 1000, 1),
                    Cell(f"{text.number(ratio, 2)}\u00d7", css="num"),
                    _num(browser["interactions_per_s"], 1),
                    _num(client["interactions_per_s"], 1),
                ]
            )
    columns = [
        "Deployment", "Sessions at once", "Interactions a side", "Browser p50 (ms)",
        "Client p50 (ms)", "Browser ÷ client", "Browser (/s)", "Client (/s)",
    ]  # fmt: skip
    notes = (
        "Each session presses Predict again and again; a browser's latency runs from the press "
        "to the prediction shown on the page, the protocol client's from sending the rerun to "
        "reading its end. Browsers first, then as many client sessions, on the server "
        "verification started; one sample of each, so no interval.",
    )
    return Table(columns, rows, notes=notes)
