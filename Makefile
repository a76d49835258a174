# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PRESET ?= cpu-tiny
OUT ?= runs/$(PRESET)-$(shell date +%Y%m%d-%H%M%S)
STAMP := $(VENV)/.installed-dev

.PHONY: run test lint format install clean chromium bubblewrap

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/ouroboros run --preset $(PRESET) --out $(OUT)
	@echo "ouroboros is installed in $(VENV)/bin/: call it as $(VENV)/bin/ouroboros," \
	  "or run 'source $(VENV)/bin/activate' once per shell and type ouroboros"

test: $(STAMP) chromium bubblewrap
	$(PY) -m pytest -q

# The run report's tests drive headless Chromium: install Debian's package when missing.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u 2>/dev/null)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else \
	    echo "note: chromium not found and cannot be installed here (needs root and apt-get);" \
	      "the report's browser tests will be skipped"; \
	  fi; }

# The local sandbox jails each worker with bubblewrap: install Debian's package when missing.
bubblewrap:
	@command -v bwrap >/dev/null 2>&1 || { \
	  if [ "$$(id -u 2>/dev/null)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap; \
	  else \
	    echo "WARNING: bubblewrap (bwrap) is not installed and cannot be installed here" \
	      "(needs root and apt-get). The sandbox falls back to weaker isolation: programs" \
	      "can read world-readable host files. Install it: sudo apt-get install bubblewrap"; \
	  fi; }

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
