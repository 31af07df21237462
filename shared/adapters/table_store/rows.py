"""The rows of a release's partition: their keys, and their properties through the field codec.

Row keys inside a release's partition:
  s, s.f.<k>, w.<k>, w.<k>.<name>   the release record, shard summaries, shard heads, workloads (shards.py)
  h.<name>.<inv>   a workload's history entries, numbered per workload (the workload row's `hseq`); <inv>
                   counts down from NEWEST_FIRST, so a range query returns the newest first (the board's pages)
  h.~.<inv>        release-level entries, numbered by the release record's `seq`; a release-wide decision's
                   entry holds each workload's entry of it (`moves`, deflated)
  m.<sha256>       a de-duplication marker per message (of messages.dedup_key), with the message's outcome
  o.<status>.<key> the notification outbox (shared/adapters/outbox.py)
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from shared.adapters.properties import chunks, unchunk
from shared.adapters.table_store.codec import Kind, RowCodec
from shared.adapters.table_store.shards import packed, unpacked, workload_row
from shared.domain.model import HistoryEntry, Release, Workload
from shared.domain.plan import Plan

RELEASE_ROW = "s"
MAX_REASON = 8_000  # a property holds 32K UTF-16 units; reasons are far shorter
DIGEST = 16  # characters of a message id's digest in the release row's window (machine.digest)


NEWEST_FIRST = 9_999_999_999  # history keys count down: a range query returns the newest entries first


def history_row(workload: str | None, seq: int) -> str:
    return f"h.{workload or '~'}.{NEWEST_FIRST - seq:010d}"


def marker_row(event_id: str) -> str:
    return "m." + hashlib.sha256(event_id.encode()).hexdigest()


# The window of recent ids: fixed-width digests side by side (512 of them fit one property, with no separator).
_SEEN = Kind(
    lambda n, v: {n: "".join(v)}, lambda e, n: tuple(e[n][i : i + DIGEST] for i in range(0, len(e[n]), DIGEST))
)
_CLIPPED = Kind(lambda n, v: {n: v[:MAX_REASON]}, lambda e, n: e[n])

WORKLOAD = RowCodec(Workload, skip=["name"])  # the name is the row key; the row is replaced whole
HISTORY = RowCodec(HistoryEntry, kinds={"reason": _CLIPPED})
# The release row is merged (its plan stays): the Bloom filter and a failed revocation's record are absent until
# there is one (neither ever goes back); `dependants` has a writer of its own (add_dependant), never the commit.
RELEASE = RowCodec(
    Release,
    skip=["plan", "workloads", "others"],
    kinds={"seen": _SEEN},
    merged=True,
    once={
        "archive": "archive",
        "archived": "archive",
        "revoke_attempts": "revoke_attempts",
        "revoke_error": "revoke_attempts",
    },
)
OWN_WRITER = ("dependants",)


def workload_entity(release: str, w: Workload, shard: int = 0, hseq: int = 0) -> dict[str, Any]:
    """`hseq`: the workload's history entries so far (the next entry's number), kept on its row."""
    return {"PartitionKey": release, "RowKey": workload_row(shard, w.name), **WORKLOAD.write(w), "hseq": hseq}


def workload_of(entity: Mapping[str, Any]) -> Workload:
    return Workload.of_fields(entity["RowKey"].split(".", 2)[2], WORKLOAD.stored(entity))


def release_counters(r: Release) -> dict[str, Any]:
    """The release row's properties a commit merges (everything but the plan and the dependants)."""
    return RELEASE.write(r, leave=OWN_WRITER)


def history_entity(release: str, seq: int, e: HistoryEntry) -> dict[str, Any]:
    return {"PartitionKey": release, "RowKey": history_row(e.workload, seq), "seq": seq, **HISTORY.write(e)}


def history_of(entity: Mapping[str, Any]) -> HistoryEntry:
    return HistoryEntry(**HISTORY.read(entity))


def plan_json(plan: Plan) -> str:
    return json.dumps(plan.canonical(), separators=(",", ":"))  # ensure_ascii: chunks stay within 32K units


PLAN_PACKED_AT = 200_000  # characters of plan JSON from which it is stored deflated (an entity holds 1 MiB)


def plan_properties(plan: Plan) -> dict[str, Any]:
    """The plan's properties of the release record, either form clearing the other: the record is merged, and a
    plan update that crosses PLAN_PACKED_AT (either way) must not leave the old form to be read first."""
    text = plan_json(plan)
    if len(text) < PLAN_PACKED_AT:
        return {**chunks("plan", text), **chunks("plan_z", ""), "plan_hash": plan.fingerprint()}
    return {**chunks("plan", ""), **packed("plan_z", json.loads(text)), "plan_hash": plan.fingerprint()}


def plan_of(head: Mapping[str, Any]) -> Plan:
    if head.get("plan_z"):
        return _plan(json.dumps(unpacked(head, "plan_z"), separators=(",", ":")))
    return _plan(unchunk(head, "plan"))


@lru_cache(maxsize=256)
def _plan(text: str) -> Plan:
    """Plans are parsed once per process, not once per message."""
    return Plan.model_validate_json(text)
