"""`promote status` shows each Azure Migrate workload's rehearsal (contract v3 §16): its state or verdict, when it
started and by whom, and whether its plan hash is the plan's as it is now (another plan's does not count)."""

from __future__ import annotations

from shared.application.views import status_json, status_text
from shared.domain.plan import validate_plan
from tests.unit.test_machine import Driver, make_plan
from tests.unit.test_migrate import OPERATOR, VAULT, MigrateDriver, migrate_plan


def rehearsal_line(text: str) -> str:
    head, _, lines = text.partition("\n\nrehearsals (Azure Migrate test migration)\n")
    assert lines, text
    [line] = lines.splitlines()
    return line


def test_status_says_each_rehearsal_state_when_its_verdict_and_whether_it_is_of_this_plan():
    d = MigrateDriver(migrate_plan())
    d.ready()
    text = status_text(d.release, d.w.clock.now())
    assert rehearsal_line(text) == "  w1: no rehearsal yet"
    # the gates in words, as the board and history say them (not their details' dicts)
    assert (
        "w1 waits for: a passing rehearsal of this plan (" in text and "): no rehearsal yet (promote rehearse);" in text
    )
    assert "Azure Migrate's migration: not started" in text and "'last'" not in text
    d.override("rehearse")
    d.vault.finish("test-migrate")
    d.watch()
    at = status_json(d.release, d.w.clock.now())["workloads"][0]["rehearsal"]["at"]
    h = d.wl().rehearsal_hash
    assert rehearsal_line(status_text(d.release, d.w.clock.now())) == (
        f"  w1: running, no verdict yet; started {at} by {OPERATOR}; plan hash {h} (this plan); test job job-1,job-2"
    )
    d.send("rehearsal-passed", suite="smoke")
    line = rehearsal_line(status_text(d.release, d.w.clock.now()))
    assert line.startswith(f"  w1: passed; started {at}") and f"plan hash {h} (this plan)" in line

    # the plan's machines change: the passing rehearsal is of another plan and the JSON says so too
    changed = migrate_plan(workloads=[{"name": "w1", "assets": ["a", "b"], "machines": ["vm-a", "vm-c"]}])
    other = d.release.evolve(plan=validate_plan(changed))
    [w] = status_json(other, d.w.clock.now())["workloads"]
    assert w["rehearsal"]["plan_matches"] is False and w["rehearsal"]["plan_hash"] == h
    assert f"plan hash {h} (ANOTHER plan: rehearse again)" in rehearsal_line(status_text(other, d.w.clock.now()))


def test_a_failed_rehearsal_says_why_and_a_release_without_azure_migrate_has_no_rehearsals():
    d = MigrateDriver(migrate_plan())
    d.ready()
    d.override("rehearse")
    d.vault.finish("test-migrate")
    d.watch()
    d.send("rehearsal-failed", suite="smoke", run="7")
    [w] = status_json(d.release, d.w.clock.now())["workloads"]
    assert w["rehearsal"]["state"] == "failed"
    assert rehearsal_line(status_text(d.release, d.w.clock.now())).startswith("  w1: failed")
    plain = Driver(make_plan("single-step"))
    assert "rehearsals" not in status_text(plain.release)


HEALTH = {"interval": "30s", "checks": [{"name": "errors", "provider": "local", "max": 0.05}]}


def test_a_safe_amend_of_a_workloads_health_threshold_keeps_its_passing_rehearsal():
    """A workload's health thresholds may change in a running release (v3 §19): they are how promote judges the
    migrated system under users, not what the rehearsal proved, so the passing rehearsal still counts (the hash
    covered the whole workload section: the one change a running release allows asked for a new rehearsal)."""
    workload = {"name": "w1", "assets": ["a", "b"], "machines": ["vm-a", "vm-b"], "health": HEALTH}
    source = {"provider": "azure-migrate", "vault": VAULT, "shutdown_source": False}  # a flight keeps it on
    plan = migrate_plan("flight", workloads=[workload], approval="manual", source=source)
    d = MigrateDriver(plan)
    d.ready()
    d.override("rehearse")
    d.vault.finish("test-migrate")
    d.watch()
    d.send("rehearsal-passed")
    d.vault.finish("test-migrate-cleanup")
    d.watch()
    assert "rehearsal" not in d.gates()
    looser = {**HEALTH, "checks": [{**HEALTH["checks"][0], "max": 0.1}]}
    assert d.w.service.apply(validate_plan({**plan, "workloads": [{**workload, "health": looser}]})).action == "updated"
    assert d.release.plan.workload("w1").health.checks[0].max == 0.1
    assert "rehearsal" not in d.gates()
    [w] = status_json(d.release, d.w.clock.now())["workloads"]
    assert w["rehearsal"]["plan_matches"] is True
