# Regwatch — two commands: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: report-fonts install run test test-sqlite test-postgresql lint bench browser-deps clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

# Set up everything on first run (database, demo city, first model), then serve on http://127.0.0.1:8000
run: install report-fonts
	$(BIN)/regwatch migrate
	$(BIN)/regwatch setup
	$(BIN)/regwatch serve

# The suite on SQLite, then on a throwaway PostgreSQL database when one is reachable (required when CI=true).
test: install
	$(BIN)/ruff check .
	$(BIN)/mypy api domain ml web cli regwatch_app.py
	@echo "== test suite on SQLite =="
	REGWATCH_TEST_BACKEND=sqlite $(BIN)/pytest -q
	@if $(BIN)/python -c "import sys; from tests.support import pg_available; sys.exit(0 if pg_available() else 1)"; then \
		echo "== test suite on PostgreSQL =="; \
		REGWATCH_TEST_BACKEND=postgresql $(BIN)/pytest -q; \
	elif [ "$$CI" = "true" ]; then \
		echo "PostgreSQL is not reachable and CI=true requires it"; exit 1; \
	else \
		echo "== PostgreSQL not reachable: the PostgreSQL run was SKIPPED =="; \
	fi

test-sqlite: install
	REGWATCH_TEST_BACKEND=sqlite $(BIN)/pytest -q

test-postgresql: install
	REGWATCH_TEST_BACKEND=postgresql $(BIN)/pytest -q

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy api domain ml web cli regwatch_app.py

bench: install
	$(BIN)/python -m bench.ingest
	$(BIN)/python -m bench.score

# A CJK font for the charts of the analysis reports (Debian fonts-noto-cjk); installed when we are root, else a hint.
report-fonts:
	@fc-list 2>/dev/null | grep -qi cjk || { [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null \
		&& (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-cjk) \
		|| echo "note: no CJK font found; analysis reports need one (apt-get install fonts-noto-cjk)"; }

# Debian packages the browser tests need (root): headless Chromium and a CJK font.
browser-deps:
	command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk)

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .mypy_cache
