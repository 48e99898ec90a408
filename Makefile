# Everything a fresh machine needs is installed from here: the Python venv and pip packages,
# npm packages for the tests (tests/node, tests/hogql, tests/a11y), and Debian's chromium.
# `make demo` and `make test` are the two commands in the README's Quickstart.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
TRACKPLAN := $(BIN)/trackplan
DEMO := out/demo
# pip's output goes to a log that is shown only when an install fails.
PIP_LOG := $(VENV)/pip.log
PIP := $(BIN)/pip install -q
QUIET_PIP := > $(PIP_LOG) 2>&1 || (cat $(PIP_LOG); exit 1)
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: all install dev demo test lint build check bench format clean goldens browser node

all: test

# --- Python ---------------------------------------------------------------------------------
# Each stamp imports what it installed, so a failed pip install stops here, not in a test.
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# `pip install -e .` also compiles the audit's line scanner (compiler/_linescan.c) with the
# machine's gcc; the import below fails the install if it did not build.
$(VENV)/.installed: pyproject.toml compiler/_linescan.c | $(BIN)/python
	$(PIP) --upgrade pip $(QUIET_PIP)
	$(PIP) -e . $(QUIET_PIP)
	$(BIN)/python -c "import compiler, click, yaml, jsonschema, jinja2, rich, duckdb, brotli, numpy"
	$(BIN)/python -c "import compiler._linescan"
	touch $@

# The demo also sends through the real posthog-python (preview) and draws the report's charts.
$(VENV)/.demo-installed: $(VENV)/.installed
	$(PIP) -e '.[codegen,report,models,serve]' $(QUIET_PIP)
	$(BIN)/python -c "import posthog, pydantic, matplotlib, sklearn, statsmodels, scipy, aiohttp"
	touch $@

$(VENV)/.dev-installed: $(VENV)/.installed
	$(PIP) -e '.[dev]' $(QUIET_PIP)
	$(BIN)/python -c "import xdist, pytest, hypothesis, black, mypy, chdb, sqlglot, playwright, posthog, matplotlib, pyarrow, sklearn, statsmodels, scipy, aiohttp"
	touch $@

install: $(VENV)/.installed
dev: $(VENV)/.dev-installed node

# --- npm packages the tests use (node and npm from Debian when missing) -----------------------
# tests/node: tsc, posthog-node, posthog-js and jsdom for the generated TypeScript (issue 3);
# tests/hogql: PostHog's own HogQL parser for generated/sql/hogql (issue 5);
# tests/a11y: axe-core for the doc site's accessibility checks (issue 6).
NPM_DIRS := tests/node tests/hogql tests/a11y
NPM_STAMPS := $(NPM_DIRS:%=%/node_modules/.installed)
%/node_modules/.installed: %/package-lock.json
	@command -v node >/dev/null && command -v npm >/dev/null || \
		(apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y nodejs npm)
	npm ci --prefix $* --no-audit --no-fund --loglevel=error
	touch $@
node: $(NPM_STAMPS)

# --- Debian's chromium for the browser tests (playwright drives it, never downloads one) --------
BROWSER_STAMP := $(VENV)/.browser-installed
$(BROWSER_STAMP): | $(BIN)/python
	@if [ ! -x /usr/bin/chromium ]; then \
		echo "installing Debian's chromium for the browser tests"; \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; \
	fi
	/usr/bin/chromium --version 2>/dev/null
	touch $@
browser: $(BROWSER_STAMP)

