"""ReleaseStore on Azure Table Storage (or Azurite): one partition per release, one transaction per message.

rows.py    the rows' keys and properties (through codec.py, derived from the model's fields)
store.py   TableReleaseStore: reads, and the ETag-guarded writes
board.py   BoardReads: the board's bounded reads
"""

from shared.adapters.properties import CHUNK
from shared.adapters.table_store.board import BoardReads
from shared.adapters.table_store.rows import (
    MAX_REASON,
    RELEASE_ROW,
    history_entity,
    history_row,
    marker_row,
    plan_json,
    workload_row,
)
from shared.adapters.table_store.store import TableReleaseStore

__all__ = [
    "CHUNK",
    "MAX_REASON",
    "RELEASE_ROW",
    "BoardReads",
    "TableReleaseStore",
    "history_entity",
    "history_row",
    "marker_row",
    "plan_json",
    "workload_row",
]
