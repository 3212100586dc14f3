# ITF Portal: `make run` serves the demo, `make test` runs every check. Both set up what they need.
SHELL := /bin/bash
.DEFAULT_GOAL := run

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
MANAGE := $(PY) manage.py
PORT ?= 8000
DEMO ?=
export DEMO_PASSWORD ?= Better-Care-2014

PYTEST_ARGS ?=

# Locally the app behaves like production (DEBUG off) except that it speaks plain HTTP on loopback;
# the secret key is made once per checkout in .secret_key (git-ignored).
LOCAL_ENV := DJANGO_DEBUG=0 DJANGO_HTTPS=0 DJANGO_SECRET_KEY="$$(cat .secret_key)" \
  ITF_EMBEDDED_POSTGRES=1

.PHONY: run dev test manage setup python-packages frontend browser check bench clean

# The web server and the task worker run side by side; a signal to either make (Ctrl-C) or the
# wrapper stops both, then the embedded database.
run: setup
	@echo "Starting ITF Portal on http://127.0.0.1:$(PORT)  (Ctrl-C stops it, its task worker and its database)"
	@$(LOCAL_ENV) DJANGO_SITE_URL=http://127.0.0.1:$(PORT) $(PY) -m itf_portal.pgembed bash -c '\
	  set -e; \
	  $(MANAGE) migrate --noinput -v0; \
	  $(MANAGE) load_demo $(DEMO); \
	  echo "Sign in at http://127.0.0.1:$(PORT)/ as e.g. southampton-commissioner, password $$DEMO_PASSWORD"; \
	  $(MANAGE) db_worker --queue-name "*" --no-reload -v0 & worker=$$!; \
	  $(VENV)/bin/gunicorn itf_portal.wsgi --bind 127.0.0.1:$(PORT) --workers 2 --threads 4 \
	    --access-logfile - --graceful-timeout 5 & web=$$!; \
	  trap "kill -TERM $$web $$worker 2>/dev/null" INT TERM HUP; \
	  wait $$web || true; kill -TERM $$worker 2>/dev/null || true; wait $$worker || true'

dev: setup
	DJANGO_DEBUG=1 DJANGO_SITE_URL=http://127.0.0.1:$(PORT) $(PY) -m itf_portal.pgembed bash -c '\
	  $(MANAGE) migrate --noinput -v0 && $(MANAGE) load_demo $(DEMO) || exit 1; \
	  $(MANAGE) db_worker --queue-name "*" -v0 & worker=$$!; \
	  $(MANAGE) runserver 127.0.0.1:$(PORT) & web=$$!; \
	  trap "kill -TERM $$web $$worker 2>/dev/null" INT TERM HUP; \
	  wait $$web || true; kill -TERM $$worker 2>/dev/null || true; wait $$worker || true'

# Any management command with the local settings and database, e.g.
#   make manage ARGS="export_plan southampton --format pdf --output plan.pdf"
manage: setup
	@$(LOCAL_ENV) $(PY) -m itf_portal.pgembed $(MANAGE) migrate --noinput -v0
	@$(LOCAL_ENV) $(PY) -m itf_portal.pgembed $(MANAGE) $(ARGS)

setup: python-packages frontend .secret_key
	@$(LOCAL_ENV) $(MANAGE) collectstatic --noinput -v0

python-packages: $(VENV)/.installed
$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

frontend: node_modules/.installed
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

.secret_key:
	@$(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(64))' > $@
	@chmod 600 $@

# Debian packages the tests use: chromium for the browser tests, libharfbuzz-subset0 for fast
# PDFs, and LibreOffice Calc (soffice) to recalculate the exported workbooks' totals.
browser:
	@if command -v chromium >/dev/null && dpkg -s libharfbuzz-subset0 >/dev/null 2>&1 \
	  && command -v soffice >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "Installing Debian's chromium, libharfbuzz-subset0 and libreoffice-calc-nogui ..."; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq \
	  && apt-get install -y -qq chromium libharfbuzz-subset0 >/dev/null \
	  && { command -v soffice >/dev/null \
	    || apt-get install -y -qq --no-install-recommends libreoffice-calc-nogui >/dev/null; }; \
	else \
	  echo "The tests need Debian's chromium, libharfbuzz-subset0 and libreoffice-calc-nogui:"; \
	  echo "  sudo apt-get install chromium libharfbuzz-subset0"; \
	  echo "  sudo apt-get install --no-install-recommends libreoffice-calc-nogui"; \
	fi

check: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	PYTHONPATH=. $(VENV)/bin/lint-imports --no-cache
	$(LOCAL_ENV) $(VENV)/bin/mypy
	$(LOCAL_ENV) $(MANAGE) check
	DJANGO_DEBUG=0 DJANGO_SECRET_KEY="$$(cat .secret_key)" ITF_EMBEDDED_POSTGRES=1 \
	  $(MANAGE) check --deploy --fail-level WARNING
	$(LOCAL_ENV) $(MANAGE) makemigrations --check --dry-run

test: browser check
	$(LOCAL_ENV) $(VENV)/bin/pytest $(PYTEST_ARGS)

bench: setup
	$(PY) -m pip install -q -e '.[dev,bench]'
	$(LOCAL_ENV) $(PY) -m itf_portal.pgembed bash -c '\
	  set -e; $(MANAGE) migrate --noinput -v0; $(MANAGE) load_demo >/dev/null; \
	  $(PY) benchmarks/area_page.py; $(PY) benchmarks/export_excel.py; $(PY) benchmarks/export_pdf.py; $(PY) benchmarks/composite.py; $(PY) benchmarks/worker.py; \
	  $(PY) benchmarks/load.py'


clean:
	rm -rf $(VENV) node_modules staticfiles .pytest_cache .ruff_cache
