"""ReleaseStore on Azure Table Storage (or Azurite): one partition per release.

Row keys inside a release's partition:
  s            the release row (plan, counters, the window of recent message ids)
  s.<name>     one row per workload            -> `s` .. `t` is read with ONE range query
  h.<name>.<seq> / h.~.<seq>   history entries (workload / release-level), seq zero-padded
  m.<sha256>   a de-duplication marker per message id
Every message is committed with ONE submit_transaction guarded by the rows' ETags.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.data.tables import TableClient, TableTransactionError, UpdateMode

from shared.adapters.outbox import outbox_entity
from shared.application.ports import Snapshot
from shared.domain.errors import ConflictError, ReleaseExists, UnknownRelease
from shared.domain.machine import Decision
from shared.domain.model import HistoryEntry, Release, Workload
from shared.domain.plan import Plan

RELEASE_ROW = "s"
CHUNK = 30_000  # characters per string property (the service's limit is 32K UTF-16 code units)
MAX_REASON = 8_000
_CONFLICT_CODES = {"UpdateConditionNotSatisfied", "EntityAlreadyExists", "ConditionNotMet"}


def workload_row(name: str) -> str:
    return f"s.{name}"


def history_row(workload: str | None, seq: int) -> str:
    return f"h.{workload or '~'}.{seq:010d}"


def marker_row(event_id: str) -> str:
    return "m." + hashlib.sha256(event_id.encode()).hexdigest()


def _quote(value: str) -> str:
    return value.replace("'", "''")


@lru_cache(maxsize=256)
def _plan(text: str) -> Plan:
    """Plans are parsed once per process, not once per message."""
    return Plan.model_validate_json(text)


def _chunks(name: str, text: str) -> dict[str, Any]:
    """`text` (ASCII: one UTF-16 unit a character) split over properties, with their count: a merge that
    writes fewer chunks than before leaves the old surplus chunks behind, and the count says to ignore them."""
    assert text.isascii(), "chunked text must be ASCII (JSON with ensure_ascii)"
    parts = [text[i : i + CHUNK] for i in range(0, len(text), CHUNK)] or [""]
    return {**{name if i == 0 else f"{name}_{i}": part for i, part in enumerate(parts)}, f"{name}_chunks": len(parts)}


def _unchunk(entity: dict, name: str) -> str:
    count = entity.get(f"{name}_chunks", 1)
    return entity.get(name, "") + "".join(entity[f"{name}_{i}"] for i in range(1, count))


def plan_json(plan: Plan) -> str:
    return json.dumps(plan.canonical(), separators=(",", ":"))  # ensure_ascii: chunks stay within 32K units


def _utc(value: Any) -> datetime | None:
    return None if value is None else _when(value)


def _when(value: Any) -> datetime:
    """A stored time (the SDK's TablesEntityDatetime) as a plain UTC datetime."""
    return datetime(
        value.year,
        value.month,
        value.day,
        value.hour,
        value.minute,
        value.second,
        value.microsecond,
        tzinfo=UTC,
    )


def _workload_entity(release: str, w: Workload) -> dict[str, Any]:
    entity: dict[str, Any] = {
        "PartitionKey": release,
        "RowKey": workload_row(w.name),
        "state": w.state,
        "paused": w.paused,
        **_chunks("assets", json.dumps(w.assets, separators=(",", ":"))),
        "tests_passed": w.tests_passed,
        "approved": w.approved,
        "flight": w.flight,
        "traffic_percent": w.traffic_percent,
        "healthy_flight": w.healthy_flight,
        "unhealthy": w.unhealthy,
        "attempt": w.attempt,
    }
    # Table Storage cannot store a null; an absent property reads back as None.
    if w.flight_started_at is not None:
        entity["flight_started_at"] = w.flight_started_at
    if w.trouble_at is not None:
        entity["trouble_at"] = w.trouble_at
    for key in _PAUSE_FIELDS:  # who paused, when and why; absent when not paused
        if getattr(w, key) is not None:
            entity[key] = getattr(w, key)
    entity.update(_time_properties(w))
    entity.update(_finish_properties(w))
    return entity


_PAUSE_FIELDS = ("paused_by", "paused_at", "paused_reason", "alert_while_paused")


def _time_properties(w: Workload) -> dict[str, Any]:
    """The workload's time bookkeeping (contract section 9); absent when unset."""
    values: dict[str, Any] = {
        "state_since": w.state_since,
        "deadline_fired": w.deadline_fired or None,
        "window_opens_at": w.window_opens_at,
    }
    return {k: v for k, v in values.items() if v is not None}


_FINISH_OPTIONAL = (
    "lag_seconds",
    "lag_at",
    "promoted_at",
    "finalize_requested_by",
    "finalize_requested_at",
    "decommission_error",
    "finalized_by",
    "finalized_at",
)


def _finish_properties(w: Workload) -> dict[str, Any]:
    """v2 §8 fields of a workload row (absent when None: Table Storage has no null)."""
    props: dict[str, Any] = {"lag_reports": w.lag_reports, "decommission_failures": w.decommission_failures}
    props.update({k: getattr(w, k) for k in _FINISH_OPTIONAL if getattr(w, k) is not None})
    if "lag_seconds" in props:
        props["lag_seconds"] = float(props["lag_seconds"])  # always Edm.Double, even for a whole number
    return props


def _finish_fields(entity: dict) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "lag_reports": entity.get("lag_reports", 0),
        "decommission_failures": entity.get("decommission_failures", 0),
    }
    for key in _FINISH_OPTIONAL:
        value = entity.get(key)
        fields[key] = _utc(value) if key.endswith("_at") else value
    if fields["lag_seconds"] is not None:
        fields["lag_seconds"] = float(fields["lag_seconds"])
    return fields


