"""make mutation's Azurites (tests/support/azurite_pool.py): sessions running at once never share one, and a
session finds nothing an earlier one left, even one that was killed half-way."""

from __future__ import annotations

import os
import signal
import time

import pytest

from shared.application.config import LOCAL_QUEUE, RELEASES_TABLE
from shared.local.azurite import start
from tests.support import azurite_pool


@pytest.fixture(scope="module")
def pool():
    """Two Azurites of their own (a claim empties its Azurite: never the session's)."""
    azurites = [start(), start()]
    yield azurite_pool.encode(azurites)
    for instance in azurites:
        instance.stop()


def leave_something(instance) -> None:
    from azure.data.tables import TableServiceClient
    from azure.storage.queue import QueueServiceClient

    tables = TableServiceClient.from_connection_string(instance.connection_string)
    tables.create_table_if_not_exists(RELEASES_TABLE).upsert_entity({"PartitionKey": "left", "RowKey": "over"})
    QueueServiceClient.from_connection_string(instance.connection_string).get_queue_client(LOCAL_QUEUE).create_queue()


def what_is_there(instance) -> tuple[list[str], list[str]]:
    from azure.data.tables import TableServiceClient
    from azure.storage.queue import QueueServiceClient

    tables = TableServiceClient.from_connection_string(instance.connection_string).list_tables()
    queues = QueueServiceClient.from_connection_string(instance.connection_string).list_queues()
    return sorted(t.name for t in tables), sorted(q.name for q in queues)


def test_sessions_at_once_each_get_their_own_emptied_azurite(pool, tmp_path):
    with azurite_pool.claim(pool, tmp_path) as first:
        leave_something(first)
        with azurite_pool.claim(pool, tmp_path) as second:
            assert second.ports != first.ports
            assert what_is_there(second) == ([], [])
        assert what_is_there(first) == ([RELEASES_TABLE], [LOCAL_QUEUE])  # the second left the first's alone
    with azurite_pool.claim(pool, tmp_path) as next_session:
        assert next_session.ports == first.ports  # free again
        assert what_is_there(next_session) == ([], [])


def test_a_session_killed_half_way_frees_its_azurite_and_the_next_one_finds_it_empty(pool, tmp_path):
    child = os.fork()
    if child == 0:  # a mutant's session, killed by its timeout while it holds the first Azurite
        try:
            with azurite_pool.claim(pool, tmp_path) as held:
                leave_something(held)
                (tmp_path / "ready").touch()
                time.sleep(60)
        finally:
            os._exit(1)
    try:
        deadline = time.monotonic() + 30
        while not (tmp_path / "ready").exists():
            assert time.monotonic() < deadline, "the forked session never claimed an Azurite"
            time.sleep(0.05)
        with azurite_pool.claim(pool, tmp_path) as meanwhile:
            first_ports = azurite_pool.decode(pool)[0]
            assert meanwhile.ports != first_ports  # held by the session still running
    finally:
        os.kill(child, signal.SIGKILL)
        os.waitpid(child, 0)
    with azurite_pool.claim(pool, tmp_path) as after:
        assert after.ports == first_ports
        assert what_is_there(after) == ([], [])
