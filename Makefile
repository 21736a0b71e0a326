# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
FUWU := $(VENV)/bin/fuwu
export FUWU_HOME ?= $(CURDIR)/var

.PHONY: run test bench install install-test

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

# Reinstall when the dependencies change.
$(VENV)/.installed: pyproject.toml setup.py | $(VENV)/bin/python
	$(PY) -m pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml setup.py | $(VENV)/bin/python
	$(PY) -m pip install -q -e ".[test]"
	@command -v chromium >/dev/null || [ "$$(id -u)" != 0 ] || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk)
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

## make run: set up ./var (SQLite), upgrade, load demo data, serve on :8000
run: install
	$(FUWU) init
	$(FUWU) demo load
	$(FUWU) serve --host 127.0.0.1 --port 8000

## make test: the whole suite on SQLite and on a throwaway PostgreSQL 15
test: install-test
	tests/run.sh

## make bench: benchmarks printing ratios against a baseline (not part of test)
bench: install-test
	$(PY) -m bench