def _workload(entity: dict) -> Workload:
    return Workload(
        name=entity["RowKey"][2:],
        state=entity["state"],
        paused=entity["paused"],
        assets=json.loads(_unchunk(entity, "assets")),
        tests_passed=entity["tests_passed"],
        approved=entity["approved"],
        flight=entity["flight"],
        traffic_percent=entity["traffic_percent"],
        flight_started_at=_utc(entity.get("flight_started_at")),
        healthy_flight=entity["healthy_flight"],
        unhealthy=entity.get("unhealthy", False),
        attempt=entity["attempt"],
        paused_by=entity.get("paused_by"),
        paused_at=_utc(entity.get("paused_at")),
        paused_reason=entity.get("paused_reason"),
        alert_while_paused=entity.get("alert_while_paused"),
        trouble_at=_utc(entity.get("trouble_at")),
        state_since=_utc(entity.get("state_since")),
        deadline_fired=entity.get("deadline_fired") or "",
        window_opens_at=_utc(entity.get("window_opens_at")),
        **_finish_fields(entity),
    )


def _release_counters(r: Release) -> dict[str, Any]:
    counters = {
        "access_revoked": r.access_revoked,
        "seq": r.seq,
        "seen": "".join(r.seen),
        "processed": r.processed,
        "after_met": " ".join(r.after_met),
    }
    if r.archive:  # Edm.Binary, 4 KiB, once the window has overflowed
        counters.update(archive=r.archive, archived=r.archived)
    if r.revoke_attempts:  # a failed revocation of access: kept (and cleared) in the release row
        counters.update(revoke_attempts=r.revoke_attempts, revoke_error=r.revoke_error or "")
    return counters


_STORED = {"from": "from_state", "to": "to_state"}  # property names must be identifiers, not keywords


def _history_entity(release: str, seq: int, e: HistoryEntry) -> dict[str, Any]:
    entity = {"PartitionKey": release, "RowKey": history_row(e.workload, seq), "seq": seq}
    for key, value in e.to_json().items():
        if value is not None:
            entity[_STORED.get(key, key)] = e.at if key == "at" else value
    entity["reason"] = e.reason[:MAX_REASON]  # a property holds 32K UTF-16 units; reasons are far shorter
    return entity


def _history(entity: dict) -> HistoryEntry:
    return HistoryEntry(
        at=_when(entity["at"]),
        event_id=entity["event_id"],
        type=entity["type"],
        outcome=entity["outcome"],
        reason=entity.get("reason", ""),
        workload=entity.get("workload"),
        from_state=entity.get("from_state"),
        to_state=entity.get("to_state"),
        traffic_percent=entity.get("traffic_percent"),
        actor=entity.get("actor"),
        flight=entity.get("flight"),
        source=entity.get("source"),
        actor_reason=entity.get("actor_reason"),
    )


