"""After a safe amend (v3 §19, plan/amend.py): wake what the old plan's timers would wake too late.

A deadline made shorter is due before the timer the old plan scheduled: each waiting period's deadline is
scheduled again from the new plan (a timer that turns out early is rescheduled on arrival, one already fired
does not fire twice). A window moved earlier opens before the timer of the old opening: each workload waiting
for a window hears now, and is held again, with a timer for its new opening, if the window is still closed.
"""

from __future__ import annotations

from datetime import datetime

from shared.application.effects import Ports, schedule
from shared.application.timing import first_deadlines
from shared.domain import messages as m
from shared.domain.machine import Schedule
from shared.domain.model import Release
from shared.domain.plan.amend import Amendment
from shared.domain.times import ms


def reschedule(ports: Ports, release: Release, change: Amendment, now: datetime) -> None:
    """`release`: as amended (its new plan)."""
    if "deadlines" in change.changed:
        first_deadlines(ports, release, now)
    if "windows" in change.changed:
        for w in release.workloads.values():
            if w.window_opens_at is not None:
                data = {"workload": w.name, "opens_ms": ms(now)}
                schedule(ports, release.name, Schedule(m.WINDOW_TYPE, data, now, f"amend:{ms(now)}"))
