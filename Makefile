# yuyue: `make run` starts the whole platform with demo data; `make test` runs every test.
# Needs only python3 (3.11+); everything else is installed into .venv on first use, and again
# only when pyproject.toml changes. DATABASE_URL, HOST and PORT are taken from the environment.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
CHROMIUM := /usr/bin/chromium
LINT_PATHS := src tests deploy $(wildcard bench)

.DEFAULT_GOAL := help
.PHONY: help run test bench lint format install browser migrate demo messages prod-up

help:
	@echo "make run     migrate, load the demo data, serve http://127.0.0.1:8000 with the job worker"
	@echo "make test    the whole test suite (DATABASE_URL=postgres://... for PostgreSQL)"
	@echo "make bench   the benchmarks (bench/run.py)"
	@echo "make prod-up the production topology on this machine: gunicorn, uvicorn, 2 job workers on"
	@echo "             PostgreSQL and Redis (deploy/Procfile run by honcho; docs/operations.md)"
	@echo "make lint    ruff check + ruff format --check + the import contracts;  make format  fixes what it can"

install: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
	  || { echo "yuyue needs Python 3.11 or newer as '$(PYTHON)' (make PYTHON=python3.11 ...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

# The pages' translations: each .po compiled to its .mo when it changes (Babel, pure Python).
PO_FILES := $(wildcard src/yuyue/locale/*/LC_MESSAGES/django.po)
MO_FILES := $(PO_FILES:.po=.mo)
messages: $(MO_FILES)
%/LC_MESSAGES/django.mo: %/LC_MESSAGES/django.po $(STAMP)
	$(VENV)/bin/pybabel -q compile -D django -i $< -o $@

# The page tests drive Debian's chromium (Playwright never downloads a browser of its own here),
# and their screenshots need a real font for Chinese (Noto CJK): both from Debian, once.
BROWSER_PACKAGES := $(if $(wildcard $(CHROMIUM)),,chromium) \
  $(if $(wildcard /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc),,fonts-noto-cjk)
browser:
	@if [ -n "$(strip $(BROWSER_PACKAGES))" ]; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    echo "installing Debian's $(strip $(BROWSER_PACKAGES)) for the page tests"; \
	    export DEBIAN_FRONTEND=noninteractive; log=$$(mktemp); \
	    if ! { apt-get -o DPkg::Lock::Timeout=300 update -qq \
	           && apt-get -o DPkg::Lock::Timeout=300 install -y -qq $(BROWSER_PACKAGES); } \
	           >$$log 2>&1; then \
	      cat $$log; rm -f $$log; echo "could not install $(BROWSER_PACKAGES) with apt-get" >&2; \
	      exit 1; \
	    fi; \
	    rm -f $$log; \
	  else \
	    echo "The page tests need Debian's $(strip $(BROWSER_PACKAGES))."; \
	    echo "Install them once as root: sudo apt-get install $(strip $(BROWSER_PACKAGES))"; \
	    exit 1; \
	  fi; \
	fi

migrate: install
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py load_demo

run: demo messages
	$(PY) manage.py ensure_periodic_jobs
	$(PY) manage.py run_platform

# The production topology (deploy/Procfile under honcho) on this machine's PostgreSQL and Redis;
# its env file is var/production.env (written the first time), or PROD_ENV=...
prod-up: install messages
	deploy/prod-up $(PROD_ENV)

test: install browser messages
	$(VENV)/bin/pytest $(PYTEST_ARGS)

bench: install
	@if [ -f bench/run.py ]; then $(PY) bench/run.py; else echo "no bench/run.py yet"; fi

lint: install
	$(VENV)/bin/ruff check $(LINT_PATHS)
	$(VENV)/bin/ruff format --check $(LINT_PATHS)
	cd src && ../$(VENV)/bin/lint-imports --config ../pyproject.toml --no-cache
	$(PY) manage.py migration_locks

format: install
	$(VENV)/bin/ruff format $(LINT_PATHS)
	$(VENV)/bin/ruff check --fix $(LINT_PATHS)