# --- the two Quickstart commands ------------------------------------------------------------
# The main job end to end on the shipped plan; outputs land in out/demo/ (gitignored).
demo: $(VENV)/.demo-installed
	@mkdir -p $(DEMO)
	@echo; echo "== 1. lint the plan and compile it into generated/"
	$(TRACKPLAN) lint --strict
	$(TRACKPLAN) build
	$(TRACKPLAN) build --check
	@echo; echo "== 2. one event as the generated Python tracker sends it to PostHog and Meta"
	$(TRACKPLAN) preview purchase_completed
	@echo; echo "== 3. audit a sample export with deliberate drift (findings expected: exit 1)"
	$(TRACKPLAN) audit tests/fixtures/exports/sample_export.jsonl || [ $$? -eq 1 ]
	$(TRACKPLAN) audit tests/fixtures/exports/sample_export.jsonl --format html -o $(DEMO)/audit-sample.html || [ $$? -eq 1 ]
	@echo; echo "== 4. synthesise 30 days of 20,000 people as a PostHog batch export"
	$(TRACKPLAN) synth --users 20000 --days 30 --seed 1 -o $(DEMO)/events.jsonl.gz --truth $(DEMO)/truth.jsonl
	@echo; echo "== 5. audit it against the plan (clean: exit 0)"
	$(TRACKPLAN) audit $(DEMO)/events.jsonl.gz --format json -o $(DEMO)/audit.json
	$(TRACKPLAN) audit $(DEMO)/events.jsonl.gz
	@echo; echo "== 6. funnel rates with 95% intervals"
	$(TRACKPLAN) rates $(DEMO)/events.jsonl.gz
	@echo; echo "== 7. fit the transition rates and churn hazard"
	$(TRACKPLAN) fit $(DEMO)/events.jsonl.gz -o $(DEMO)/fitted.json
	@echo; echo "== 8. forecast 10M impressions x 10,000 runs from the fitted rates, and the best lever"
	$(TRACKPLAN) simulate --config $(DEMO)/fitted.json --impressions 10000000 --runs 10000 --seed 1 --sweep
	@echo; echo "== 9. the doc site with each event's production health"
	$(TRACKPLAN) docs --audit $(DEMO)/audit.json --out $(DEMO)/docs
	@echo; echo "== 10. the report"
	$(TRACKPLAN) report $(DEMO)/events.jsonl.gz -o $(DEMO)/report.html --impressions 10000000
	@echo; echo "== 11. the churn hazard (PRD §6) fitted per person-day, and 100,000 persons simulated from it"
	$(TRACKPLAN) hazard $(DEMO)/events.jsonl.gz -o $(DEMO)/hazard.json
	$(TRACKPLAN) simulate --persons 100000 --days 90 --hazard $(DEMO)/hazard.json --runs 20 --seed 1
	@echo; echo "== 12. who will buy and who will churn (PRD §7): the plan's models trained on 60 days of 60,000 people, then scored"
	$(TRACKPLAN) synth --users 60000 --days 60 --seed 1 -o $(DEMO)/models.jsonl.gz --truth $(DEMO)/models-truth.jsonl
	$(TRACKPLAN) train $(DEMO)/models.jsonl.gz --model purchase_propensity -o $(DEMO)/purchase_propensity.json
	$(TRACKPLAN) train $(DEMO)/models.jsonl.gz --model churn_propensity -o $(DEMO)/churn_propensity.json
	$(TRACKPLAN) score $(DEMO)/models.jsonl.gz --model $(DEMO)/purchase_propensity.json -o $(DEMO)/purchase_scores.csv
	$(TRACKPLAN) report $(DEMO)/models.jsonl.gz -o $(DEMO)/models-report.html --model $(DEMO)/purchase_propensity.json --model $(DEMO)/churn_propensity.json
	@echo; echo "== 13. lifetime value: BG/NBD + Gamma-Gamma on the CDNOW sample (FHL 2005)"
	$(TRACKPLAN) clv tests/fixtures/published/CDNOW_sample.txt --customer 2 --date 3 --amount 5 \
		--calibration-end 1997-09-30 --holdout-end 1998-06-30
	@echo; echo "== 14. trackplan serve: a local PostHog endpoint checking every event live"
	@rm -f $(DEMO)/serve.url; \
	$(TRACKPLAN) serve --port 0 --store $(DEMO)/serve > $(DEMO)/serve.url 2> $(DEMO)/serve.log & \
	pid=$$!; for i in $$(seq 300); do [ -s $(DEMO)/serve.url ] && break; sleep 0.1; done; \
	$(BIN)/python -m compiler.serve.demo --url "$$(cat $(DEMO)/serve.url)" --package-dir generated/python; \
	status=$$?; kill $$pid; wait $$pid; exit $$status
	@echo; echo "report: $(abspath $(DEMO)/report.html)"
	@echo "report with the models: $(abspath $(DEMO)/models-report.html)"

# Both cores, one test file per worker: module fixtures (synth exports, trained models, a
# running server) are built once, and the suite stays under 15 minutes on a 2-core machine.
# --no-loadscope-reorder keeps the collection order, which tests/conftest.py starts with the
# longest files (LONGEST_FIRST), so the two workers end together.
test: dev browser
	$(BIN)/python -m pytest -q -n 2 --dist loadfile --no-loadscope-reorder

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

goldens: dev
	$(BIN)/python -m pytest -q --update-goldens -s tests | grep -E "golden (updated|removed)|passed|failed" || true

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache out $(NPM_DIRS:%=%/node_modules)
