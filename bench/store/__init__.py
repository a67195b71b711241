"""The results store: the typed records a run writes and the report reads.

A run lives in bench/results/<run-id>/:

  results.csv       the tidy table, one row per run, deployment, config, scenario, users,
                    repetition, metric and model variant (table.py: COLUMNS, Row, read_rows,
                    write_rows); rewritten after every finished level so an interrupted run
                    keeps what finished
  run.json          machine, versions, git commit, model, plan, pinning, bind, status, validity
                    and per deployment its entry (run_info.py: RunInfo, load_run_info,
                    write_run_info)
  verify.csv        deployment, config, check, status, reason, http_status (the checks of
                    bench/checks/verify.py; "hostile: <case>" rows are the hostile-input suite)
  inspections.json  installed packages, probes of the running servers, snippets
                    (inspections.py: Inspections, load_inspections, write_inspections)
  crosscheck.csv    wrk's figures beside Locust's, and crosscheck.json, its settings and every
                    wrk window; written only by `python -m bench crosscheck` (crosscheck.py)
  raw/              each recorded window's per-request log (Locust's request events)
  logs/             each deployment's and each Locust process's output

A soak lives in bench/results/soak/<stamp>-<name>-<config>/ with its soak.json (soak.py).

Every JSON file carries a schema_version. Its loader validates it and raises StoreError
(records.py), naming the file and the field, for a bad file or a version it does not read; its
writer validates before writing atomically (files.py). rules.py holds the rules a stored run is
judged by (its verdict, the samples a percentile needs). runs.py: run ids, new run folders and
bench/results/latest, a symlink to the newest run that finished (complete or partial): an
interrupted run never moves it.
"""
