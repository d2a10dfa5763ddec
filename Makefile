# Two commands do all the set-up on a fresh machine:
#   make run    - create .venv if needed, then start Glimpse Desktop on the default library
#   make test   - create .venv if needed, then lint, type-check and run the test suite
# and, for a release, `make package`: the desktop bundle (PyInstaller) in dist/glimpse-desktop/
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
COMMA  := ,
PIP    := python -m pip install --disable-pip-version-check -q -c constraints.txt
# What `make run` needs (the app: no torch, no CUDA; sizes in the README, "Set-up"), what
# `make lint`/`make typecheck` add (the dev tools: ruff and mypy need no torch, whose types are
# optional in pyproject's mypy section) and what `make test` adds (torch: the tests build
# random-weight models with it; PyInstaller: the slow packaging test builds the bundle from
# this venv, a second install of the app in a venv of its own took CI minutes). A stamp each,
# so run after test installs nothing and each later step adds only what it needs.
RUN_STAMP  := $(VENV)/.installed-run
DEV_STAMP  := $(VENV)/.installed-dev
TEST_STAMP := $(VENV)/.installed-test
# Where `make test` takes torch and torchvision from; empty: PyPI, whose Linux wheels carry
# CUDA (3 GB). TORCH_INDEX=https://download.pytorch.org/whl/cpu takes the CPU-only build: those
# two alone from that index (--no-deps: it replaces PyPI, and holds few of the versions
# constraints.txt pins), then everything else from PyPI, where the installed torch counts.
TORCH_INDEX ?=
# ONNX Runtime's GPU build (README, "The GPU build"; `make gpu`) and the CPU one are one
# folder, onnxruntime/: pip would put the CPU build back over it whenever pyproject.toml or
# constraints.txt change, because the app requires `onnxruntime` by name. Once the GPU build
# is installed the app's requirements are installed without it. Same version as the CPU pin.
ORT_VERSION := $(shell sed -n 's/^onnxruntime==//p' constraints.txt)
ORT_GPU     := onnxruntime-gpu[cuda,cudnn]==$(ORT_VERSION)
HAS_ORT_GPU := $(shell test -x $(BIN)/python && $(BIN)/python -c \
                 'import importlib.metadata as m; m.version("onnxruntime-gpu")' 2>/dev/null \
                 && echo 1)
# The app's requirements and those of the extras named ($(1): "dev,torch"), onnxruntime left
# out, one a line.
REQUIREMENTS = $(BIN)/python -c 'import re, sys, tomllib; \
  p = tomllib.load(open("pyproject.toml", "rb"))["project"]; \
  extras = [e for e in sys.argv[1].split(",") if e]; \
  reqs = p["dependencies"] + [r for e in extras for r in p["optional-dependencies"][e]]; \
  print("\n".join(r for r in reqs if re.split(r"[^\w.-]", r)[0].lower() != "onnxruntime"))' '$(1)'
# Installs the app in editable mode with the extras $(1) (empty: none).
ifeq ($(HAS_ORT_GPU),1)
INSTALL = $(REQUIREMENTS) >$(VENV)/.requirements && \
  $(BIN)/$(PIP) -r $(VENV)/.requirements && $(BIN)/$(PIP) --no-deps -e .
else
INSTALL = $(BIN)/$(PIP) -e '.$(if $(1),[$(1)])'
endif
# `make package` builds in a venv of its own: the app and PyInstaller, no torch (the bundle
# must not find it) and no dev tools.
PACKAGE_VENV  ?= build/package-venv
PACKAGE_STAMP := $(PACKAGE_VENV)/.installed

.PHONY: run test lint typecheck bench package clean exiftool strace syslibs gpu

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(RUN_STAMP): pyproject.toml constraints.txt | $(BIN)/python
	$(call INSTALL,)
	touch $(RUN_STAMP)

$(DEV_STAMP): pyproject.toml constraints.txt | $(BIN)/python
	$(call INSTALL,dev)
	touch $(DEV_STAMP) $(RUN_STAMP)

# After the dev stamp, so that lint and typecheck never install beside it (make -j).
$(TEST_STAMP): pyproject.toml constraints.txt $(DEV_STAMP)
	$(if $(TORCH_INDEX),$(BIN)/$(PIP) --no-deps --index-url $(TORCH_INDEX) torch torchvision)
	$(call INSTALL,dev$(COMMA)torch$(COMMA)package)
	touch $(TEST_STAMP) $(DEV_STAMP) $(RUN_STAMP)

# ONNX Runtime's CUDA build in place of the CPU one (README, "The GPU build"): the CPU build
# goes first (uninstalling it after would delete the shared folder's files), and a GPU build
# that it overwrote is reinstalled whole.
gpu: $(RUN_STAMP)
	$(BIN)/python -m pip uninstall -y -q onnxruntime
	$(BIN)/$(PIP) --force-reinstall --no-deps '$(ORT_GPU)'
	$(BIN)/$(PIP) '$(ORT_GPU)'
	$(BIN)/python -c 'import onnxruntime as o; print("ONNX Runtime", o.__version__, o.get_available_providers())'

run: $(RUN_STAMP) syslibs
	$(BIN)/glimpse-desktop $(ARGS)

# The system libraries Qt's X11 window needs (README, "System libraries"), asked of the
# dynamic loader. Missing ones are named with the command of this distribution that installs
# them; run here when we are root, else run stops and the person runs it.
# As root the command is unattended (no question, package lists fetched where missing), and
# the check runs again after it.
syslibs: $(RUN_STAMP)
	@cmd=$$($(BIN)/python -m glimpse_desktop.kernel.syslibs) || { \
	  if [ "$$(id -u)" = 0 ] && [ -n "$$cmd" ]; then echo "$$cmd" && eval "$$cmd" && \
	    $(BIN)/python -m glimpse_desktop.kernel.syslibs >/dev/null; \
	  else exit 1; fi; }

lint: $(DEV_STAMP)
	$(BIN)/ruff check .

typecheck: $(DEV_STAMP)
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

# `make package` builds from a venv with the app and the `package` extra only, so that
# nothing of torch or the dev tools can reach the bundle. (The test venv has PyInstaller too:
# tests/test_packaging.py builds the bundle there, the spec's excludes keeping torch out.)
$(PACKAGE_STAMP): pyproject.toml constraints.txt
	test -x $(PACKAGE_VENV)/bin/python || $(PYTHON) -m venv $(PACKAGE_VENV)
	$(PACKAGE_VENV)/bin/$(PIP) -e '.[package]'
	touch $(PACKAGE_STAMP)

# The desktop bundle: dist/glimpse-desktop/ (README, "Packaging": its size and how to start it).
package: $(PACKAGE_STAMP)
	PYTHON=$(PACKAGE_VENV)/bin/python packaging/build.sh bundle

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
