"""Effects Azure refused (shared/domain/machine/rules/retry.py) and the revocation of access
(shared/domain/machine/rules/access.py), through the service: the exact reasons, the retry messages and what
is left on the workload and the release."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.unit.test_machine import Driver, make_plan

START_MS = 1795730400000
ROLLBACK = "alert (Sev1): rolled back to 0% (on_alert: rollback) -> rolled-back (0%)"


def said(*results) -> list[tuple[str, str]]:
    return [(str(r.outcome), r.reason) for r in results]


def flighting(**plan) -> Driver:
    d = Driver(make_plan("flight", **plan))
    d.replicate()
    d.send("tests-passed")
    return d


def test_a_transient_refusal_is_tried_again_until_retry_max_then_stopped():
    d = flighting(retry={"max": "2m"})
    d.w.network.answer = lambda: 503
    assert said(d.send("alert", severity="Sev1")) == [
        (
            "ignored",
            "not carried out yet: fake r1/w1: answered 503 (attempt 1; tried again at 2026-11-26T22:00:30Z); it would "
            f"have: {ROLLBACK}",
        )
    ]
    event, due = d.w.scheduler.scheduled[-1]
    assert (event["type"], event["id"], due) == (
        "message-retry",
        "message-retry:r1:w1:2396a1256ac4b1c6:1",
        datetime(2026, 11, 26, 22, 0, 30, tzinfo=UTC),
    )
    assert {k: v for k, v in event["data"].items() if k != "body"} == {
        "release": "r1",
        "workload": "w1",
        "attempt": 1,
        "first_ms": START_MS,
    }
    assert (d.wl().state, d.routed(), d.wl().stuck) == ("flighting", 10, None)
    results = []
    for _ in range(8):
        results += [r for r in d.tick(30) if "carried out" in r.reason]
    assert said(*results) == [
        (
            "ignored",
            "not carried out yet: fake r1/w1: answered 503 (attempt 2; tried again at 2026-11-26T22:01:30Z); it would "
            f"have: {ROLLBACK}",
        ),
        (
            "ignored",
            "not carried out yet: fake r1/w1: answered 503 (attempt 3; tried again at 2026-11-26T22:03:30Z); it would "
            f"have: {ROLLBACK}",
        ),
        (
            "rejected",
            "not carried out: fake r1/w1: answered 503 (it kept failing past the plan's retry.max); it would have: "
            f"{ROLLBACK}",
        ),
    ]
    assert d.wl().stuck == (
        f"{ROLLBACK}: not carried out at 2026-11-26T22:03:30Z: fake r1/w1: answered 503 (it kept failing past the "
        "plan's retry.max)"
    )
    assert (d.wl().state, d.routed()) == ("flighting", 10)


def test_a_permanent_refusal_stops_at_once():
    d = flighting()
    d.w.network.answer = lambda: 400
    assert said(d.override("rollback")) == [
        (
            "rejected",
            "not carried out: fake r1/w1: answered 400 (Azure refused it); it would have: rolled back to 0% by hand -> "
            "rolled-back (0%)",
        )
    ]
    assert d.wl().stuck == (
        "rolled back to 0% by hand -> rolled-back (0%): not carried out at 2026-11-26T22:00:00Z: fake r1/w1: "
        "answered 400 (Azure refused it)"
    )
    history = d.w.store.list_history("r1", "w1")[-1]
    assert (history.outcome, history.from_state, history.to_state, history.traffic_percent) == (
        "rejected",
        "flighting",
        "flighting",
        10,
    )


def test_a_failed_revocation_is_retried_and_never_undoes_the_promotion():
    d = Driver(make_plan("single-step", revoke_access={"provider": "local", "source_prefixes": ["10.0.0.0/8"]}))
    d.w.network.revoke_failures = 2
    d.replicate()
    conflict = "network security group: priority 100 clashes (SecurityRuleConflict)"
    assert said(d.send("tests-passed")) == [
        (
            "applied",
            "tests passed -> promoted (100%); revoking the migration team's access failed (attempt 1; routing "
            f"unchanged; retried at 2026-11-26T22:01:00Z): {conflict}; network: fake r1/w1: share 0 -> 100",
        )
    ]
    assert [(e["type"], e["data"], e["id"], due) for e, due in d.w.scheduler.scheduled] == [
        (
            "revoke-access-retry",
            {"release": "r1", "attempt": 1},
            f"revoke-access-retry:r1:~:1:{START_MS}",
            datetime(2026, 11, 26, 22, 1, tzinfo=UTC),
        )
    ]
    release = d.release
    assert (release.access_revoked, release.revoke_attempts, release.revoke_error) == (False, 1, conflict)
    assert said(*d.tick(60), *d.tick(120)) == [
        (
            "applied",
            "retrying the revocation of the migration team's access (after 1 failed attempt(s)); revoking the "
            f"migration team's access failed (attempt 2; routing unchanged; retried at 2026-11-26T22:03:00Z): "
            f"{conflict}",
        ),
        (
            "applied",
            "retrying the revocation of the migration team's access (after 2 failed attempt(s)); access revoked; "
            "network: fake access r1: deny-migration-team allowed -> denied",
        ),
    ]
    release = d.release
    assert (release.access_revoked, release.revoke_attempts, release.revoke_error) == (True, 2, None)
    assert said(d.send("revoke-access-retry", None, attempt=9)) == [("ignored", "access already revoked")]
    other = Driver(make_plan("single-step"))
    assert said(other.send("revoke-access-retry", None, attempt=1)) == [
        ("ignored", "this release revokes no access (no revoke_access in its plan)")
    ]


def test_a_revocation_retry_after_a_rollback_waits_for_the_next_promotion():
    d = Driver(make_plan("single-step", revoke_access={"provider": "local", "source_prefixes": ["10.0.0.0/8"]}))
    d.w.network.revoke_failures = 1
    d.replicate()
    d.send("tests-passed")
    d.override("rollback")
    assert said(*d.tick(60)) == [
        (
            "ignored",
            "not every workload is promoted any more: access is revoked at the next promotion",
        )
    ]
    d.override("retry")
    d.replicate()
    assert said(d.send("tests-passed")) == [
        (
            "applied",
            "tests passed -> promoted (100%); release promoted, migration team access revoked; network: fake r1/w1: "
            "share 0 -> 100; network: fake access r1: deny-migration-team allowed -> denied",
        )
    ]
    assert d.release.access_revoked
