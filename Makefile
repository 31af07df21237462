# Everything a fresh machine needs, installed into the repository itself:
# Python packages into .venv/ (exact versions from uv.lock), Azurite into node_modules/ (from package-lock.json).
# promote runs on the Pythons Azure Functions runs: 3.11, 3.12 and 3.13. make uses the newest of them on PATH
# (python3.13, python3.12, python3.11, then python3 if it is one of them), or the one given as PYTHON=...
# A name on PATH that does not run (a pyenv shim of a version not selected) does not count. Looked up once,
# and only when .venv/ is made.
SUPPORTED_PYTHONS := 3.13 3.12 3.11
PYTHON_SUPPORTED = import sys; sys.exit("%d.%d" % sys.version_info[:2] not in "$(SUPPORTED_PYTHONS)".split())
PYTHON ?= $(eval PYTHON := $(shell for p in $(addprefix python,$(SUPPORTED_PYTHONS)) python3; do \
	"$$p" -c '$(PYTHON_SUPPORTED)' >/dev/null 2>&1 && { echo "$$p"; break; }; done))$(PYTHON)
VENV   := .venv
PY     := $(VENV)/bin/python
UV     := $(VENV)/uv/bin/uv
PROMOTE := $(VENV)/bin/promote
# uv itself is pinned too, and lives in .venv/uv/ (beside the environment, not in it, so that an exact sync
# of the environment leaves it alone).
UV_VERSION := 0.13.9
# uv must use .venv's Python, never download one of its own.
export UV_PYTHON_DOWNLOADS := never

.PHONY: install install-runtime browser demo test lint typecheck test-random mutation bench reliability check-infra lock check-lowest clean

# The demo needs only the runtime packages; the tests add the dev extra (pytest, checkov, ...).
# Python and Node installs are independent: they run side by side (-j2), whatever -j make was given.
install:
	@$(MAKE) --no-print-directory -j2 $(VENV)/.installed node_modules/.installed
install-runtime:
	@$(MAKE) --no-print-directory -j2 $(VENV)/.installed-runtime node_modules/.installed

