# Tidemark's commands. `make demo` and `make test` are the two the README promises.
SHELL := /bin/bash

# uv is bootstrapped with pip when it is not on PATH (only Python 3.11+, make and git needed).
UV := $(shell command -v uv 2>/dev/null || echo "python3 -m uv")
SERVE ?= 1
DEMO_PROFILES ?= 50000
PYTEST_ARGS ?=
export DEMO_PROFILES

.PHONY: setup demo test lint format bench bench-smoke clean

setup:
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet "uv>=0.5"
	$(UV) sync --frozen
	$(UV) run dbt parse --quiet --project-dir dbt --profiles-dir dbt

demo: setup
	$(UV) run tidemark demo $(if $(filter 0,$(SERVE)),--no-serve,--serve)

test: setup
	$(UV) run pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

lint: setup
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run mypy connectors activation api dashboards dagster_project
	$(UV) run sqlfluff lint dbt/models

format: setup
	$(UV) run ruff check --fix .
	$(UV) run ruff format .

bench: setup
	$(UV) run python -m tests.benchmarks

# Every benchmark once at a thousandth of its size: proves they still run and pass their own
# sanity checks (CI runs it; the figures mean nothing at this scale and go to their own folder).
bench-smoke: setup
	$(UV) run python -m tests.benchmarks --runs 1 --scale 0.001 --out test-artifacts/benchmarks-smoke

clean:
	rm -rf data dbt/target dbt/logs .pytest_cache .mypy_cache .ruff_cache
