# Two commands do all the set-up on a fresh machine:
#   make demo   create .venv, install, render the mock survey, run every pipeline
#   make test   create .venv, install, run ruff and the test suite
VENV ?= .venv
PYTHON ?= python3
# CPU build on the project's build machines; override e.g. TORCH_SPEC="torch>=2.4" on a GPU box.
TORCH_SPEC ?= torch==2.13.0
BIN := $(VENV)/bin
export KEDRO_DISABLE_TELEMETRY := true
export PYTHONUNBUFFERED := 1

.PHONY: install demo test test-fast lint benchmarks clean-data

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "$(TORCH_SPEC)"
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

install: $(BIN)/.installed

demo: install
	$(BIN)/kedro run --pipelines mock_survey
	$(BIN)/kedro run
	$(BIN)/kedro run --pipelines scan

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

test: lint
	$(BIN)/python -m pytest

# the unit tests only (no pipeline runs, kedro commands or Spark): about a minute
test-fast: lint
	$(BIN)/python -m pytest -m "not slow"

benchmarks: install
	$(BIN)/python benchmarks/mock_render.py
	$(BIN)/python benchmarks/quality_throughput.py
	$(BIN)/python benchmarks/ingest_npz.py
	$(BIN)/python benchmarks/ingest_limit.py
	$(BIN)/python benchmarks/gates_vs_quality.py
	$(BIN)/python benchmarks/train_throughput.py
	$(BIN)/python benchmarks/scan_throughput.py

clean-data:
	find data -mindepth 2 ! -name .gitkeep -delete