$(UV):
	@if [ -z "$(PYTHON)" ]; then echo "promote needs Python 3.11, 3.12 or 3.13, and none of \
	$(addprefix python,$(SUPPORTED_PYTHONS)) python3 on PATH is one: install one, or set PYTHON=/path/to/python" >&2; exit 2; fi
	@$(PYTHON) -c '$(PYTHON_SUPPORTED)' >/dev/null 2>&1 || { v=$$($(PYTHON) --version 2>/dev/null) || v="not found"; \
	echo "promote needs Python 3.11, 3.12 or 3.13; PYTHON=$(PYTHON) is $$v" >&2; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --target $(VENV)/uv uv==$(UV_VERSION)

# --frozen: install exactly what uv.lock says, never re-resolve; and nothing else (sync removes what the lock
# does not list). The runtime-only sync is skipped once the dev sync has run (it stamps both).
$(VENV)/.installed-runtime: pyproject.toml uv.lock | $(UV)
	$(UV) sync --quiet --frozen --python $(PY)
	@touch $@

# --compile-bytecode: the test suite starts many Python processes at once (three workers, hosts, forked
# runs), which otherwise all compile the same packages' bytecode on first import; uv compiles it once, on
# every core (measured on a fresh clone: install +22 s, the suite -38 s).
$(VENV)/.installed: pyproject.toml uv.lock | $(UV)
	$(UV) sync --quiet --frozen --compile-bytecode --python $(PY) --extra dev
	@touch $@ $(VENV)/.installed-runtime

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# After a change of dependencies in pyproject.toml: re-resolve uv.lock, then write requirements.txt (what the
# Functions deployment installs) from it. tests/unit/test_lock.py checks that the three agree.
lock: | $(UV)
	$(PY) tools/lock.py

# The lower bounds in pyproject.toml hold: the runtime packages at their lowest allowed versions (test tools as
# locked) pass the tests that use them (all but tests/infra and tests/faults), in a separate .venv-lowest/.
check-lowest: install
	rm -rf .venv-lowest
	$(UV) venv --quiet --python $(PY) .venv-lowest
	VIRTUAL_ENV=.venv-lowest $(UV) pip install --quiet --resolution lowest-direct -e .
	$(UV) export --quiet --frozen --extra dev --no-hashes --no-emit-project --no-header > .venv-lowest/locked.txt
	VIRTUAL_ENV=.venv-lowest $(UV) pip install --quiet -c .venv-lowest/locked.txt pytest hypothesis cryptography
	VIRTUAL_ENV=.venv-lowest $(UV) pip list --quiet | grep -Ei '^(azure|pydantic |pyyaml)'
	.venv-lowest/bin/python -m pytest -q tests/unit tests/integration tests/functions tests/routing tests/e2e

demo: install-runtime
	$(PROMOTE) dev up >/dev/null
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

# Hypothesis is derandomized here (profile "ci", tests/conftest.py): the same examples every run.
# The suite runs in TEST_WORKERS processes (pytest-xdist; each starts its own Azurite); TEST_WORKERS=0 runs it
# in this one. Four on two cores: much of the suite waits on other processes (Azurite, hosts killed and
# restarted, locks running out, bake timers), and more workers keep both cores busy meanwhile; with the
# reliability run's parts in `make reliability`, four beat three (263 s against 326 s; docs/testing.md).
# The tiers whose tests `make mutation` runs on Azurite run each test twice in a row against the same Azurite
# (--twice, tests/support/twice.py): a test must not trip over what an earlier run of it left there.
TEST_WORKERS ?= 4
TWICE := tests/integration tests/functions tests/finish/test_finish_storage.py tests/board/test_board_pages.py
# mypy (make typecheck, about 15 s of one core) runs beside the suite, which is waiting on other processes much
# of the time; make test fails if either does, and prints mypy's findings after the suite's.
test: install browser lint
	@log=$$(mktemp); $(PY) -m mypy > $$log 2>&1 & typecheck=$$!; \
	echo "$(PY) -m mypy (beside the suite)"; \
	PROMOTE_CHROMIUM=$(CHROMIUM) $(PY) -m pytest -q -n $(TEST_WORKERS) --dist worksteal -m "not reliability" \
		$(addprefix --twice ,$(TWICE)); tests=$$?; \
	wait $$typecheck; types=$$?; cat $$log; rm -f $$log; \
	[ $$tests -eq 0 ] && [ $$types -eq 0 ]

typecheck: install
	$(PY) -m mypy

# Formatting and lint rules (pyproject.toml [tool.ruff]): `ruff format .` and `ruff check --fix .` mend most.
lint: install
	$(VENV)/bin/ruff format --check --quiet .
	$(VENV)/bin/ruff check --quiet .

# The property-based tests with fresh random examples each run (not part of make test).
test-random: install
	HYPOTHESIS_PROFILE=random $(PY) -m pytest -q tests/unit tests/faults/test_stateful.py

# Mutation testing of shared/ but shared/local/ (over an hour on 2 cores; docs/testing.md). A part:
# .venv/bin/python tools/mutation.py 'shared.domain.*'; --keep resumes a stopped run.
mutation: install
	$(PY) tools/mutation.py

bench: install
	$(PY) bench/run.py
	$(PY) bench/board.py
	$(PY) bench/judge.py
	$(PY) bench/judge_scale.py
	$(PY) bench/scale.py
	$(PY) bench/routing.py
	$(PY) bench/domain_scale.py

reliability: install
	$(PY) -m pytest -q -m reliability tests/faults/test_reliability.py
	$(PY) tools/reliability.py --long --write docs/reliability.md
	$(PY) tools/reliability.py --long --part migrate --write docs/reliability.md

check-infra: install
	$(PY) -m pytest -q tests/infra

# Stops the local stack, then deletes everything the targets above create, local data included.
# Safe to run again: nothing there, nothing to do.
clean:
	@if [ -f .promote/azurite.pid ]; then \
	  if [ -x $(PROMOTE) ]; then $(PROMOTE) dev down >/dev/null; \
	  else pid="$$(cat .promote/azurite.pid)"; \
	    if grep -qs azurite "/proc/$$pid/cmdline"; then kill -15 "-$$pid" 2>/dev/null || true; fi; fi; \
	  echo "the local stack is stopped"; fi
	rm -rf $(VENV) .venv-lowest node_modules .promote .pytest_cache .hypothesis .mypy_cache mutants bench/out build dist *.egg-info
	@echo "removed .venv/, .venv-lowest/, node_modules/, .promote/ (the local stack's data), bench/out/ and build leftovers"

# Azure Functions' own Python runtime (azure-functions-runtime, Python 3.13+, pinned with hashes in
# tools/worker-requirements.txt, in .venv/worker) indexes and invokes function_app.py over gRPC, driven by a
# minimal Functions host of ours (tools/worker_host.py): every function's bindings as Azure must see them, then
# HTTP, Service Bus and timer invocations on a fresh Azurite. CI runs it (.ci/run). About 15 s once set up.
.PHONY: worker
worker: install
	$(PY) tools/worker_host.py setup
	$(VENV)/worker/bin/python tools/worker_host.py run
