# Two commands set up a fresh machine:  `make run` (the app on SQLite)  and  `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# The CPU build of torch goes in first: a plain `torch` requirement would pull a multi-GB CUDA build.
TORCH_SPEC ?= torch==2.13.0
TORCH_PIP_ARGS ?=
# What pip installs after torch: the project with its test tools; the image takes `.` alone.
PROJECT_SPEC ?= .[dev]
CHROMIUM ?= /usr/bin/chromium

.PHONY: setup run sandbox worker test lint browser demo-check bench-smoke lock clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml requirements.lock
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet $(TORCH_PIP_ARGS) "$(TORCH_SPEC)"
	$(BIN)/pip install --quiet -c requirements.lock -e '$(PROJECT_SPEC)'
	touch $@

run: setup sandbox
	@if [ ! -x /usr/bin/bwrap ]; then \
	  echo "################################################################"; \
	  echo "# WARNING: bubblewrap is not installed: demos run WITHOUT the    #"; \
	  echo "# sandbox (apt-get install bubblewrap). Production refuses this. #"; \
	  echo "################################################################"; fi
	$(BIN)/backprop start

# Demos run under bubblewrap: install it when missing and we may (as `make test` does).
sandbox:
	@if [ ! -x /usr/bin/bwrap ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null || true; \
	fi

# A demo worker for BACKPROP_DEMO_QUEUE=redis://... (docs/TEAM.md).
worker: setup
	$(BIN)/backprop worker

# Browser tests drive Debian's Chromium (with CJK fonts for the Chinese pages); demos run
# under bubblewrap. Install them when missing and we may.
browser:
	@if [ ! -x $(CHROMIUM) ] || [ ! -x /usr/bin/bwrap ] || [ ! -d /usr/share/fonts/opentype/noto ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium bubblewrap fonts-noto-cjk >/dev/null; \
	  else echo "note: $(CHROMIUM) missing and not root: browser tests will be skipped"; fi; \
	fi

test: setup browser
	$(BIN)/python -m pytest -q

lint: setup
	$(BIN)/ruff check app tests bench
	$(BIN)/ruff format --check app tests bench
	$(BIN)/mypy app

demo-check: setup
	$(BIN)/backprop demo check

# Every benchmark with --quick: checks they run, not their figures (CI).
bench-smoke: setup
	$(BIN)/python bench/smoke.py

# Pin every dependency (and the dev tools) to the versions the tests ran on.
lock: setup
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 \
	  --python-platform x86_64-manylinux_2_28 --no-header -q -o requirements.lock

clean:
	rm -rf $(VENV) data .pytest_cache
