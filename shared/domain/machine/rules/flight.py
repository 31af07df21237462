"""Flights: health verdicts, alerts, the bake timer, and growing a flight by hand (`advance`)."""

from __future__ import annotations

from datetime import timedelta

from shared.domain.finishing import in_hypercare
from shared.domain.gates import bake_due
from shared.domain.health import describe as describe_checks
from shared.domain.machine.step import Ruling, Step
from shared.domain.model import Outcome, Workload, WorkloadState
from shared.domain.times import iso_s, ms, stamp
from shared.domain.windows import closed

S = WorkloadState
CLOCK_SKEW = timedelta(seconds=5)  # a monitor's clock may run this far behind ours


def _measured(data) -> str:
    """The values a judge measured, for the reason: ' (judge evaluation 3: error-rate 0.4 passed (...))'."""
    checks = getattr(data, "checks", None)
    return f" ({describe_checks(checks, data.cause, data.evaluation)})" if checks else ""


def on_verdict(step: Step, w: Workload) -> Ruling:
    flight, healthy = step.message.data.flight, step.message.type == "flight-healthy"
    measured = _measured(step.message.data)
    issued = step.message.time
    if w.state != S.FLIGHTING:
        return Outcome.IGNORED, f"verdict for flight {flight} but the workload is {w.state}", w
    if flight != w.flight:
        return Outcome.IGNORED, f"verdict for flight {flight}; the current flight is {w.flight}", w
    if issued is not None and issued < w.flight_began - CLOCK_SKEW:
        return Outcome.IGNORED, f"verdict issued at {iso_s(issued)}, before flight {flight} began", w
    trouble = w.flight_trouble_at
    if healthy and issued is not None and trouble is not None and issued < trouble - CLOCK_SKEW:
        # measured before the alert that voided this flight's health (a monitor's clock may run CLOCK_SKEW
        # behind ours, as for the flight's start): the flight needs a verdict from after it
        return (
            Outcome.IGNORED,
            (
                f"verdict issued at {iso_s(issued)}, before the alert of "
                f"{stamp(trouble)}: flight {flight} needs a healthy verdict from after it"
            ),
            w,
        )
    if not healthy:
        return on_trouble(step, w, f"flight {flight} unhealthy{measured}")
    baked = step.now >= bake_due(step.release, w)
    if w.healthy_flight == flight and not baked:
        return Outcome.IGNORED, f"flight {flight} was already reported healthy; bake time not over", w
    if w.healthy_flight == flight and w.paused:
        return Outcome.IGNORED, f"flight {flight} was already reported healthy; paused", w
    w = w.evolve(healthy_flight=flight)
    if not baked:
        left = (bake_due(step.release, w) - step.now).total_seconds()
        return Outcome.APPLIED, f"flight {flight} healthy{measured}; bake time left {left:.0f}s", w
    return Outcome.APPLIED, f"flight {flight} healthy{measured} and baked", w


def on_alert(step: Step, w: Workload) -> Ruling:
    data = step.message.data
    what = (
        "alert"
        + (f" ({data.severity})" if data.severity else "")
        + (f": {data.description}" if data.description else "")
    )
    if w.state == S.PROMOTED and in_hypercare(step.release, w, step.now):
        return on_trouble(step, w, f"{what} during hypercare")
    if w.state != S.FLIGHTING:
        hint = "; roll back with override rollback if needed" if w.state == S.PROMOTED else ""
        return Outcome.IGNORED, f"{what} while {w.state}; on_alert applies during flights{hint}", w
    return on_trouble(step, w, what)


def on_trouble(step: Step, w: Workload, what: str) -> Ruling:
    """An alert or an unhealthy verdict: `on_alert` decides. A healthy verdict from before the trouble no
    longer counts: the flight needs a fresh one."""
    if w.paused:
        return (
            Outcome.APPLIED,
            f"{what}; recorded while paused, routing unchanged until resume",
            w.evolve(
                unhealthy=True, healthy_flight=0, alert_while_paused=f"{what} at {stamp(step.now)}", trouble_at=step.now
            ),
        )
    if step.release.plan.on_alert == "pause":
        return (
            Outcome.APPLIED,
            f"{what}: paused at {w.traffic_percent}% (on_alert: pause)",
            w.evolve(
                paused=True,
                healthy_flight=0,
                paused_by="promote",
                paused_at=step.now,
                paused_reason=f"{what} (on_alert: pause)",
                trouble_at=step.now,
            ),
        )
    return Outcome.APPLIED, f"{what}: rolled back to 0% (on_alert: rollback)", step.to_source(w, S.ROLLED_BACK)


def on_bake_timer(step: Step, w: Workload) -> Ruling:
    data = step.message.data
    if (
        w.state != S.FLIGHTING
        or data.flight != w.flight
        or data.attempt != w.attempt
        or data.started_ms != ms(w.flight_began)
    ):
        return Outcome.IGNORED, f"bake timer for flight {data.flight} (attempt {data.attempt}) is stale", w
    due = bake_due(step.release, w)
    if step.now < due:
        step.schedule_bake(w, due)
        return Outcome.IGNORED, f"bake timer arrived early; rescheduled for {iso_s(due)}", w
    if w.paused:
        return Outcome.IGNORED, f"bake time of flight {w.flight} over; paused", w
    if w.healthy_flight != w.flight:
        return Outcome.IGNORED, f"bake time of flight {w.flight} over; waiting for a healthy verdict", w
    return Outcome.APPLIED, f"bake time of flight {w.flight} over and healthy", w


def advance_now(step: Step, w: Workload) -> Ruling:
    """`override advance`: grow to the next flight now, whatever the bake and the verdict say."""
    if w.state != S.FLIGHTING:
        return Outcome.REJECTED, f"advance applies to a flighting workload; this one is {w.state}", w
    if w.paused:
        return Outcome.REJECTED, "workload is paused: resume first", w
    windows = step.release.plan.windows
    why = closed(windows, step.now)
    if why is not None and why.denied and windows is not None and not windows.advance_when_denied:
        return (
            Outcome.REJECTED,
            (
                f"advance inside a {why.reason} (until {iso_s(why.opens) or 'never'}); the plan's "
                "windows.advance_when_denied is false"
            ),
            w,
        )
    if w.flight < len(step.release.plan.flights or []) and (held := step.sync_hold(w)):
        return Outcome.REJECTED, f"advance held by {held}", w
    before = w.traffic_percent
    w = step.grow(w)
    done = w.state == S.PROMOTED
    return (
        Outcome.APPLIED,
        f"advanced by hand from flight {w.flight - (0 if done else 1)} ({before}%) to "
        + (str(w.state) if done else f"flight {w.flight}"),
        w,
    )
