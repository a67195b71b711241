"""The report's browser-timing table (reports/browser_timing.py) on hand-made inspections: the
figures are placeholders, not measurements."""

from pathlib import Path

import pandas as pd

from bench.store.inspections import BrowserTiming
from reports import inputs
from reports.browser_timing import browser_table


def side(median_s: float, rate: float) -> dict:
    return {"count": 20, "wall_s": 20 / rate, "interactions_per_s": rate, "median_s": median_s,
            "mean_s": median_s, "max_s": median_s * 2, "latencies_s": [median_s] * 20}  # fmt: skip


def timing(sessions: int, browser_s: float, client_s: float) -> dict:
    found = {
        "base_url": "http://127.0.0.1:1", "sessions": sessions, "interactions": 20,
        "browser": side(browser_s, 1 / browser_s), "client": side(client_s, 1 / client_s),
    }  # fmt: skip
    BrowserTiming.model_validate(found)  # what the runner stores validates as the store's type
    return found


def stored(timings: dict) -> inputs.StoredRun:
    deployments = {"streamlit": {"display_name": "Streamlit", "role": "subject"}}
    info = {"run_id": "x", "model": {"name": "m"}, "deployments": deployments}
    return inputs.StoredRun(
        path=Path("x"),
        results=pd.DataFrame(columns=["deployment"]),
        info=info,
        verify=pd.DataFrame(columns=list(inputs.VERIFY_COLUMNS)),
        inspections={"browser_timing": timings} if timings else {},
    )


def test_each_number_of_sessions_sets_the_browser_beside_the_client():
    table = browser_table(stored({"streamlit": [timing(1, 0.050, 0.040), timing(4, 0.2, 0.1)]}))
    cells = [[c.text for c in row] for row in table.rows]
    assert [row[1] for row in cells] == ["1", "4"]
    assert cells[0][3:6] == ["50.0", "40.0", "1.25\u00d7"]
    assert cells[1][5] == "2.00\u00d7"


def test_a_run_that_timed_no_browser_has_an_empty_table():
    assert browser_table(stored({})).empty
