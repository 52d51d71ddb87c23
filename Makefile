# Quick start: `make demo` (plan the bundled fixture region, write maps) and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip

.PHONY: demo test install bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

install: $(BIN)/python
	$(PIP) install -q -e .

demo: install
	$(BIN)/planner demo --out maps

test: $(BIN)/python
	$(PIP) install -q -e '.[test]'
	scripts/fetch_leaflet.sh
	$(BIN)/python -m pytest -q

bench: install
	$(BIN)/python benchmarks/field.py

clean:
	rm -rf $(VENV) planner.db maps/*/ maps/*.html maps/plan.json .pytest_cache
