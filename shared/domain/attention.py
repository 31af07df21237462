"""The `attention` list (contract §3): the workloads that are not where the release state suggests, each with
why. A release state is one word; this list keeps it from hiding a workload's. Pure."""

from __future__ import annotations

from shared.domain.model import Release, ReleaseState, Workload, WorkloadState
from shared.domain.times import stamp


def _paused(w: Workload) -> str:
    who = f" by {w.paused_by}" if w.paused_by else ""
    since = f" since {stamp(w.paused_at)}" if w.paused_at else ""
    why = f": {w.paused_reason}" if w.paused_reason else ""
    return f"paused{who}{since}{why}; nothing advances and routing does not change until resume"


def _why(release: Release, state: ReleaseState, w: Workload) -> list[str]:
    S, R = WorkloadState, ReleaseState
    reasons: list[str] = []
    if w.state == S.ROLLED_BACK and state != R.ROLLED_BACK:
        reasons.append(f"rolled back to 0% while the release is {state}; override retry brings it back to testing")
    if w.traffic_percent > 0 and state in (R.ROLLED_BACK, R.ABORTED):
        reasons.append(
            f"{w.traffic_percent}% of its users are on the migrated system ({w.state}) while the release is {state}"
        )
    if w.state == S.ABORTED and state in (R.PROMOTED, R.FINALIZED):
        reasons.append("aborted: left out of the release, its users stay on the source system")
    if (
        w.state in (S.PROMOTED, S.FINALIZED)
        and release.model == "staged"
        and state in (R.IN_PROGRESS, R.AWAITING_APPROVAL)
    ):
        reasons.append(f"promoted (100%) while the staged release is {state}")
    if w.stuck:
        reasons.append(w.stuck)
    if w.paused:
        reasons.append(_paused(w))
    if w.alert_while_paused:
        reasons.append(f"alert recorded while paused, acted on at resume: {w.alert_while_paused}")
    return reasons


def attention(release: Release) -> list[dict]:
    """[{"workload", "state", "traffic_percent", "why"}] for every workload that needs a person's eye."""
    items = []
    state = release.state  # counts every workload: once per list, not once per workload (5,000 in a release)
    for w in release.workloads.values():
        reasons = _why(release, state, w)
        if reasons:
            items.append(
                {"workload": w.name, "state": w.state, "traffic_percent": w.traffic_percent, "why": "; ".join(reasons)}
            )
    return items
