"""`promote routing verify` and the drift check: the live share of every workload against its recorded state.

Talks to the network and the store only through the ports it is given.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from shared.application.retry import retry_on_conflict
from shared.domain.errors import RoutingError
from shared.domain.machine import DriftSeen, SetTraffic, decide_drift
from shared.domain.model import HistoryEntry, Outcome, Release
from shared.domain.plan import LocalRouting
from shared.domain.routing import Change, changes, resource


# -- `promote routing verify` and the drift function -------------------------------------------
@dataclass
class Check:
    workload: str
    provider: str
    resource: str
    expected_percent: int
    live_percent: int | None = None
    error: str | None = None
    differences: list[Change] = field(default_factory=list)  # what re-applying would change

    @property
    def drift(self) -> bool:
        return self.error is None and self.live_percent != self.expected_percent

    def to_json(self) -> dict:
        return {
            "workload": self.workload,
            "provider": self.provider,
            "resource": self.resource,
            "expected_percent": self.expected_percent,
            "live_percent": self.live_percent,
            "drift": self.drift,
            "differences": [c.to_json() for c in self.differences],
            "error": self.error,
        }

    def summary(self) -> str:
        if self.error:
            return f"could not read {self.resource}: {self.error}"
        if not self.drift:
            return f"{self.resource}: {self.live_percent}% as recorded"
        what = "; ".join(f"{c.property} is {c.before}, expected {c.after}" for c in self.differences)
        return f"drift on {self.resource}: live {self.live_percent}%, state says {self.expected_percent}%" + (
            f" ({what})" if what else ""
        )


RouterFactory = Callable[[str, str, Any], Any]


def verify_release(release: Release, routers: RouterFactory) -> list[Check]:
    """The live share of every workload against the share its state records. promote's own routing records
    are read at once, the release's partition in one query (LocalBatch.live), not two reads per workload."""
    checks = []
    local_live: dict[str, int] | None = None
    for name, w in release.workloads.items():
        routing = release.plan.workload(name).routing  # type: ignore[union-attr]
        router = routers(release.name, name, routing)
        check = Check(name, routing.provider, resource(routing, release.name, name), w.traffic_percent)
        try:
            batch_of = getattr(routers, "local_batch", None)
            if isinstance(routing, LocalRouting) and batch_of is not None:
                if local_live is None:
                    local_live = batch_of(release.name).live()
                check.live_percent = local_live.get(name, 0)  # not listed: never routed, at 0
            else:
                check.live_percent = router.read()
            if check.drift:
                check.differences = _differences(router, routing, check, release.name)
        except RoutingError as exc:
            check.error = str(exc)
        checks.append(check)
    return checks


def _differences(router: Any, routing: Any, check: Check, release: str) -> list[Change]:
    if hasattr(router, "diff"):
        return router.diff(check.expected_percent)
    return changes(routing, check.live_percent or 0, check.expected_percent, release, check.workload)


def check_release(
    store: Any, routers: RouterFactory, name: str, now: datetime
) -> tuple[list[Check], list[HistoryEntry]]:
    """Verify one release; hand what drifted to the machine (decide_drift), which re-applies the recorded
    share or only reports it per `on_drift`; carry out its effects, then commit its history entries.

    Effects first, commit last, as for messages: the record is committed guarded by the release's ETag. If a
    message moved the release meanwhile (and perhaps its routing, before or after our re-apply), the commit
    conflicts and the check starts over from the newer state, re-applying that state's share if needed.
    """

    def attempt(_: int) -> tuple[list[Check], list[HistoryEntry]]:
        snapshot = store.get_release(name)
        release = snapshot.release
        checks = verify_release(release, routers)
        drifted = [c for c in checks if c.drift]
        if not drifted:
            return checks, []
        last = {c.workload: next(iter(store.list_history(name, c.workload)[-1:]), None) for c in drifted}
        decision = decide_drift(
            release, [DriftSeen(c.workload, c.live_percent or 0, c.summary()) for c in drifted], now, last
        )
        refused: dict[str, str] = {}  # workload -> why re-applying failed (a foreign member, access denied ...)
        for effect in decision.effects:
            if isinstance(effect, SetTraffic):
                try:
                    routers(name, effect.workload, effect.routing).apply(effect.percent)
                except RoutingError as exc:
                    refused[effect.workload] = str(exc)
        if refused:  # the drift is still recorded, with why it stays; the run then fails (visible)
            decision = replace(
                decision,
                entries=[
                    replace(e, outcome=Outcome.IGNORED, reason=f"{e.reason}; re-applying failed: {refused[e.workload]}")
                    if e.workload in refused
                    else e
                    for e in decision.entries
                ],
            )
        if not decision.entries:
            return checks, []
        store.commit(snapshot, decision, None)  # a ConflictError starts the attempt over (retry_on_conflict)
        if refused:
            raise RoutingError("; ".join(f"{w}: re-applying failed: {why}" for w, why in refused.items()))
        return checks, decision.entries

    return retry_on_conflict(attempt, what=f"release {name}")


@dataclass
class DriftRun:
    """What one run of the drift check found over every release."""

    checked: int = 0  # workloads read
    recorded: list[HistoryEntry] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # releases or resources that could not be checked


def check_all(store: Any, routers: RouterFactory, now: datetime) -> DriftRun:
    """`check_release` over every release; a failure of one does not stop the others."""
    from shared.domain.errors import PromoteError

    run = DriftRun()
    for name in store.list_releases():
        try:
            checks, entries = check_release(store, routers, name, now)
        except PromoteError as exc:
            run.failures.append(f"{name}: {exc}")
            continue
        run.checked += len(checks)
        run.recorded += entries
        run.failures += [f"{name}/{c.workload}: {c.error}" for c in checks if c.error]
    return run
