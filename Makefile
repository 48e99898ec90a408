# Everything a fresh machine needs is installed from here (Python venv, pip packages; later
# targets add npm packages and Debian's chromium). `make demo` and `make test` are the two
# commands in the README's Quickstart.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
TRACKPLAN := $(BIN)/trackplan
export PIP_DISABLE_PIP_VERSION_CHECK := 1

# node-dev and codegen-demo: codegen for app teams (issue 3)
.PHONY: node-dev codegen-demo
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

# funnel: PostHog's own HogQL parser (npm, WebAssembly) parses generated/sql/hogql in the tests.
tests/hogql/node_modules/.installed: tests/hogql/package-lock.json
	command -v npm >/dev/null || (apt-get update && apt-get install -y nodejs npm)
	cd tests/hogql && npm ci --silent --no-audit --no-fund
	touch $@

install: $(VENV)/.installed
dev: $(VENV)/.dev-installed tests/hogql/node_modules/.installed

# --- codegen for app teams (issue 3): npm packages the tests use -------------------------------
# TypeScript (tsc --strict on generated/typescript) and the real posthog-node, posthog-js and
# jsdom the tests send through, pinned by tests/node/package-lock.json.
NODE_TESTS := tests/node
$(NODE_TESTS)/node_modules/.installed: $(NODE_TESTS)/package.json $(NODE_TESTS)/package-lock.json
	@command -v node >/dev/null && command -v npm >/dev/null || \
		(apt-get update && apt-get install -y nodejs npm)
	npm ci --prefix $(NODE_TESTS) --no-audit --no-fund
	touch $@
node-dev: $(NODE_TESTS)/node_modules/.installed

# `make demo` ends with one event as the generated Python package sends it to PostHog and Meta
# (the real posthog-python client builds the message; nothing leaves the machine).
$(VENV)/.codegen-installed: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install -q -e '.[codegen]' 2>&1 | grep -v "^WARNING: Location" || true
	$(BIN)/python -c "import posthog, pydantic"
	touch $@
codegen-demo: $(VENV)/.codegen-installed
	$(TRACKPLAN) preview purchase_completed

# --- the two Quickstart commands ------------------------------------------------------------
demo: install
	$(TRACKPLAN) lint
	$(TRACKPLAN) build
	$(TRACKPLAN) build --check
	$(MAKE) --no-print-directory codegen-demo
	# --- audit (issue 4): a sample PostHog export with deliberate drift; findings are expected,
	# so the report is shown and its exit code 1 does not stop the demo.
	$(TRACKPLAN) audit tests/fixtures/exports/sample_export.jsonl || [ $$? -eq 1 ]
	$(TRACKPLAN) audit tests/fixtures/exports/sample_export.jsonl --format html -o audit-report.html || [ $$? -eq 1 ]
	@echo "audit report: audit-report.html"

test: dev node-dev
	$(BIN)/python -m pytest -q

# --- day to day -----------------------------------------------------------------------------
lint: install
	$(TRACKPLAN) lint --strict

build: install
	$(TRACKPLAN) build

check: install
	$(TRACKPLAN) build --check

bench: dev
	$(BIN)/python -m tests.benchmarks $(BENCH)

format: dev
	$(BIN)/black compiler tests
	$(BIN)/ruff check --fix compiler tests

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache audit-report.html

goldens: dev
	$(BIN)/python -m pytest -q --update-goldens -s tests | grep -E "golden (updated|removed)|passed|failed" || true

# --- doc site browser tests (issue 6) -------------------------------------------------------
# The doc site tests drive Debian's chromium headless through playwright (which never downloads
# a browser of its own) and inject axe-core (npm, tests/a11y/) to check accessibility. Install
# both once, chromium and npm only when missing; `make test` depends on it.
BROWSER_STAMP := $(VENV)/.browser-installed
.PHONY: browser
$(BROWSER_STAMP): tests/a11y/package-lock.json | $(BIN)/python
	@if [ ! -x /usr/bin/chromium ]; then \
		echo "installing Debian's chromium for the browser tests"; \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; \
	fi
	@if ! command -v npm >/dev/null; then \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y nodejs npm; \
	fi
	npm ci --prefix tests/a11y --no-audit --no-fund --loglevel=error
	/usr/bin/chromium --version 2>/dev/null
	touch $@
browser: $(BROWSER_STAMP)
test: browser
