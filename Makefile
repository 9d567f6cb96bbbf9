# Werkbank: `make run` serves the app with demo data, `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test bench load lint install static translations messages chromium clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed static translations

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

static/vendor/.built: node_modules/.package-lock.json scripts/build-static.sh
	scripts/build-static.sh

static: static/vendor/.built

translations: $(VENV)/.installed
	$(BIN)/pybabel compile -d locale -D messages --statistics 2>&1 | grep -v "^compiling" || true

# After changing user-facing texts: extract them and merge into the catalogs, then translate
# the new entries in locale/nl/LC_MESSAGES/messages.po (tests/core/test_i18n.py checks that).
messages: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k gettext -k ngettext:1,2 --no-location \
	  --sort-output --project=Werkbank -o locale/messages.pot --ignore-dirs='.venv node_modules static tests bench' .
	$(BIN)/pybabel update -i locale/messages.pot -d locale -D messages --no-fuzzy-matching --ignore-obsolete -w 100

run: install
	$(BIN)/werkbank migrate
	$(BIN)/werkbank demo --if-empty
	$(BIN)/werkbank serve --host $(HOST) --port $(PORT)

# Debian's chromium for the browser tests (never a downloaded browser build).
chromium:
	@if ! command -v chromium >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	      || echo "!!! could not install chromium: the browser tests will be skipped"; \
	  else echo "!!! chromium is missing and this is not root: the browser tests will be skipped"; fi; \
	fi

test: install chromium
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: install
	$(BIN)/python -m bench

# A bounded load test on both engines (about a minute and a half; CI runs it after the tests).
load: install
	$(BIN)/python -m bench.load $(LOAD_ARGS)

lint: install
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) node_modules static/vendor
