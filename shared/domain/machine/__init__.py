"""The promotion state machine, pure: decide(release, message, now) -> Decision.

Where a rule lives (docs/rules.md has the map):
- decide.py      authorise an override, dispatch a message to its rule, then the flow, then time;
- flow.py        the state graph as data: the moves a workload (and a staged release) makes by itself;
- step.py        one message being decided: the entries, the effects, the moves every rule uses;
- effects.py     what the service carries out before it commits, and the Decision;
- rules/         one module per concern: lifecycle, flight, overrides, time, finish, access;
- drift.py       what a drift check decides.
The gates that hold a workload ("why not yet?") are one registry in shared/domain/gates.py.
"""

from shared.domain.machine.decide import OVERRIDES, RULES, authorized, decide, redelivery_reasserts, reject_unparsed
from shared.domain.machine.drift import DriftSeen, decide_drift
from shared.domain.machine.effects import (
    Decision,
    Decommission,
    Effect,
    RevokeAccess,
    Schedule,
    SetTraffic,
    digest,
    schedule_id,
)
from shared.domain.machine.rules.access import release_promoted, revocation_failed
from shared.domain.machine.rules.finish import decommission_failed
from shared.domain.machine.rules.flight import CLOCK_SKEW
from shared.domain.machine.rules.time import DEPENDENCY_NOTICE_DELAY, DEPENDENCY_RECHECKS, span
from shared.domain.machine.step import Step

__all__ = [
    "CLOCK_SKEW",
    "DEPENDENCY_NOTICE_DELAY",
    "DEPENDENCY_RECHECKS",
    "OVERRIDES",
    "RULES",
    "Decision",
    "Decommission",
    "DriftSeen",
    "Effect",
    "RevokeAccess",
    "Schedule",
    "SetTraffic",
    "Step",
    "authorized",
    "decide",
    "decide_drift",
    "decommission_failed",
    "digest",
    "redelivery_reasserts",
    "reject_unparsed",
    "release_promoted",
    "revocation_failed",
    "schedule_id",
    "span",
]
