"""What an actor may do now (v3 §19): the overrides decide() would apply, each with the effect it would have. Pure.

The question is put to decide() itself: each action is decided, as if `actor` had sent it at `now`, on the
release as it is, and offered when the decision would apply it. The board therefore offers exactly what the
CLI and the override endpoint would be allowed to do, by the same authorisation (`decide.authorized`) and the
same rules; nothing here repeats them. What the decision would change names the effect for the confirmation
("moves payroll from 50% to 0%"). An offer is advice for the page: the override it leads to is decided again
when it arrives, and that decision is what history records.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from shared.domain import messages as m
from shared.domain.actors import Principal
from shared.domain.machine.decide import authorized, decide
from shared.domain.model import Outcome, Release, Workload

WORKLOAD_ACTIONS = tuple(a for a in m.OVERRIDE_ACTIONS if a not in m.RELEASE_ACTIONS)
# the verb a button shows, and how the effect starts when nothing moves
VERBS = {
    "approve": "Approve",
    "advance": "Advance",
    "pause": "Pause",
    "resume": "Resume",
    "rollback": "Roll back",
    "retry": "Retry",
    "abort": "Abort",
    "finalize": "Finalize",
    "halt": "Halt",
    "unhalt": "Unhalt",
}


@dataclass(frozen=True)
class Offer:
    action: str
    workload: str | None  # None: the whole release (halt, unhalt)
    effect: str  # what it does, in words: "moves payroll from 50% to 0%"
    recorded: str  # what history would record (the rule's own reason)

    @property
    def verb(self) -> str:
        return VERBS[self.action]


def offers(
    release: Release, actor: Principal, now: datetime, workload: str | None = None, actions: tuple[str, ...] = ()
) -> list[Offer]:
    """The actions `actor` may take now on `workload` (None: the release-wide ones, halt and unhalt), in the
    order of `actions` (default: every one that applies to the target), each with its effect."""
    wanted = actions or (WORKLOAD_ACTIONS if workload else m.RELEASE_ACTIONS)
    found = []
    for action in wanted:
        offer = would(release, actor, now, action, workload)
        if offer is not None:
            found.append(offer)
    return found


def would(release: Release, actor: Principal, now: datetime, action: str, workload: str | None) -> Offer | None:
    """The offer of `action` if deciding it now would apply it; None if it would be refused or change nothing."""
    if (workload is None) != (action in m.RELEASE_ACTIONS) or (workload and workload not in release.workloads):
        return None
    if not actor.name or authorized(release, action, actor) is None:  # decide()'s own check, without deciding
        return None
    data = {"release": release.name, "workload": workload, "action": action, "actor": actor.name, "reason": "?"}
    event = m.new_event("override", data, id=f"offer:{action}:{workload or '~'}", source="promote/offers", time=now)
    message = m.parse_message(json.dumps(event))
    decision = decide(release, message, now, principal=actor)
    if decision.outcome != Outcome.APPLIED:
        return None
    applied = [e for e in decision.entries if e.outcome == Outcome.APPLIED]
    recorded = "; ".join(dict.fromkeys(e.reason for e in applied))
    if action in m.RELEASE_ACTIONS:
        return Offer(action, None, _release_effect(action, release, decision.release), recorded)
    before, after = release.workloads[workload], decision.release.workloads[workload]  # type: ignore[index]
    return Offer(action, workload, _effect(action, before, after, release.plan.quorum), recorded)


def _effect(action: str, before: Workload, after: Workload, quorum: int) -> str:
    name, said = before.name, []
    if after.traffic_percent != before.traffic_percent:
        said.append(f"moves {name} from {before.traffic_percent}% to {after.traffic_percent}%")
    if after.state != before.state:
        said.append(f"takes {name} from {before.state} to {after.state}")
    if after.paused and not before.paused:
        said.append(f"pauses {name} at {before.traffic_percent}%: nothing advances until resume")
    if before.paused and not after.paused:
        said.append(f"resumes {name}")
    if len(after.approvals) > len(before.approvals) and not after.approved:
        said.append(f"counts an approval of {name}: {len(after.approvals)} of {quorum}")
    elif after.approved and not before.approved:
        said.append(f"approves {name}")
    if after.finalize_requested_by and not before.finalize_requested_by:
        said.append(f"turns {name}'s source system off")
    if not said:
        said.append(f"{VERBS[action].lower()}s {name}")
    return "; ".join(said)


def _release_effect(action: str, before: Release, after: Release) -> str:
    changed = [n for n, w in after.workloads.items() if w.paused != before.workloads[n].paused]
    count = f"{len(changed)} workload{'s' if len(changed) != 1 else ''}"
    if action == "halt":
        return f"halts release {before.name}: pauses {count} where they stand until an approver unhalts it"
    return f"lifts the halt of release {before.name}: resumes the workloads the halt paused"
