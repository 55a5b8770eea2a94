# mbcpath: two commands on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.setup-stamp
NODE_STAMP := node_modules/.setup-stamp

.PHONY: setup run demo test test-scale test-fast lint bench bench-quick clean

setup: $(STAMP) $(NODE_STAMP)

$(STAMP): pyproject.toml scripts/install-system-deps.sh tools/fhir-server/package-lock.json
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "mbcpath needs Python >= 3.11"'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	bash scripts/install-system-deps.sh
	cd tools/fhir-server && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error  # local FHIR server for the SMART tests
	touch $(STAMP)

# Test-only JavaScript (axe-core for the accessibility checks), pinned by package-lock.json; reruns only when the
# lock changes, and takes packages from npm's cache first.
$(NODE_STAMP): package.json package-lock.json | $(STAMP)
	npm ci --no-audit --no-fund --ignore-scripts --prefer-offline --loglevel=error
	touch $(NODE_STAMP)

run: setup  ## the clinician web app + REST API on http://127.0.0.1:8000
	$(PY) -m mbcpath.web --host 127.0.0.1 --port 8000

demo: setup  ## the clinical summary's case, decision point by decision point
	$(VENV)/bin/mbcpath demo

test: setup  ## the whole suite (unit, vignettes, property, survival, API, browser, Spark local); not the 100,000-patient runs
	$(VENV)/bin/mbcpath kb validate
	$(PY) -m pytest -n 2 --dist loadgroup -q -m "not scale"

test-scale: setup  ## python, duckdb and spark give identical answers on 100,000 synthetic patients (long: see README)
	$(PY) -m pytest -q -m scale

test-fast: setup
	$(PY) -m pytest -q -m "not slow and not browser and not scale"

lint: setup  ## ruff, mypy, and the dependency audit (says plainly when it could not run: offline)
	$(VENV)/bin/ruff check src tests bench scripts
	$(VENV)/bin/mypy
	$(PY) scripts/dependency_audit.py

bench: setup  ## each benchmark against its same-run baseline, with targets; then a 10-minute soak
	$(PY) bench/run_all.py
	$(PY) bench/soak.py --minutes 10 --clients 50

bench-quick: setup  ## the same, shorter (soak: 1 minute)
	$(PY) bench/run_all.py --quick
	$(PY) bench/soak.py --minutes 1 --clients 50

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache .hypothesis artifacts
