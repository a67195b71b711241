"""Locust scenarios: one locustfile each, run only by Locust's own processes (never imported by
the runner, since importing locust patches the process with gevent)."""

# Set by the runner for each Locust process (kept here so the runner need not import locust).
REQUEST_LOG_ENV = "BENCH_REQUEST_LOG"
# A JSON file of request bodies with their expected answers (bench.payloads.write_payload_file),
# so that Locust neither imports the model nor spends CPU on it.
PAYLOADS_ENV = "BENCH_PAYLOADS"
# "warmup_s,window_s": Locust stops itself once the window after the first interaction is over.
WINDOW_ENV = "BENCH_WINDOW"
# Rows per request body, by scenario (the runner precomputes a pool for each size).
BATCH_SIZES = {"api_single": 1, "api_batch": 100, "form": 1, "ui_session": 1}
# The request names that are one user interaction; others ("page load", "connect") are set-up.
INTERACTIONS = frozenset({"predict", "submit", "rerun"})
