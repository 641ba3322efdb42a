# Two commands do everything on a fresh machine:
#   make run    — environment, migrations, the five tenants, demo data, http://127.0.0.1:8000
#   make test   — the whole test suite (SQLite, then PostgreSQL when reachable)
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# PostgreSQL used by the second test pass; override to point elsewhere.
MCU_TEST_PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/postgres
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test venv lint test-sqlite test-postgres bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(BIN)/mcu db upgrade
	$(BIN)/mcu tenants load
	$(BIN)/mcu demo seed
	@# The deadline worker runs beside the web server and stops with it: escalations fire on time
	@# with no extra step.
	$(BIN)/mcu worker & WORKER=$$!; trap 'kill $$WORKER 2>/dev/null; wait $$WORKER' EXIT INT TERM; \
	  $(BIN)/gunicorn --config platform/mcu/gunicorn_conf.py --bind $(HOST):$(PORT) mcu.wsgi:app

lint: $(STAMP)
	$(BIN)/ruff check platform tests bench

test-sqlite: $(STAMP)
	$(BIN)/pytest -q --durations=10

# The same suite against PostgreSQL; skipped (said so, not silently) when no server answers.
test-postgres: $(STAMP)
	@if $(BIN)/python -m mcu.testing.pg_probe "$(MCU_TEST_PG_URL)"; then \
	  echo "== PostgreSQL pass ($(MCU_TEST_PG_URL))"; \
	  MCU_TEST_PG_URL="$(MCU_TEST_PG_URL)" MCU_TEST_DB=postgres $(BIN)/pytest -q --durations=10; \
	else echo "== PostgreSQL not reachable at $(MCU_TEST_PG_URL): PostgreSQL pass skipped"; fi

# The two passes are independent (own SQLite files, a throw-away PostgreSQL database each run):
# they run side by side, each one's output printed whole when it ends; either failing fails.
test: lint
	@$(MAKE) --no-print-directory -j2 --output-sync=target test-sqlite test-postgres

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) instance .pytest_cache
