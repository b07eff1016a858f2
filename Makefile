# Two commands do all the set-up on a fresh machine:
#   make demo   create .venv, install what the demo runs, render the mock survey, run
#               every pipeline
#   make test   create .venv, install the test stack too, run ruff and the test suite
VENV ?= .venv
PYTHON ?= python3
# CPU build on the project's build machines; override e.g. TORCH_SPEC="torch>=2.4" on a GPU box.
TORCH_SPEC ?= torch==2.13.0
BIN := $(VENV)/bin
export KEDRO_DISABLE_TELEMETRY := true
export PYTHONUNBUFFERED := 1

.PHONY: install install-dev demo test test-fast lint benchmarks clean-data

$(BIN)/.venv-created:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --progress-bar on "$(TORCH_SPEC)"
	touch $@

# what the demo runs: the package and the notebook kernel (no test stack, no Spark)
$(BIN)/.installed: pyproject.toml $(BIN)/.venv-created
	$(BIN)/python -m pip install --progress-bar on -e ".[notebook]"
	touch $@

# what the tests need besides: pytest, ruff, pyspark, a local S3 server
$(BIN)/.installed-dev: pyproject.toml $(BIN)/.installed
	$(BIN)/python -m pip install --progress-bar on -e ".[dev]"
	touch $@

install: $(BIN)/.installed

install-dev: $(BIN)/.installed-dev

demo: install
	$(BIN)/kedro run --pipelines mock_survey
	$(BIN)/kedro run
	$(BIN)/kedro run --pipelines scan

lint: install-dev
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
