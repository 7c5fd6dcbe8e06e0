# Two commands for a fresh clone (see README): `make demo` and `make test`.
# Each creates its own virtual environment in .venv and installs what it needs from PyPI.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
MIN_VENV := .venv-min
BIN := $(VENV)/bin
OUT ?= out/ector
BDC_SIZES ?= 1000000,10000000,50000000

.PHONY: demo test test-min lint browser docs bench clean

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

## make test: install with test extras and a headless Chromium, then lint, run every test, build the docs
test: $(VENV)/.test-installed browser
	$(BIN)/ruff check src tests benchmarks scripts examples
	$(BIN)/python -m pytest --nbmake tests src/assetmap notebooks/
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet --site-dir $(VENV)/site

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
	rm -rf $(VENV) $(MIN_VENV) out build dist .pytest_cache
