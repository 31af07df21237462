"""dns's TTL note for a record set read without a TTL (shared/adapters/routing/dns.py `notes`), against the
local Resource Manager: the SDK leaves `ttl` None when Resource Manager sends none, and the note says 0s."""

from __future__ import annotations

from tests.routing.test_pin_dns import WHAT
from tests.routing.test_routing_edge import _dns, _router, _seed_record


def test_a_record_set_without_a_ttl_is_noted_at_0_seconds(arm, settings_arm):
    record = _seed_record(arm, "private-dns")
    arm.edit(record, lambda doc: doc["properties"].pop("ttl"))
    assert _router(settings_arm, _dns("private-dns")).notes([100]) == [
        f"{WHAT}: TTL 0s: resolvers that asked before the switch keep the old value up to 0s after it (set "
        "lower_ttl_to to lower it at apply)"
    ]
    assert _router(settings_arm, _dns("private-dns", lower_ttl_to=60)).notes([100]) == [
        f"{WHAT}: TTL 0s is already at most lower_ttl_to (60s): no wait"
    ]
