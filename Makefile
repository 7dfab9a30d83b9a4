# `make serve` and `make test` work on a bare machine: they create .venv and install what is needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install test test-fast lint format serve serve-dev train evaluate benchmarks clean

install: $(STAMP)

# torch first, as the local CPU build: otherwise the resolver pulls the CUDA wheels (several GB).
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# pytest exits 5 when it collected nothing: report that as a failure, not as a silent pass.
test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest; status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests" >&2; exit 1; fi; exit $$status

test-fast: install
	$(BIN)/pytest -m "not slow"

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

serve: install
	$(BIN)/berakhlak serve

serve-dev: install
	$(BIN)/berakhlak serve --dev

train: install
	$(BIN)/berakhlak train

evaluate: install
	$(BIN)/berakhlak evaluate

benchmarks: install
	$(BIN)/python benchmarks/encode.py
	$(BIN)/python benchmarks/tag.py
	$(BIN)/python benchmarks/load.py
	$(BIN)/python benchmarks/batch.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
