# The verbs a newcomer looks for: run, test, lint, bench.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
FLASK := $(BIN)/flask --app wsgi
PYTEST_WORKERS ?= 2

.PHONY: run test lint format bench worker deploy-check load clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt client/pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt -e ./client
	touch $(VENV)/.runtime $@

## run: migrate an SQLite database under instance/, seed the demo if empty, serve on 127.0.0.1:$(PORT)
run: $(VENV)/.runtime
	$(FLASK) db upgrade
	$(FLASK) demo --if-empty
	$(FLASK) run --host 127.0.0.1 --port $(PORT)

## test: the whole suite; tiers whose services are unreachable are skipped (a failure with CI=true)
test: $(VENV)/.dev
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

## lint: ruff (style, imports, formatting) and mypy (types; settings in pyproject.toml)
lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(VENV)/.dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## bench: the benchmarks of bench/, each printing its ratio against a baseline measured in the same run
bench: $(VENV)/.dev
	@for script in bench/[!_]*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

## worker: an RQ worker on REDIS_URL
worker: $(VENV)/.runtime
	$(FLASK) worker

## deploy-check: render deploy/'s overlays and check them offline against Kubernetes 1.30 and the README
deploy-check: $(VENV)/.dev
	$(BIN)/python deploy/check.py

## load: the production topology (gunicorn, two workers, PostgreSQL, Redis, S3) under 50 simulated users
load: $(VENV)/.dev
	$(BIN)/python bench/load.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
