# Everything a fresh machine needs, installed into the repository itself:
# Python packages into .venv/, Azurite into node_modules/.
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
PROMOTE := $(VENV)/bin/promote

.PHONY: install demo test typecheck test-random mutation bench reliability check-infra clean

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

# Hypothesis is derandomized here (profile "ci", tests/conftest.py): the same examples every run.
test: install typecheck
	$(PY) -m pytest -q

typecheck: install
	$(PY) -m mypy

# The property-based tests with fresh random examples each run (not part of make test).
test-random: install
	HYPOTHESIS_PROFILE=random $(PY) -m pytest -q tests/unit tests/faults/test_stateful.py

# Mutation testing of the domain, the service and the table store (a few minutes; docs/testing.md).
mutation: install
	$(PY) tools/mutation.py

bench: install
	$(PY) bench/run.py

reliability: install
	$(PY) tools/reliability.py --long --write docs/reliability.md

check-infra: install
	$(PY) -m pytest -q tests/infra

clean:
	-$(PROMOTE) dev down
	rm -rf $(VENV) node_modules .promote .pytest_cache .hypothesis .mypy_cache mutants
