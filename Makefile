# Portico: `make demo` to try it, `make test` to prove it.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
export DJANGO_SETTINGS_MODULE := portico.settings

.PHONY: demo test install assets messages demo-data demo-code serve lint typecheck system-packages clean

$(VENV)/.installed: requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.lock
	$(PY) -m pip install --quiet -e agent
	touch $@

install: $(VENV)/.installed assets messages

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

assets: node_modules/.package-lock.json
	npm run --silent build

# gettext's msgfmt compiles the translations; install it when the machine lacks it.
messages: $(VENV)/.installed
	@command -v msgfmt >/dev/null || scripts/apt-install gettext
	mkdir -p var
	test ! -d locale || $(PY) manage.py compilemessages --ignore=.venv --ignore=node_modules -v 0

demo-data: install
	$(PY) manage.py migrate --noinput -v 0
	$(PY) manage.py load_demo

demo: demo-data
	@scripts/apt-install xvfb x11vnc xterm restic || echo "Without Xvfb, x11vnc and xterm the demo device offers no remote control; without restic, no backups."
	$(PY) manage.py collectstatic --noinput -v 0
	scripts/serve-demo $(PORT)

demo-code:
	@$(PY) manage.py demo_code "$(EMAIL)"

system-packages:
	scripts/apt-install chromium dovecot-imapd restic xvfb x11vnc xterm

test: install system-packages
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check portico tests agent
	$(VENV)/bin/mypy portico

clean:
	rm -rf var node_modules portico/web/static/web/dist
