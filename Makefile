# Two-command quick start: `make replicate` and `make test`.
# Both create .venv when it is missing and install the package into it.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: replicate test lint bench clean-reports setup

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

replicate: $(STAMP)
	$(VENV)/bin/cpcstats replicate --study demo --out reports

test: $(STAMP)
	$(VENV)/bin/ruff check cpcstats tests replication
	$(PY) -m pytest -q

# The benchmark in its own environment (.venv-bench), which also holds the peer pyfixest.
BENCH_VENV := .venv-bench
BENCH_STAMP := $(BENCH_VENV)/.installed

$(BENCH_STAMP): pyproject.toml
	test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(BENCH_VENV)/bin/python -m pip install --quiet -e '.[bench]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BENCH_VENV)/bin/python replication/benchmark.py --out reports

lint: $(STAMP)
	$(VENV)/bin/ruff check cpcstats tests replication

clean-reports:
	rm -rf reports/*
