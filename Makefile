# Bet-That. `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=
CMD ?= help

.DEFAULT_GOAL := help
.PHONY: help install browser loadgen run test lint fmt bench chaos manage migrate shell services-down clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  \033[1mmake %-14s\033[0m %s\n", $$1, $$2}'

$(STAMP): requirements.txt requirements-dev.txt package.json package-lock.json
	@echo "==> creating the virtualenv and installing Python packages"
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --upgrade pip
	@$(PY) -m pip install --quiet --progress-bar off -r requirements-dev.txt
	@echo "==> installing front-end packages from the npm registry (htmx, axe-core) into static/vendor/"
	@PATH="$(CURDIR)/$(VENV)/bin:$$PATH" npm ci --silent --no-fund --no-audit
	@mkdir -p static/vendor && cp node_modules/htmx.org/dist/htmx.min.js node_modules/axe-core/axe.min.js static/vendor/
	@touch $(STAMP)

install: $(STAMP) ## create the virtualenv and install everything

browser: ## install Debian's Chromium for the browser tests (where apt is available)
	@bash scripts/install_browser.sh

run: install ## set up everything and start the whole system with demo data
	@$(PY) scripts/run.py

test: install browser ## set up everything and run the test suite
	@$(PY) -m pytest -n $${TEST_WORKERS:-2} --dist worksteal $(PYTEST_ARGS)

lint: install ## ruff lint and format check, import contracts (docs/architecture.md), mypy
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check .
	@$(VENV)/bin/lint-imports --no-cache
	@# mypy's Django plugin imports the settings, which need URLs; it connects to nothing.
	@DATABASE_URL=$${DATABASE_URL:-postgres://mypy@127.0.0.1:9/mypy} REDIS_URL=$${REDIS_URL:-redis://127.0.0.1:9/0} $(VENV)/bin/mypy

fmt: install ## format and auto-fix
	@$(VENV)/bin/ruff format .
	@$(VENV)/bin/ruff check --fix .

loadgen: ## install Debian's wrk for the HTTP benchmarks (where apt is available)
	@bash scripts/install_loadgen.sh

bench: install loadgen ## run the benchmarks under bench/ (prints figures beside pgbench)
	@$(PY) bench/run.py

chaos: install ## under load, restart Redis and PostgreSQL, SIGKILL a worker and a web process; check nothing is lost
	@$(PY) scripts/chaos.py

manage: install ## run a management command: make manage CMD="ledger_check"
	@$(PY) manage.py $(CMD)

migrate: install ## apply migrations
	@$(PY) manage.py migrate

services-down: install ## stop the embedded PostgreSQL and Redis if something left them running
	@$(PY) -m betthat.embedded down

clean: ## remove the virtualenv, node_modules and static/vendor (keeps .data/)
	rm -rf $(VENV) node_modules static/vendor
