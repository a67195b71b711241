"""Locust scenarios: one locustfile each, run only by Locust's own processes (never imported by
the runner, since importing locust patches the process with gevent)."""

# Set by the runner for each Locust process (kept here so the runner need not import locust).
REQUEST_LOG_ENV = "BENCH_REQUEST_LOG"
# A JSON file of request bodies with their expected answers (bench.payloads.write_payload_file),
# so that Locust neither imports the model nor spends CPU on it.
PAYLOADS_ENV = "BENCH_PAYLOADS"
