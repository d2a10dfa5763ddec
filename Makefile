# Two commands do all the set-up on a fresh machine:
#   make run    - create .venv if needed, then start Glimpse Desktop on the default library
#   make test   - create .venv if needed, then lint, type-check and run the test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint typecheck bench clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --disable-pip-version-check -q -c constraints.txt -e '.[dev]'
	touch $(STAMP)

# Until the desktop window lands, glimpse-desktop exits 2 after saying how to use the CLI;
# that is not a failure of `make run`.
run: $(STAMP)
	@$(BIN)/glimpse-desktop $(ARGS); status=$$?; [ $$status -eq 0 ] || [ $$status -eq 2 ]

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy

test: $(STAMP) lint typecheck
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python bench/ingest.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
