"""Load generation: Locust scenarios and processes, remote workers, wrk."""