class TableReleaseStore:
    def __init__(self, table: TableClient):
        self.table = table

    # reads ----------------------------------------------------------------------------------
    def get_release(self, name: str) -> Snapshot:
        rows = list(
            self.table.query_entities(
                f"PartitionKey eq '{_quote(name)}' and RowKey ge 's' and RowKey lt 't'", results_per_page=1000
            )
        )
        head = next((r for r in rows if r["RowKey"] == RELEASE_ROW), None)
        if head is None:
            raise UnknownRelease(name)
        plan = _plan(_unchunk(head, "plan"))
        workloads = {w.name: w for w in (_workload(r) for r in rows if r["RowKey"] != RELEASE_ROW)}
        seen = head.get("seen", "")
        release = Release(
            plan=plan,
            workloads={w.name: workloads[w.name] for w in plan.workloads},
            access_revoked=head.get("access_revoked", False),
            seq=head["seq"],
            seen=tuple(seen[i : i + 16] for i in range(0, len(seen), 16)),
            processed=head["processed"],
            archive=bytes(head.get("archive") or b""),
            archived=head.get("archived", 0),
            revoke_error=head.get("revoke_error") or None,
            revoke_attempts=head.get("revoke_attempts", 0),
            after_met=tuple(head.get("after_met", "").split()),
            dependants=tuple(head.get("dependants", "").split()),
        )
        etags = {r["RowKey"]: r.metadata["etag"] for r in rows}
        return Snapshot(release=release, version=etags)

    def seen_before(self, name: str, event_id: str) -> bool:
        try:
            self.table.get_entity(name, marker_row(event_id), select=["RowKey"])
        except ResourceNotFoundError:
            return False
        return True

    def list_history(self, name: str, workload: str | None = None) -> list[HistoryEntry]:
        low, high = (f"h.{workload}.", f"h.{workload}/") if workload else ("h.", "h/")
        rows = self.table.query_entities(
            f"PartitionKey eq '{_quote(name)}' and RowKey ge '{low}' and RowKey lt '{high}'"
        )
        return [_history(r) for r in sorted(rows, key=lambda r: r["seq"])]

    def list_releases(self) -> list[str]:
        rows = self.table.query_entities(f"RowKey eq '{RELEASE_ROW}'", select=["PartitionKey"])
        return sorted(r["PartitionKey"] for r in rows)

    # writes ---------------------------------------------------------------------------------
    def create_release(self, release: Release) -> None:
        name = release.name
        head = {
            "PartitionKey": name,
            "RowKey": RELEASE_ROW,
            **_chunks("plan", plan_json(release.plan)),
            "plan_hash": release.plan.fingerprint(),
            "model": release.model,
            "created_at": datetime.now(UTC),
            **_release_counters(release),
        }
        operations = [("create", head)] + [("create", _workload_entity(name, w)) for w in release.workloads.values()]
        try:
            self.table.submit_transaction(operations)
        except TableTransactionError as exc:
            if getattr(exc, "error_code", None) == "EntityAlreadyExists" or exc.status_code == 409:
                raise ReleaseExists(name) from None
            raise

    def update_plan(self, snapshot: Snapshot, plan: Plan) -> None:
        name = snapshot.release.name
        entity = {
            "PartitionKey": name,
            "RowKey": RELEASE_ROW,
            **_chunks("plan", plan_json(plan)),
            "plan_hash": plan.fingerprint(),
        }
        try:
            self.table.update_entity(
                entity,
                mode=UpdateMode.MERGE,
                etag=snapshot.version[RELEASE_ROW],
                match_condition=MatchConditions.IfNotModified,
            )
        except (HttpResponseError, ResourceExistsError) as exc:
            if getattr(exc, "status_code", None) in (409, 412):
                raise ConflictError(str(exc)) from None
            raise

    def add_dependant(self, snapshot: Snapshot, dependant: str) -> None:
        """Merge the release row's `dependants` (names are [a-z0-9-], so a space separates them)."""
        release = snapshot.release
        entity = {
            "PartitionKey": release.name,
            "RowKey": RELEASE_ROW,
            "dependants": " ".join(dict.fromkeys(release.dependants + (dependant,))),
        }
        try:
            self.table.update_entity(
                entity,
                mode=UpdateMode.MERGE,
                etag=snapshot.version[RELEASE_ROW],
                match_condition=MatchConditions.IfNotModified,
            )
        except (HttpResponseError, ResourceExistsError) as exc:
            if getattr(exc, "status_code", None) in (409, 412):
                raise ConflictError(str(exc)) from None
            raise

    def commit(self, snapshot: Snapshot, decision: Decision, event_id: str | None) -> None:
        """State, history and (for a new id) the marker in one transaction; ConflictError if anything moved."""
        name, before, after = snapshot.release.name, snapshot.release, decision.release
        etags = snapshot.version

        def guarded(entity: dict, mode: UpdateMode) -> tuple:
            return (
                "update",
                entity,
                {"mode": mode, "etag": etags[entity["RowKey"]], "match_condition": MatchConditions.IfNotModified},
            )

        # The release row is merged (its plan stays); workload rows are replaced whole, so a field that
        # became None (flight_started_at) is really removed.
        operations: list[tuple] = [
            guarded({"PartitionKey": name, "RowKey": RELEASE_ROW, **_release_counters(after)}, UpdateMode.MERGE)
        ]
        operations += [
            guarded(_workload_entity(name, w), UpdateMode.REPLACE)
            for w in after.workloads.values()
            if w != before.workloads[w.name]
        ]
        operations += [("create", _history_entity(name, before.seq + i, e)) for i, e in enumerate(decision.entries)]
        if event_id is not None:
            marker: dict[str, Any] = {"PartitionKey": name, "RowKey": marker_row(event_id), "event_id": event_id[:256]}
            for quiet in decision.quiet:  # an outcome kept here instead of a history entry (replication-lag)
                marker.update(
                    at=quiet.at,
                    type=quiet.type,
                    outcome=quiet.outcome,
                    reason=quiet.reason[:MAX_REASON],
                    workload=quiet.workload or "",
                )
            operations.append(("create", marker))
        if decision.notices:  # the outbox row: no extra request, committed or lost with the state change
            targets = [t.model_dump(mode="json") for t in after.plan.notify or []]
            operations.append(
                ("create", outbox_entity(name, before.seq, decision.notices, targets, decision.notices[0].at))
            )
        try:
            self.table.submit_transaction(operations)
        except TableTransactionError as exc:
            code = getattr(exc, "error_code", None)  # set by the SDK when the service names one
            if exc.status_code in (409, 412) or code in _CONFLICT_CODES:
                raise ConflictError(f"release {name}: {code or exc.status_code}") from None
            raise


