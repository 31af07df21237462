# Everything a fresh machine needs, installed into the repository itself:
# Python packages into .venv/, Azurite into node_modules/.
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
PROMOTE := $(VENV)/bin/promote

.PHONY: install browser demo test bench reliability check-infra clean

install: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: pyproject.toml requirements.txt
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "promote needs Python 3.11 ($(PYTHON) not found; set PYTHON=...)" >&2; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

demo: install
	$(PROMOTE) dev up
	$(PROMOTE) demo

# The board's browser tests drive the system's Chromium (Playwright cannot download its own browser here).
CHROMIUM ?= /usr/bin/chromium
browser:
	@if [ -x "$(CHROMIUM)" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && [ -f /etc/debian_version ]; then \
		echo "installing Chromium for the board's browser tests (apt-get install chromium)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
		echo "the board's browser tests need Chromium at $(CHROMIUM); install it (Debian/Ubuntu: sudo apt-get install chromium) or run make test CHROMIUM=/path/to/chromium" >&2; \
		exit 2; \
	fi

test: install browser
	PROMOTE_CHROMIUM=$(CHROMIUM) $(PY) -m pytest -q

bench: install
	$(PY) bench/run.py
	$(PY) bench/board.py

reliability: install
	$(PY) tools/reliability.py --long --write docs/reliability.md

check-infra: install
	$(PY) -m pytest -q tests/infra

clean:
	-$(PROMOTE) dev down
	rm -rf $(VENV) node_modules .promote .pytest_cache .hypothesis
