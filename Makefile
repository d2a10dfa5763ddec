# Two commands do all the set-up on a fresh machine:
#   make run    - create .venv if needed, then start Glimpse Desktop on the default library
#   make test   - create .venv if needed, then lint, type-check and run the test suite
# and, for a release, `make package`: the desktop bundle (PyInstaller) in dist/glimpse-desktop/
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PACKAGE_STAMP := $(VENV)/.installed-package

.PHONY: run test lint typecheck bench package clean exiftool strace

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --disable-pip-version-check -q -c constraints.txt -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/glimpse-desktop $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy

test: $(STAMP) lint typecheck exiftool strace
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

# The write-back tests check our XMP with exiftool, the reference reader (Debian's
# libimage-exiftool-perl). Installed here when missing and we can (root with apt-get);
# otherwise say how, and the tests that need it fail with the same advice.
exiftool:
	@command -v exiftool >/dev/null 2>&1 || { \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q libimage-exiftool-perl || \
	      { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	        libimage-exiftool-perl; }; \
	  else \
	    echo "exiftool is missing: install it (sudo apt-get install libimage-exiftool-perl," \
	         "or brew install exiftool); the write-back tests need it"; \
	  fi; }

# The no-network tests run the window and every verb under strace, which sees what native
# code (onnxruntime's telemetry) sends as well as Python's sockets. Installed like exiftool.
strace:
	@command -v strace >/dev/null 2>&1 || { \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q strace || \
	      { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q strace; }; \
	  else \
	    echo "strace is missing: install it (sudo apt-get install strace);" \
	         "the no-network tests need it"; \
	  fi; }

bench: $(STAMP)
	$(BIN)/python bench/ingest.py $(BENCH_ARGS)

# PyInstaller only comes with the `package` extra, so `make test` (CI) never installs it.
$(PACKAGE_STAMP): $(STAMP)
	$(BIN)/python -m pip install --disable-pip-version-check -q -c constraints.txt -e '.[package]'
	touch $(PACKAGE_STAMP)

# The desktop bundle: dist/glimpse-desktop/ (see README, "Packaging"). Minutes and gigabytes.
package: $(PACKAGE_STAMP)
	PYTHON=$(BIN)/python packaging/build.sh bundle

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
