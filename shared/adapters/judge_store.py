"""JudgeStore on Table Storage: one row per judged workload (PartitionKey release, RowKey workload), in its
own table, so the judge never adds a request to a lifecycle event. Every write is guarded by the row's ETag."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import HttpResponseError
from azure.data.tables import TableClient, UpdateMode

from shared.adapters.properties import quote, when
from shared.domain.errors import ConflictError
from shared.domain.health import CheckResult, JudgeRecord, Streak


def _entity(release: str, r: JudgeRecord) -> dict[str, Any]:
    entity: dict[str, Any] = {
        "PartitionKey": release,
        "RowKey": r.workload,
        "attempt": r.attempt,
        "flight": r.flight,
        "started_ms": str(r.started_ms),
        "evaluation": r.evaluation,
        "published": r.published,
        "done": r.done,
        "streaks": json.dumps({k: [s.failed, s.inconclusive] for k, s in r.streaks.items()}, separators=(",", ":")),
        "results": json.dumps([x.model_dump(mode="json") for x in r.results], separators=(",", ":")),
        "verdict": json.dumps(r.verdict, separators=(",", ":")) if r.verdict else "",
    }
    if r.at is not None:
        entity["at"] = r.at
    return entity


def _record(entity: Any) -> JudgeRecord:  # a TableEntity: a dict with .metadata
    at = entity.get("at")
    return JudgeRecord(
        workload=entity["RowKey"],
        attempt=entity["attempt"],
        flight=entity["flight"],
        started_ms=int(entity["started_ms"]),
        evaluation=entity["evaluation"],
        at=when(at) if at else None,
        streaks={k: Streak(*v) for k, v in json.loads(entity.get("streaks") or "{}").items()},
        results=[CheckResult.model_validate(x) for x in json.loads(entity.get("results") or "[]")],
        verdict=json.loads(entity["verdict"]) if entity.get("verdict") else None,
        published=entity["published"],
        done=entity["done"],
        etag=entity.metadata["etag"],
    )


class TableJudgeStore:
    def __init__(self, table: TableClient):
        self.table = table

    def load(self, release: str) -> dict[str, JudgeRecord]:
        rows = self.table.query_entities(f"PartitionKey eq '{quote(release)}'")
        return {r["RowKey"]: _record(r) for r in rows}

    def save(self, release: str, record: JudgeRecord) -> JudgeRecord:
        entity = _entity(release, record)
        try:
            if record.etag is None:
                meta = self.table.create_entity(entity)
            else:
                meta = self.table.update_entity(
                    entity, mode=UpdateMode.REPLACE, etag=record.etag, match_condition=MatchConditions.IfNotModified
                )
        except HttpResponseError as exc:
            if exc.status_code in (409, 412):  # created, or changed, by another judge meanwhile
                raise ConflictError(f"judge record {release}/{record.workload}: {exc.status_code}") from None
            raise
        return replace(record, etag=meta["etag"])
