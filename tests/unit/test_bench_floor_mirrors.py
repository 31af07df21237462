"""bench/floor.py imitates promote's storage I/O without promote's code: the record names it uses are promote's."""

from __future__ import annotations

from bench import floor
from shared.adapters.routing.local import SHARES_ROW
from shared.adapters.table_store.rows import RELEASE_ROW


def test_the_floor_reads_the_records_promote_reads():
    assert (floor.SHARES_ROW, floor.RELEASE_ROW) == (SHARES_ROW, RELEASE_ROW)
