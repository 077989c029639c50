# Two commands a new user needs: `make run` (the baseline scenario) and `make test`.
# Each creates or updates the virtual environment in $(VENV) from pyproject.toml.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint bench bench-parts clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/swarm run baseline --overwrite

test: $(STAMP)
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

# The speed issue's targets in one table (bench/report.py; BENCH_ARGS=--quick for a shorter run).
bench: $(STAMP)
	$(PY) bench/report.py $(BENCH_ARGS)

# Each benchmark script on its own, as before.
bench-parts: $(STAMP)
	$(PY) bench/bench_actors.py
	$(PY) bench/bench_simulation.py
	$(PY) bench/bench_llm.py --workers 2
	$(PY) bench/bench_llm_client.py

clean:
	rm -rf $(VENV) runs .pytest_cache .mypy_cache .ruff_cache
