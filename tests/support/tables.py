"""Table clients that fail a store's writes the way a crash would, for the tests of the sharded layout."""

from __future__ import annotations


class NoCatchUp:
    """The store's table client, but the host dies right after a release-wide decision's commit point: no
    shard's catch-up is sent."""

    def __init__(self, table):
        self._table = table

    def submit_transaction(self, ops):
        from tools.faults import transaction_kind

        if transaction_kind(list(ops)) == "catch-up":
            raise RuntimeError("host killed after the commit point")
        return self._table.submit_transaction(ops)

    def __getattr__(self, name):
        return getattr(self._table, name)
