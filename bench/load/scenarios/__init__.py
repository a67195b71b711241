"""Locust scenarios: one locustfile each, run only by Locust's own processes (never imported by
the runner, since importing locust patches the process with gevent)."""

# Set by the runner for each Locust process (kept here so the runner need not import locust):
# the per-request log of the single process, or of a distributed run's master (which receives
# every worker's lines; workers write none).
REQUEST_LOG_ENV = "BENCH_REQUEST_LOG"
# A distributed run's master exits with this code when a worker's last log lines never came:
# its request log is then incomplete (Locust's own codes: 1 for failed requests, 2 for a crash).
INCOMPLETE_LOG_EXIT_CODE = 3
# A JSON file of request bodies with their expected answers
# (bench.clients.payloads.write_payload_file),
# so that Locust neither imports the model nor spends CPU on it.
PAYLOADS_ENV = "BENCH_PAYLOADS"
# The steps of a stepped load run, its warm-up and window rule (JSON:
# bench.load.spec.steps_setting);
# the process that runs them (bench/load/scenarios/steps.py) quits after the last.
STEPS_ENV = "BENCH_STEPS"
# "0" for a calibration target whose answers are constants: the users still parse every JSON
# answer (the same client work) but do not compare its predictions. Any other value checks them.
CHECK_ANSWERS_ENV = "BENCH_CHECK_ANSWERS"
# Rows per request body, by scenario (the runner precomputes a pool for each size).
BATCH_SIZES = {"api_single": 1, "api_batch": 100, "form": 1, "ui_session": 1}
# The request names that are one user interaction; others ("page load", "connect") are set-up.
INTERACTIONS = frozenset({"predict", "submit", "rerun"})
SET_UP = frozenset({"page load", "connect"})

# Open-loop scenarios (bench/load/scenarios/open_loop.py): the arrival rate of the whole load
# generator, in requests per second, and how arrivals are spaced (ARRIVAL_KINDS).
RATE_ENV = "BENCH_RATE"
ARRIVALS_ENV = "BENCH_ARRIVALS"
# The seed of an open-loop trial's Poisson arrivals: each trial of a search draws its own, so a
# confirmation is not the same arrival pattern again.
ARRIVAL_SEED_ENV = "BENCH_ARRIVAL_SEED"
# The default seed (the request bodies' own); trial t of an SLO search draws from
# ARRIVAL_SEED + t.
ARRIVAL_SEED = 20220222
ARRIVAL_KINDS = ("poisson", "constant")
# The open-loop locustfile of each closed-loop scenario that has one.
OPEN_LOOP_SCENARIOS = {"api_single": "api_single_open", "ui_session": "ui_session_open"}
# Logged by open-loop scenarios for a request sent later than it was due (not an interaction:
# its ms is how late it was sent); the request itself is logged under its interaction's name.
LATE_SEND = "late send"
# Every name a scenario logs (a distributed run's master refuses a log line with another).
REQUEST_NAMES = INTERACTIONS | SET_UP | {LATE_SEND}
