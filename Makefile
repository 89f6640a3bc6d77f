# Two-command quick start: `make replicate` and `make test`.
# Both create .venv when it is missing and install the package into it from the lock file
# (requirements.lock: every package pinned, the build tools included), so that a fresh
# machine gets the versions the tests and the byte-identical outputs were checked with.
# `make lock` re-resolves the newest versions into requirements.lock (see README).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
LOCK   := requirements.lock
PIP_VERSION := $(shell sed -n 's/^pip==//p' $(LOCK))
# One BLAS thread per process: OpenBLAS otherwise starts a thread per core it sees on the
# host (not the container's quota), which made small dense products 30-40x slower on a
# loaded 2-core machine; cpcstats parallelises over processes instead (execution/).
export OPENBLAS_NUM_THREADS ?= 1
export OMP_NUM_THREADS ?= 1
export MKL_NUM_THREADS ?= 1

.PHONY: replicate test lint bench clean-reports setup lock docs

setup: $(STAMP)

$(STAMP): pyproject.toml $(LOCK)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check 'pip==$(PIP_VERSION)'
	$(PY) -m pip install --quiet -r $(LOCK)
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	$(PY) -m pip check
	touch $(STAMP)

replicate: $(STAMP)
	$(VENV)/bin/cpcstats replicate --study demo --out reports --config replication/replication.toml

test: $(STAMP)
	$(VENV)/bin/ruff check cpcstats tests replication
	$(PY) -m pytest -q --durations=30

# Re-resolve every dependency to the newest versions the registry serves and write the lock.
# Run the tests afterwards (`make test` reinstalls from the new lock) before committing it.
LOCK_VENV := .venv-lock
lock:
	rm -rf $(LOCK_VENV)
	$(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/python -m pip install --quiet --upgrade pip setuptools wheel
	$(LOCK_VENV)/bin/python -m pip install --quiet '.[test,docs,duckdb]'
	{ echo "# Pinned environment of cpcstats (runtime, tests and build tools)."; \
	  echo "# Made by 'make lock' on $$($(LOCK_VENV)/bin/python -c 'import platform; print(platform.python_version(), platform.machine())')."; \
	  echo "# 'make setup' installs exactly these; edit pyproject.toml, then 'make lock' to upgrade."; \
	  $(LOCK_VENV)/bin/python -m pip freeze --all --exclude cpcstats; } > $(LOCK)
	rm -rf $(LOCK_VENV)

# The benchmark in its own environment (.venv-bench), which also holds the peer pyfixest.
BENCH_VENV := .venv-bench
BENCH_STAMP := $(BENCH_VENV)/.installed

$(BENCH_STAMP): pyproject.toml $(LOCK)
	test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet 'pip==$(PIP_VERSION)'
	$(BENCH_VENV)/bin/python -m pip install --quiet -r $(LOCK)
	$(BENCH_VENV)/bin/python -m pip install --quiet --no-build-isolation -e '.[bench]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BENCH_VENV)/bin/python replication/benchmark.py --out reports

# The documentation site, built strictly (any warning fails), into site/.
docs: $(STAMP)
	$(VENV)/bin/mkdocs build --strict --site-dir site

lint: $(STAMP)
	$(VENV)/bin/ruff check cpcstats tests replication

clean-reports:
	rm -rf reports/*
