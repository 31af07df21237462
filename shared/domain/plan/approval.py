"""Who must approve before users move (contract §1, v3 §19): `approval: auto | manual`, or
`approval: {mode: manual, quorum: 2, separate_duties: true}`."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from shared.domain.plan.base import Strict

MAX_QUORUM = 10


class Approval(Strict):
    """`quorum`: distinct approvers a move needs; `separate_duties`: an approver who also operated on the
    workload in this attempt (paused, resumed, retried, advanced, rolled back) does not count."""

    mode: Literal["auto", "manual"] = "manual"
    quorum: int = Field(default=1, ge=1, le=MAX_QUORUM)
    separate_duties: bool = False
