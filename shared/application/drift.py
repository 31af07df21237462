"""`promote routing verify` and the drift check: the live share of every workload against its recorded state.

Talks to the network and the store only through the ports it is given.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable

from shared.domain.errors import RoutingError
from shared.domain.machine import Decision
from shared.domain.model import HistoryEntry, Outcome, Release
from shared.domain.routing import DRIFT_TYPE, Change, changes, resource
from shared.application.retry import retry_on_conflict



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
        return {"workload": self.workload, "provider": self.provider, "resource": self.resource,
                "expected_percent": self.expected_percent, "live_percent": self.live_percent, "drift": self.drift,
                "differences": [c.to_json() for c in self.differences], "error": self.error}

    def summary(self) -> str:
        if self.error:
            return f"could not read {self.resource}: {self.error}"
        if not self.drift:
            return f"{self.resource}: {self.live_percent}% as recorded"
        what = "; ".join(f"{c.property} is {c.before}, expected {c.after}" for c in self.differences)
        return f"drift on {self.resource}: live {self.live_percent}%, state says {self.expected_percent}%" + \
               (f" ({what})" if what else "")


RouterFactory = Callable[[str, str, Any], Any]


def verify_release(release: Release, routers: RouterFactory) -> list[Check]:
    """The live share of every workload against the share its state records."""
    checks = []
    for name, w in release.workloads.items():
        routing = release.plan.workload(name).routing  # type: ignore[union-attr]
        router = routers(release.name, name, routing)
        check = Check(name, routing.provider, resource(routing, release.name, name), w.traffic_percent)
        try:
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


def drift_entries(release: Release, checks: list[Check], now: datetime, last: dict[str, HistoryEntry | None]
                  ) -> list[HistoryEntry]:
    """One drift-check entry per drifted workload, unless its last entry already reported the same drift."""
    reapply = release.plan.on_drift == "reapply"
    entries = []
    for check in checks:
        if not check.drift:
            continue
        reason = check.summary() + (f"; re-applying {check.expected_percent}% (on_drift: reapply)" if reapply
                                    else "; reported only (on_drift: report)")
        previous = last.get(check.workload)
        if not reapply and previous and previous.type == DRIFT_TYPE and previous.reason == reason:
            continue  # still the same drift: already in the history
        w = release.workloads[check.workload]
        entries.append(HistoryEntry(
            at=now, event_id=f"drift-check:{release.name}:{check.workload}:{now.strftime('%Y%m%dT%H%M%S.%fZ')}",
            type=DRIFT_TYPE, outcome=Outcome.APPLIED if reapply else Outcome.IGNORED, reason=reason, workload=check.workload,
            from_state=w.state, to_state=w.state, traffic_percent=w.traffic_percent, flight=w.flight or None,
            source="promote/drift"))
    return entries


def check_release(store: Any, routers: RouterFactory, name: str,
                  now: datetime) -> tuple[list[Check], list[HistoryEntry]]:
    """Verify one release; re-apply the recorded share if the plan says so, then record the drift in its history.

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
        entries = drift_entries(release, checks, now, last)
        if release.plan.on_drift == "reapply":  # also when this drift was recorded before and is still there
            for check in drifted:
                routing = release.plan.routing_of(check.workload)
                achieved = routers(name, check.workload, routing).apply(check.expected_percent)
                if achieved != check.expected_percent:
                    raise RoutingError(f"{name}/{check.workload}: re-applying {check.expected_percent}% "
                                       f"achieved {achieved}%")
        if not entries:
            return checks, []
        store.commit(snapshot, Decision(release=release.evolve(seq=release.seq + len(entries)), entries=entries), None)
        return checks, entries

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
