# Everything a fresh machine needs is installed from here (Python venv, pip packages; later
# targets add npm packages and Debian's chromium). `make demo` and `make test` are the two
# commands in the README's Quickstart.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
TRACKPLAN := $(BIN)/trackplan
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: all install dev demo test lint build check bench format clean goldens

all: test

# --- set-up ---------------------------------------------------------------------------------
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
	$(BIN)/pip install -q -e . 2>&1 | grep -v "^WARNING: Location" || true
	$(BIN)/python -c "import compiler, click, yaml, jsonschema, jinja2, rich, duckdb, brotli, pytz"
	touch $@

$(VENV)/.dev-installed: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install -q -e '.[dev]' 2>&1 | grep -v "^WARNING: Location" || true
	$(BIN)/python -c "import pytest, hypothesis, black, mypy, chdb, sqlglot"
	touch $@

install: $(VENV)/.installed
dev: $(VENV)/.dev-installed

# --- the two Quickstart commands ------------------------------------------------------------
demo: install
	$(TRACKPLAN) lint
	$(TRACKPLAN) build
	$(TRACKPLAN) build --check
	# --- audit (issue 4): a sample PostHog export with deliberate drift; findings are expected,
	# so the report is shown and its exit code 1 does not stop the demo.
	$(TRACKPLAN) audit tests/fixtures/exports/sample_export.jsonl || [ $$? -eq 1 ]
	$(TRACKPLAN) audit tests/fixtures/exports/sample_export.jsonl --format html -o audit-report.html || [ $$? -eq 1 ]
	@echo "audit report: audit-report.html"

test: dev
	$(BIN)/python -m pytest -q

# --- day to day -----------------------------------------------------------------------------
lint: install
	$(TRACKPLAN) lint --strict

build: install
	$(TRACKPLAN) build

check: install
	$(TRACKPLAN) build --check

bench: dev
	$(BIN)/python -m tests.benchmarks

format: dev
	$(BIN)/black compiler tests
	$(BIN)/ruff check --fix compiler tests

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache audit-report.html

goldens: dev
	$(BIN)/python -m pytest -q --update-goldens -s tests | grep -E "golden (updated|removed)|passed|failed" || true
