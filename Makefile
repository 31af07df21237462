# Everything a fresh machine needs, installed into the repository itself:
# Python packages into .venv/, Azurite into node_modules/.
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
PROMOTE := $(VENV)/bin/promote

.PHONY: install demo test bench reliability check-infra clean

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

test: install
	$(PY) -m pytest -q

bench: install
	$(PY) bench/run.py
	$(PY) bench/judge.py

reliability: install
	$(PY) tools/reliability.py --long --write docs/reliability.md

check-infra: install
	$(PY) -m pytest -q tests/infra

clean:
	-$(PROMOTE) dev down
	rm -rf $(VENV) node_modules .promote .pytest_cache .hypothesis
