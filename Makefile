# make test   : installs everything (locked) and runs the tests
# make bench  : measures every deployment and builds the report (QUICK=1 for the quick profile)
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
# The February 2022 stack (stacks/2022): its own lock and environment, for its servers only.
VENV_2022 := .venv-2022
UV := python3 -m uv
export UV_PYTHON_DOWNLOADS := never
export UV_LINK_MODE := copy
# Installed packages get their .pyc at install time, as pip gives them: where the environment sets
# PYTHONDONTWRITEBYTECODE, every process would otherwise compile scikit-learn, SciPy and pandas
# from source at each import (seconds of CPU at every server or load-generator start, which
# would count in every cold start; run.json records machine.bytecode_precompiled).
export UV_COMPILE_BYTECODE := 1
PROFILE ?= $(if $(QUICK),quick,full)
# More options of `python -m bench run`, e.g. BENCH_ARGS="--server-cores 0-7 --loadgen-cores 8-15".
BENCH_ARGS ?=
BROWSER := /usr/bin/chromium
WRK := /usr/bin/wrk
APT_INSTALL = if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq

.PHONY: setup browser wrk test lint verify bench bench-quick crosscheck report publish compare serve clean

setup: $(VENV)/.installed $(VENV_2022)/.installed

$(VENV)/.installed: pyproject.toml uv.lock Makefile
	@python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	$(UV) sync --locked --python python3
	@touch $@

$(VENV_2022)/.installed: stacks/2022/pyproject.toml stacks/2022/uv.lock Makefile
	@python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	UV_PROJECT_ENVIRONMENT=$(CURDIR)/$(VENV_2022) $(UV) sync --locked --project stacks/2022 --python python3
	@touch $@

# Debian's chromium, for the browser tests and the full profile's browser timing (Playwright
# cannot download a browser here).
browser: $(BROWSER)

$(BROWSER):
	@$(APT_INSTALL) chromium

# Debian's wrk: the independent cross-check of Locust's figures (python -m bench crosscheck).
wrk: $(WRK)

$(WRK):
	@$(APT_INSTALL) wrk

# Two pytest-xdist workers, each test file on one of them (so that its module fixtures are made
# once); the 15 slowest tests are listed at the end, so that they stay visible.
TEST_WORKERS ?= 2
test: setup browser wrk
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile --durations=15

lint: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

verify: setup
	$(PY) -m bench verify

# The run (wrk's cross-check runs inside it, on the same warm servers), then the report, built
# even from a partial run (it says so), not after Ctrl-C; the exit code is the run's. The run prints where its
# minutes went; the last line says how long the whole of it took, report included.
bench: setup wrk $(if $(filter full,$(PROFILE)),browser)
	@SECONDS=0; $(PY) -m bench run --profile $(PROFILE) $(BENCH_ARGS); status=$$?; \
	if [ $$status -ne 130 ] && [ -e bench/results/latest/run.json ]; then \
	  report_start=$$SECONDS; $(PY) -m reports || status=1; \
	  echo "report: $$((SECONDS - report_start)) s"; fi; \
	echo "make bench: $$((SECONDS / 60)) min $$((SECONDS % 60)) s in all"; exit $$status

# wrk against a stored run's servers again, apart from a run (python -m bench crosscheck --help).
crosscheck: setup wrk
	$(PY) -m bench crosscheck

bench-quick:
	$(MAKE) bench QUICK=1

# The report of the latest stored run; with none here, the committed reference's, rebuilt from
# the committed results (RUN=DIR for another stored run).
RUN ?= $(if $(wildcard bench/results/latest/run.json),bench/results/latest,reference)
report: setup
	$(PY) -m reports --run $(RUN) $(if $(filter reference,$(RUN)),--out reference/report)

# Make the latest stored run the published reference in reference/ (RUN=DIR for another one).
publish: setup
	$(PY) -m reports publish $(if $(filter reference,$(RUN)),bench/results/latest,$(RUN))

# Does bench/results/latest reproduce the run in reference/? (REFERENCE=DIR for another one.)
compare: setup
	$(PY) -m reports compare bench/results/latest $(if $(REFERENCE),--reference $(REFERENCE))

serve: setup
	$(PY) -m bench serve $(NAME)

clean:
	rm -rf $(VENV) $(VENV_2022) .pytest_cache .ruff_cache
