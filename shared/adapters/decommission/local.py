"""The `local` decommission provider: a record in Table Storage saying the source is off (runs, tests, demo)."""

from __future__ import annotations

from datetime import UTC, datetime

from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.data.tables import TableClient

from shared.adapters.decommission import DecommissionRequest
from shared.domain.routing import Change


def row_key(workload: str) -> str:
    return f"~decommission.{workload}"  # beside the routing records; workload names never start with '~'


class LocalDecommissioner:
    def __init__(self, table: TableClient):
        self.table = table

    def decommission(self, release: str, request: DecommissionRequest) -> list[Change]:
        if self.is_off(release, request.workload):
            return []
        try:  # create, not upsert: two racing attempts record one power-off
            self.table.create_entity(
                {
                    "PartitionKey": release,
                    "RowKey": row_key(request.workload),
                    "state": "off",
                    "assets": ",".join(request.assets)[:30_000],
                    "actor": request.actor,
                    "at": datetime.now(UTC),
                }
            )
        except ResourceExistsError:
            return []
        return [Change(f"local source record {release}/{request.workload}", "power", "on", "off")]

    def is_off(self, release: str, workload: str) -> bool:
        try:
            return self.table.get_entity(release, row_key(workload)).get("state") == "off"
        except ResourceNotFoundError:
            return False
