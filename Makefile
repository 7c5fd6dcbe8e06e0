# Two commands for a fresh clone (see README): `make demo` and `make test`.
# Each creates its own virtual environment in .venv and installs what it needs from PyPI;
# `make test` also runs the suite on Python 3.13 in .venv-3.13 when the machine has one.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
MIN_VENV := .venv-min
BIN := $(VENV)/bin
# The first Python 3.13 that runs: python3.13 on PATH (a pyenv shim may exist but refuse to
# run), then pyenv's own versions. Set PYTHON313=/path/to/python3.13 to choose one.
ifndef PYTHON313
PYTHON313 := $(shell for p in python3.13 $(HOME)/.pyenv/versions/3.13*/bin/python3.13; do \
  "$$p" -c 'import sys; assert sys.version_info[:2] == (3, 13)' >/dev/null 2>&1 \
  && { command -v "$$p"; break; }; done)
endif
VENV313 := .venv-3.13
OUT ?= out/ector
BDC_SIZES ?= 1000000,10000000,50000000

.PHONY: demo test test-3.11 test-3.13 test-min lint browser docs bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.demo-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet .
	touch $@

$(VENV)/.test-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test,dask,plan,polars,docs]"
	touch $@ $(VENV)/.demo-installed

## make demo: install, then build the Ector County equity map, report and exports into $(OUT) (no network)
demo: $(VENV)/.demo-installed
	ASSETMAP_OFFLINE=1 $(BIN)/assetmap demo --out $(OUT)

## make test: test-3.11, then test-3.13
test: test-3.11 test-3.13

## make test-3.11: install with test extras and a headless Chromium, then lint, type-check,
## run every test and notebook, build the docs
test-3.11: $(VENV)/.test-installed browser
	$(BIN)/ruff check src tests benchmarks scripts examples
	$(BIN)/mypy src/assetmap
	$(BIN)/python -m pytest --nbmake tests src/assetmap notebooks/
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet --site-dir $(VENV)/site

## make test-3.13: the tests and doctests on Python 3.13 in $(VENV313) (no lint, notebooks or
## docs: those run once, on 3.11); says so and succeeds when the machine has no Python 3.13
ifeq ($(PYTHON313),)
test-3.13:
	@echo "test-3.13: SKIPPED, no Python 3.13 on this machine (no python3.13 on PATH, none in" \
	  "~/.pyenv/versions); set PYTHON313=/path/to/python3.13 to run the suite on 3.13"
else
test-3.13: $(VENV313)/.test-installed browser
	$(VENV313)/bin/python -m pytest -p no:cacheprovider tests src/assetmap
endif

$(VENV313)/bin/python:
	$(PYTHON313) -m venv $(VENV313)
	$(VENV313)/bin/python -m pip install --quiet --upgrade pip

$(VENV313)/.test-installed: pyproject.toml | $(VENV313)/bin/python
	$(VENV313)/bin/python -m pip install --quiet -e ".[test,dask,plan,polars]"
	touch $@

## make test-min: the suite in $(MIN_VENV), every dependency at its lower bound (requirements/constraints-min.txt)
test-min: $(MIN_VENV)/.installed browser
	$(MIN_VENV)/bin/python -m pytest -p no:cacheprovider --deselect tests/test_packaging.py

$(MIN_VENV)/.installed: pyproject.toml requirements/constraints-min.txt
	rm -rf $(MIN_VENV)
	$(PYTHON) -m venv $(MIN_VENV)
	$(MIN_VENV)/bin/python -m pip install --quiet -c requirements/constraints-min.txt -e ".[test,dask,plan]"
	touch $@

browser:
	@bash scripts/ensure_chromium.sh
	@bash scripts/ensure_axe.sh

## make docs: build the documentation site into site/
docs: $(VENV)/.test-installed
	$(BIN)/mkdocs build --strict

## make bench: every benchmark script, each beside its obvious alternative (BDC_SIZES=1000000 for a quick run)
bench: $(VENV)/.test-installed
	$(BIN)/python benchmarks/demo_time.py
	$(BIN)/python benchmarks/scoring.py
	$(BIN)/python benchmarks/site_selection.py
	$(BIN)/python benchmarks/map_render.py
	$(BIN)/python benchmarks/bdc_aggregation.py --sizes $(BDC_SIZES)

clean:
	rm -rf $(VENV) $(VENV313) $(MIN_VENV) out build dist .pytest_cache .mypy_cache
