"""Shared fixtures: a real Azurite (in memory, random ports) started and stopped by the tests themselves."""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

from shared.application.config import LOCAL_QUEUE, POISON_QUEUE, SCHEDULE_TABLE, load_settings
from shared.local.azurite import Azurite, start
from tests.support import azurite_pool
from tests.support.names import unique_name
from tests.support.twice import pytest_addoption, pytest_runtest_protocol  # noqa: F401 (hooks: --twice)

REUSE_AZURITE = "PROMOTE_TEST_AZURITE_PORTS"  # "blob,queue,table" of a running Azurite to use instead of starting one

# Hypothesis profiles (HYPOTHESIS_PROFILE picks one). "ci", the default and what make test runs: the same
# examples on every run, so a red build is reproducible and never a matter of luck. "random": fresh examples
# each run, to find what the fixed ones miss (make test-random); a failure prints the blob that replays it.
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
# "random" (make test-random): fresh examples, three times as many as make test's, which keeps its 5 minutes
hypothesis_settings.register_profile("random", derandomize=False, print_blob=True, max_examples=300)
# "mutation" (make mutation): still derandomized, a tenth of the examples, so that each of hundreds of mutants
# runs in seconds; the property tests scale their example counts with the profile's max_examples.
hypothesis_settings.register_profile("mutation", derandomize=True, max_examples=10)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session")
def azurite():
    pool = os.environ.get(azurite_pool.POOL)
    if pool:  # make mutation: one of its Azurites, emptied and to this session alone (tests/support/azurite_pool.py)
        with azurite_pool.claim(pool, Path(os.environ[azurite_pool.POOL_LOCKS])) as instance:
            yield instance
        return
    reused = os.environ.get(REUSE_AZURITE)
    if reused:  # a running Azurite, as it is (what earlier runs left stays: tests must not mind, see --twice)
        blob, queue, table = (int(p) for p in reused.split(","))
        yield Azurite(process=None, ports={"blob": blob, "queue": queue, "table": table})
        return
    instance = start()  # in memory; ports picked by the OS
    yield instance
    instance.stop()


@pytest.fixture
def release_name(request) -> str:
    """A release name new on every run (the test's name and a random part): tests sharing one Azurite never
    collide, within a session, across sessions (make mutation) or when the suite runs again on it."""
    return unique_name(request.node.name)


@pytest.fixture
def settings(azurite, tmp_path):
    return load_settings(
        {"PROMOTE_STORAGE_CONNECTION_STRING": azurite.connection_string, "PROMOTE_HOME": str(tmp_path / ".promote")}
    )


@pytest.fixture
def stack(settings):
    """A fresh Stack on the session's Azurite, with the local queues emptied (tests own the transport)."""
    from shared.application.bootstrap import Stack, use_stack

    s = Stack(settings)
    for name in (LOCAL_QUEUE, POISON_QUEUE):
        s.queue(name).clear_messages()
    for row in s.table(SCHEDULE_TABLE).list_entities():
        s.table(SCHEDULE_TABLE).delete_entity(row["PartitionKey"], row["RowKey"])
    use_stack(s)
    yield s
    use_stack(None)


@pytest.fixture
def cli_env(azurite, tmp_path) -> dict:
    """Environment for running the `promote` command against the session's Azurite."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROMOTE_")}
    env.update(PROMOTE_STORAGE_CONNECTION_STRING=azurite.connection_string, PROMOTE_HOME=str(tmp_path / ".promote"))
    return env


# The longest tests start first: `make test` spreads the suite over several processes (pytest-xdist), and a
# several-minute test picked up last would leave one process idle while it runs.
LONGEST_FIRST = ("tests/faults/test_reliability.py", "tests/faults/test_stateful.py", "tests/e2e/test_cli.py")


# make mutation --tests-under SECONDS: under a mutant, only the tests mutmut timed at most this long run (a lower
# bound of the kill rate, for a whole run within hours: docs/testing.md)
TESTS_UNDER = "PROMOTE_MUTATION_TESTS_UNDER"


def pytest_collection_modifyitems(items, config=None) -> None:
    if "MUTANT_UNDER_TEST" in os.environ:  # make mutation: mutmut names the tests to run, in a set's order
        items.sort(key=_written_order)  # each module's tests together and as written, whatever that order was
        if "__mutmut_" in os.environ["MUTANT_UNDER_TEST"]:
            if os.environ.get(TESTS_UNDER):
                _drop_longer_tests(items, float(os.environ[TESTS_UNDER]), config)
            _quickest_modules_first(items)
        return
    rank = {path: i for i, path in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::", 1)[0], len(rank)))  # stable: the rest keep order


def _written_order(item) -> tuple[str, int]:
    return item.nodeid.split("::", 1)[0], item.location[1] or 0  # stable: a parametrized test's cases keep theirs


@functools.cache
def _durations() -> dict[str, float]:  # read once per session: the file is about 20 MB
    stats = Path("mutmut-stats.json")  # mutmut runs the tests in mutants/, where it keeps its timings
    return json.loads(stats.read_text()).get("duration_by_test", {}) if stats.exists() else {}


def _drop_longer_tests(items, seconds: float, config) -> None:
    durations = _durations()
    longer = [item for item in items if durations.get(item.nodeid, 0.0) > seconds]
    if longer:
        items[:] = [item for item in items if durations.get(item.nodeid, 0.0) <= seconds]
        if config is not None:
            config.hook.pytest_deselected(items=longer)


def _quickest_modules_first(items) -> None:
    """Under a mutant (make mutation, which stops at the first failure), the modules whose tests were quickest in
    mutmut's own timing run first: most mutants are killed by a unit test in milliseconds, and without this one
    would first sit through whichever Azurite tests the selection happened to list first. A module's tests stay
    together and in their order (module fixtures are set up once)."""
    durations = _durations()
    if not durations:
        return
    per_module: dict[str, list[float]] = {}
    for item in items:
        per_module.setdefault(item.nodeid.split("::", 1)[0], []).append(durations.get(item.nodeid, 1.0))
    mean = {module: sum(times) / len(times) for module, times in per_module.items()}
    # stable; the module breaks a tie, else two modules of one mean stay interleaved as mutmut listed them
    items.sort(key=lambda item: (mean[module := item.nodeid.split("::", 1)[0]], module))
