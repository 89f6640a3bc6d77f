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

lint: $(STAMP)
	$(VENV)/bin/ruff check cpcstats tests replication

clean-reports:
	rm -rf reports/*
