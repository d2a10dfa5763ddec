# Two commands do all the set-up on a fresh machine:
#   make run    - create .venv if needed, then start Glimpse Desktop on the default library
#   make test   - create .venv if needed, then lint, type-check and run the test suite
# and, for a release, `make package`: the desktop bundle (PyInstaller) in dist/glimpse-desktop/
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := python -m pip install --disable-pip-version-check -q -c constraints.txt
# What `make run` needs (the app: about 1.1 GB, no torch, no CUDA), and what `make test` adds
# (the dev tools, and torch: the tests build random-weight models with it). Two stamps, so run
# after test installs nothing and test after run adds only what it needs.
RUN_STAMP  := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test
# Where `make test` takes torch from; empty: PyPI, whose Linux wheels carry CUDA (3 GB).
# TORCH_INDEX=https://download.pytorch.org/whl/cpu takes the CPU-only build instead.
TORCH_INDEX ?=
# `make package` builds in a venv of its own: the app and PyInstaller, no torch (the bundle
# must not find it) and no dev tools.
PACKAGE_VENV  ?= build/package-venv
PACKAGE_STAMP := $(PACKAGE_VENV)/.installed

.PHONY: run test lint typecheck bench package clean exiftool strace syslibs

$(RUN_STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/$(PIP) -e .
	touch $(RUN_STAMP)

$(TEST_STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(if $(TORCH_INDEX),$(BIN)/$(PIP) --index-url $(TORCH_INDEX) torch torchvision)
	$(BIN)/$(PIP) -e '.[dev,torch]'
	touch $(TEST_STAMP) $(RUN_STAMP)

run: $(RUN_STAMP) syslibs
	$(BIN)/glimpse-desktop $(ARGS)

# The system libraries Qt's X11 window needs (README, "System libraries"), asked of the
# dynamic loader. Missing ones are named with the command of this distribution that installs
# them; run here when we are root, else run stops and the person runs it.
syslibs: $(RUN_STAMP)
	@cmd=$$($(BIN)/python -m glimpse_desktop.kernel.syslibs) || { \
	  if [ "$$(id -u)" = 0 ] && [ -n "$$cmd" ]; then echo "$$cmd" && eval "$$cmd"; \
	  else exit 1; fi; }

lint: $(TEST_STAMP)
	$(BIN)/ruff check .

typecheck: $(TEST_STAMP)
	$(BIN)/mypy

test: $(TEST_STAMP) lint typecheck exiftool strace
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

bench: $(TEST_STAMP)
	$(BIN)/python bench/ingest.py $(BENCH_ARGS)

# PyInstaller only comes with the `package` extra, so `make test` (CI) never installs it.
$(PACKAGE_STAMP): pyproject.toml constraints.txt
	test -x $(PACKAGE_VENV)/bin/python || $(PYTHON) -m venv $(PACKAGE_VENV)
	$(PACKAGE_VENV)/bin/$(PIP) -e '.[package]'
	touch $(PACKAGE_STAMP)

# The desktop bundle: dist/glimpse-desktop/ (see README, "Packaging"). A few minutes, ~500 MB.
package: $(PACKAGE_STAMP)
	PYTHON=$(PACKAGE_VENV)/bin/python packaging/build.sh bundle

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
