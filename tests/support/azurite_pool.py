"""Azurites shared by many short test sessions, one session at a time each (make mutation).

`make mutation` runs a test session per mutant, several at once (mutmut's children). Sessions must not see
each other's data: a mutant that writes a wrong row, or a session killed half-way by its timeout, must not
make the next mutant's tests fail (a false kill). tools/mutation.py starts one Azurite per child; a session
claims a free one with an exclusive lock (released by the kernel when the session's process ends, even
killed) and empties it before its first test, so it starts as a fresh Azurite would, without paying for one.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from shared.local.azurite import Azurite

POOL = "PROMOTE_TEST_AZURITE_POOL"  # "blob,queue,table;blob,queue,table;...": the Azurites to share
POOL_LOCKS = "PROMOTE_TEST_AZURITE_POOL_LOCKS"  # a directory for the lock files, one per Azurite
KINDS = ("blob", "queue", "table")


def encode(azurites: list[Azurite]) -> str:
    return ";".join(",".join(str(a.ports[k]) for k in KINDS) for a in azurites)


def decode(text: str) -> list[dict[str, int]]:
    return [dict(zip(KINDS, (int(p) for p in part.split(",")), strict=True)) for part in text.split(";") if part]


@contextmanager
def claim(pool: str, locks: Path) -> Iterator[Azurite]:
    """One Azurite of the pool, emptied, held by this process until the block ends (or the process does)."""
    slots = decode(pool)
    locks.mkdir(parents=True, exist_ok=True)
    fd, slot = -1, 0
    for i in range(len(slots)):
        fd = os.open(locks / f"azurite-{i}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            slot = i
            break
        except BlockingIOError:
            os.close(fd)
            fd = -1
    if fd < 0:  # never more sessions than Azurites: at most a session that is ending holds the last one
        fd = os.open(locks / "azurite-0.lock", os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        azurite = Azurite(process=None, ports=slots[slot])
        empty(azurite)
        yield azurite
    finally:
        os.close(fd)  # releases the lock


def empty(azurite: Azurite) -> None:
    """Delete every table and queue (promote keeps nothing in blobs): the next session finds nothing a
    previous one left. (Azurite deletes at once; Azure would refuse to re-create a deleted name for a while.)"""
    from azure.data.tables import TableServiceClient
    from azure.storage.queue import QueueServiceClient

    tables = TableServiceClient.from_connection_string(azurite.connection_string)
    for table in list(tables.list_tables()):
        tables.delete_table(table.name)
    queues = QueueServiceClient.from_connection_string(azurite.connection_string)
    for queue in list(queues.list_queues()):
        queues.delete_queue(queue.name)
