"""Revoking the migration team's access once the whole release is promoted: a step of its own, retried
until it succeeds, never undoing the routing of the promotion."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, timedelta

from shared.domain import messages as m
from shared.domain.machine.effects import Decision, RevokeAccess, Schedule
from shared.domain.machine.step import Step
from shared.domain.model import Outcome, Workload, WorkloadState
from shared.domain.times import iso_s, ms

REVOKE_RETRY_FIRST = timedelta(minutes=1)
REVOKE_RETRY_MAX = timedelta(minutes=30)
MAX_REVOKE_ERROR = 1000  # characters of Azure's message kept in the release row
REVOKED_NOTE = "; release promoted, migration team access revoked"
_DONE = (WorkloadState.PROMOTED, WorkloadState.FINALIZED)


def release_promoted(workloads: Iterable[Workload]) -> bool:
    """Every workload promoted, aborted ones aside (an abort takes a workload out of the release)."""
    states = [w.state for w in workloads]
    return any(s in _DONE for s in states) and all(s in (*_DONE, WorkloadState.ABORTED) for s in states)


def revoke_when_promoted(step: Step) -> None:
    """Revoke access when this decision leaves the whole release promoted. After a failed revocation its
    retry chain owns it (one chain, not one more per message), unless this message is the one that promotes
    the release (again): then it revokes, and starts a chain if it fails."""
    revoke = step.release.plan.revoke_access
    newly_promoted = not release_promoted(step.release.workloads.values())
    if (
        revoke
        and not step.access_revoked
        and release_promoted(step.workloads.values())
        and (newly_promoted or not step.release.revoke_error)
    ):
        step.effects.append(RevokeAccess(revoke))
        step.access_revoked = True
        if step.entries:
            last = step.entries[-1]
            step.entries[-1] = replace(last, reason=f"{last.reason}{REVOKED_NOTE}")


def revoke_retry(step: Step) -> Decision:
    """A scheduled retry of a failed revocation: revoke if the release still needs it, else nothing."""
    release = step.release
    if not release.plan.revoke_access:
        step.record(None, Outcome.IGNORED, "this release revokes no access (no revoke_access in its plan)")
    elif release.access_revoked:
        step.record(None, Outcome.IGNORED, "access already revoked")
    elif not release_promoted(release.workloads.values()):
        step.record(
            None, Outcome.IGNORED, "not every workload is promoted any more: access is revoked at the next promotion"
        )
    else:
        step.effects.append(RevokeAccess(release.plan.revoke_access))
        step.access_revoked = True
        step.record(
            None,
            Outcome.APPLIED,
            f"retrying the revocation of the migration team's access "
            f"(after {release.revoke_attempts} failed attempt(s)); access revoked",
        )
    return step.finish()


def revocation_failed(decision: Decision, error: str, now: datetime) -> Decision:
    """The decision as it stands when revoking access failed: routing stays as decided (a failed revocation
    never rolls a promotion back), access is recorded as not revoked with the reason, and a retry is due: the
    last effect. The effects carried out are kept (the revocation aside): the service puts back the routing
    they moved if the commit is lost to another writer and the decision made again moves nothing."""
    release = decision.release
    attempts = release.revoke_attempts + 1
    due = now + min(REVOKE_RETRY_FIRST * 2 ** min(attempts - 1, 10), REVOKE_RETRY_MAX)
    note = (
        f"revoking the migration team's access failed (attempt {attempts}; routing unchanged; retried at "
        f"{iso_s(due)}): {error}"
    )
    entries = list(decision.entries)
    if entries:
        last = entries[-1]
        entries[-1] = replace(
            last, reason=last.reason.replace(REVOKED_NOTE, "").replace("; access revoked", "") + "; " + note
        )
    new = release.evolve(access_revoked=False, revoke_error=error[:MAX_REVOKE_ERROR], revoke_attempts=attempts)
    retry = Schedule(m.REVOKE_RETRY_TYPE, {"attempt": attempts}, due, f"{attempts}:{ms(now)}")
    kept = [e for e in decision.effects if not isinstance(e, RevokeAccess)]
    return replace(decision, release=new, entries=entries, effects=[*kept, retry])
