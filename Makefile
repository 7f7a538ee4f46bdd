# The two commands a fresh machine needs: `make run` and `make test`.
VENV ?= .venv
BIN := $(VENV)/bin
PYTHON ?= python3

.PHONY: install run test lint lock bench bench-quick clean

install: $(VENV)/.installed

$(VENV)/.installed: requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.lock
	$(BIN)/pip install -q --no-deps -e .
	touch $@

## Embedded mode: SQLite file in ./var, no Redis, demo data, API on http://127.0.0.1:8000
run: install
	mkdir -p var
	$(BIN)/streamsettle migrate
	$(BIN)/streamsettle demo load
	$(BIN)/streamsettle serve

## The whole suite against the real PostgreSQL and Redis on localhost, one worker per core
## (each worker has its own database and Redis database)
test: install
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/pytest -n auto

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

## Re-pin the dependencies after editing pyproject.toml
lock:
	uv pip compile pyproject.toml --extra dev --extra spark -o requirements.lock --python-version 3.11

bench: install
	$(BIN)/python -m bench $(BENCH_ARGS)

bench-quick: install
	$(BIN)/python -m bench --quick

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
