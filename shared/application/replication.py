"""The migration tool's adapter (v2 §8): turn Site Recovery replication state into promote's own events.

For every release whose plan names a `replication` vault: an asset whose item has finished its initial
replication and is healthy gets `asset-replicated` (once: only while the state still says pending); each
workload gets a `replication-lag` with the worst RPO of its assets, timed by the oldest RPO calculation
(only when that calculation is newer than the lag already recorded). Event ids are deterministic, so two
rounds racing publish the same ids and the orchestrator de-duplicates them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shared.domain import messages as m
from shared.domain.model import ReleaseState, WorkloadState

SOURCE = "azure-site-recovery"


@dataclass
class Round:
    releases: int = 0
    published: list[dict] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def events_for(release: Any, items: list[Any], now: datetime) -> list[dict]:
    """The events one vault's items call for, given the release's recorded state (pure)."""
    by_name: dict[str, Any] = {}
    for item in items:
        by_name.setdefault(item.friendly_name.lower(), item)
        by_name.setdefault(item.name.lower(), item)
    out: list[dict] = []
    name = release.name
    for w in release.workloads.values():
        if w.state in (WorkloadState.FINALIZED, WorkloadState.ABORTED):
            continue
        found = {asset: by_name.get(asset.lower()) for asset in w.assets}
        for asset, item in found.items():
            if item is not None and item.replicated and not w.assets[asset]:
                out.append(
                    m.new_event(
                        "asset-replicated",
                        {"release": name, "workload": w.name, "asset": asset},
                        id=f"asr:{name}:{w.name}:{asset}:replicated:{w.attempt}",
                        source=SOURCE,
                        time=now,
                    )
                )
        measured = [i for i in found.values() if i is not None and i.rpo_seconds is not None and i.rpo_at]
        if not measured or len(measured) != len(found):
            continue  # a lag for only some assets would hide the others: report nothing (the gate holds)
        worst = max(i.rpo_seconds for i in measured)
        at = min(i.rpo_at for i in measured)
        if w.lag_at is not None and at <= w.lag_at:
            continue  # nothing newer than what is recorded
        out.append(
            m.new_event(
                m.LAG_TYPE,
                {"release": name, "workload": w.name, "lag_seconds": worst},
                id=f"asr-lag:{name}:{w.name}:{_ms(at)}",
                source=SOURCE,
                time=at,
            )
        )
    return out


def poll(store: Any, read_items: Callable[[Any], list[Any]], publish: Callable[[dict], None], now: datetime) -> Round:
    """One round over every release with a replication source; a vault that cannot be read is a failure
    of the round (reported), not of the other releases."""
    result = Round()
    for name in store.list_releases():
        release = store.get_release(name).release
        source = getattr(release.plan, "replication", None)
        if source is None or release.state in (ReleaseState.FINALIZED, ReleaseState.ABORTED):
            continue
        result.releases += 1
        try:
            items = read_items(source)
        except Exception as exc:  # the next round tries again; the function run fails visibly
            result.failures.append(f"{name}: {exc}")
            continue
        for event in events_for(release, items, now):
            publish(event)
            result.published.append(event)
    return result
