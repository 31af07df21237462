"""A failed revocation of access is kept in the release row (and cleared) on the real table store."""

from __future__ import annotations

from shared.domain.machine import Decision
from shared.domain.plan import validate_plan


def test_revoke_error_and_attempts_round_trip_and_clear(stack, release_name):
    stack.service.apply(
        validate_plan(
            {
                "release": release_name,
                "model": "single-step",
                "revoke_access": {"provider": "local", "source_prefixes": ["10.50.0.0/24"]},
                "workloads": [{"name": "w0", "assets": ["vm-1"]}],
            }
        )
    )
    snapshot = stack.store.get_release(release_name)
    failing = snapshot.release.evolve(revoke_error="SecurityRuleConflict: taken", revoke_attempts=2)
    stack.store.commit(snapshot, Decision(release=failing, entries=[]), None)
    snapshot = stack.store.get_release(release_name)
    assert (snapshot.release.revoke_error, snapshot.release.revoke_attempts) == ("SecurityRuleConflict: taken", 2)
    done = snapshot.release.evolve(access_revoked=True, revoke_error=None)
    stack.store.commit(snapshot, Decision(release=done, entries=[]), None)
    release = stack.store.get_release(release_name).release
    assert (release.access_revoked, release.revoke_error, release.revoke_attempts) == (True, None, 2)
