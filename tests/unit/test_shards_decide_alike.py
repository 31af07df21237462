"""A release kept in shards decides exactly as one kept whole (issue 22): the same messages give the same
outcomes, reasons, states, shares and routing, whether each workload's messages are decided on its own shard
(and on the whole release only when a shard's change may move it) or every message on the whole release."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from tests.unit.test_properties import WORKLOADS, run, sequences


def _seen(observations) -> list:
    return [
        (
            body["id"],
            result.outcome,
            result.reason,
            [(e.workload, e.outcome, e.reason, e.from_state, e.to_state, e.traffic_percent) for e in entries],
            {n: after.workloads[n] for n in WORKLOADS},
            shares,
        )
        for body, _, after, result, entries, shares, _ in observations
    ]


@settings(max_examples=settings.default.max_examples, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sequences)
def test_a_release_in_shards_decides_as_a_release_kept_whole(case):
    kind, steps = case
    whole, _, kept_whole = run(kind, steps)
    sharded, _, in_shards = run(kind, steps, shard_size=1)  # each workload its own shard
    assert _seen(in_shards) == _seen(kept_whole)
    assert sharded.store.list_history("r1") == whole.store.list_history("r1")


def test_most_messages_of_a_sharded_release_read_one_shard_and_look_at_the_others_rarely():
    steps = [
        ("asset-replicated", w, f"a-{w}-{a}", {"asset": a}) for w, assets in (("w1", "ab"), ("w2", "c")) for a in assets
    ]
    sharded, _, observations = run("single-step-manual", steps, shard_size=1)
    reads = sharded.store.reads
    assert reads.count("shard") == 3  # each message read its workload's shard alone
    assert "look" not in reads  # replicating and testing change nothing a release-level condition turns on