# -- board reads (bounded: a fixed number of requests whatever the history length) -------------------
def _last_change(rows: list) -> datetime | None:
    stamps = [r.metadata.get("timestamp") for r in rows if r.metadata.get("timestamp")]
    return _utc(max(stamps)) if stamps else None


class BoardReads:
    """The board's reads on the same table: every release in one query, a release's recent history in one
    key-range query per workload (paged by sequence number, so the cost never grows with the history)."""

    def __init__(self, table: TableClient):
        self.table = table

    def list_release_summaries(self) -> list[tuple[Release, datetime | None]]:
        """Every release with its workloads, and when any of its rows last changed: ONE query (paged)."""
        partitions: dict[str, list] = {}
        for row in self.table.query_entities("RowKey ge 's' and RowKey lt 't'", results_per_page=1000):
            partitions.setdefault(row["PartitionKey"], []).append(row)
        out = []
        for name in sorted(partitions):
            rows = partitions[name]
            head = next((r for r in rows if r["RowKey"] == RELEASE_ROW), None)
            if head is None:
                continue
            plan = _plan(_unchunk(head, "plan"))
            workloads = {w.name: w for w in (_workload(r) for r in rows if r["RowKey"] != RELEASE_ROW)}
            release = Release(
                plan=plan,
                workloads={w.name: workloads[w.name] for w in plan.workloads if w.name in workloads},
                access_revoked=head.get("access_revoked", False),
                seq=head["seq"],
                processed=head["processed"],
            )
            out.append((release, _last_change(rows)))
        return out

    def history_window(self, name: str, workloads: list[str], low: int, high: int) -> list[HistoryEntry]:
        """Entries with low <= seq < high of these workloads and of the release itself, oldest first.
        One key-range query per workload (at most high - low rows in all): bounded by the window."""
        numbered: list[tuple[int, HistoryEntry]] = []
        for prefix in [*workloads, "~"]:
            rows = self.table.query_entities(
                f"PartitionKey eq '{_quote(name)}' and RowKey ge 'h.{prefix}.{low:010d}' "
                f"and RowKey lt 'h.{prefix}.{high:010d}'",
                results_per_page=1000,
            )
            numbered.extend((r["seq"], _history(r)) for r in rows)
        return [entry for _, entry in sorted(numbered, key=lambda pair: pair[0])]
