# Signalpost. `make run` and `make test` need only Python 3.11+; they create .venv themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# make run needs no test tools: without them its first start installs 135 MB, not 386 MB
# (40 s rather than 66 s here).
RUN_STAMP := $(VENV)/.installed-run

.PHONY: run test test-sqlite test-postgres lint migrate clean bench

$(RUN_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $(RUN_STAMP)

# The Python client is a package of its own (clients/python); the tests import it.
$(STAMP): $(RUN_STAMP) clients/python/pyproject.toml
	$(BIN)/pip install --quiet -e '.[dev]' -e clients/python
	touch $(STAMP)

install: $(STAMP)

migrate: $(RUN_STAMP)
	$(BIN)/flask --app app db upgrade

# The web UI on :$(PORT), one worker and beat, with the development settings of .flaskenv;
# then the welcome box (address, admin, next command). Ctrl-C stops them all.
PORT ?= 5000
run: export SIGNALPOST_BASE_URL ?= http://127.0.0.1:$(PORT)
# The metric files of the last run's processes go: every process of this run starts them anew.
run: migrate
	rm -rf instance/metrics
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/honcho start -f Procfile -p $(PORT)

# The whole suite on SQLite, then again on PostgreSQL (skipped when none is reachable,
# unless SIGNALPOST_REQUIRE_SERVICES=1).
test: test-sqlite test-postgres

# PYTHONNODEBUGRANGES: CPython 3.11's traceback formatting parses source with `ast`, which is
# not safe while another thread parses too (hypothesis, in the API fuzz test) and can fail
# with "AST constructor recursion depth mismatch"; without debug ranges it never parses.
test-sqlite: $(STAMP)
	PYTHONNODEBUGRANGES=1 $(BIN)/pytest -q

test-postgres: $(STAMP)
	PYTHONNODEBUGRANGES=1 SIGNALPOST_TEST_DATABASE=postgres $(BIN)/pytest -q

# Benchmarks of the real processes on this machine's PostgreSQL and Redis, never part of
# `make test`; see docs/performance.md. BENCH_SCALE=0.1 makes a quick run.
BENCH_STAMP := $(VENV)/.installed-bench

$(BENCH_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BIN)/python -m bench

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
