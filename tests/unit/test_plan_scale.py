"""Plans at scale (contract §14): up to 5,000 workloads in every model, with or without notify, validated in
well under 2 s, every problem named, and a clear error for a plan too big to store."""

from __future__ import annotations

import json
import time

import pytest

from shared.domain.errors import PlanError
from shared.domain.plan import (
    MAX_ASSET_CHARS,
    MAX_STORED_PLAN_CHARS,
    MAX_WORKLOADS,
    load_plan_text,
    stored_chars,
    validate_plan,
)

SUB = "00000000-0000-0000-0000-000000000000"
NOTIFY = [{"kind": "webhook", "url_setting": "WAVE_HOOK"}]


def routing(name: str) -> dict:
    return {
        "provider": "traffic-manager",
        "subscription": SUB,
        "resource_group": "rg-wave-7",
        "profile": f"tm-{name}",
        "source_endpoint": f"{name}-onprem",
        "target_endpoint": f"{name}-azure",
    }


def wave(n: int = MAX_WORKLOADS, model: str = "flight", *, routed: bool = True, **extra) -> dict:
    workloads = []
    for i in range(n):
        name = f"app-{i:05d}"
        w: dict = {"name": name, "assets": [f"vm-{name}-web-01", f"vm-{name}-db-01"]}
        if routed:
            w["routing"] = routing(name)
        workloads.append(w)
    doc = {"release": "wave-7", "model": model, "approvers": ["ana@contoso.com"], "workloads": workloads}
    if model == "flight":
        doc["flights"] = [{"percent": 10, "bake": "1h"}, {"percent": 50, "bake": "1h"}, {"percent": 100}]
    doc.update(extra)
    return doc


@pytest.mark.parametrize("model", ["single-step", "staged", "flight"])
@pytest.mark.parametrize("notify", [None, NOTIFY])
def test_a_plan_holds_5000_workloads_in_every_model_with_or_without_notify(model, notify):
    plan = validate_plan(wave(model=model, routed=False, **({"notify": notify} if notify else {})))
    assert len(plan.workloads) == 5_000 and bool(plan.notify) == bool(notify)
    assert plan.workload("app-04999").assets == ["vm-app-04999-web-01", "vm-app-04999-db-01"]


def test_one_workload_more_is_refused():
    with pytest.raises(PlanError) as caught:
        validate_plan(wave(MAX_WORKLOADS + 1, routed=False, notify=NOTIFY))
    assert [p for p, why in caught.value.problems if "5000" in why] == ["workloads"]


def test_5000_routed_workloads_validate_in_under_two_seconds():
    doc = wave(notify=NOTIFY)
    started = time.process_time()  # CPU time: other processes on the machine do not count
    plan = validate_plan(doc)
    assert time.process_time() - started < 2.0
    assert plan.workloads[-1].routing.provider == "traffic-manager"


def test_a_5000_workload_json_plan_is_read_by_the_json_parser():
    """The YAML parser takes seconds over 1.5 MB (libyaml) and 15 s without it; the JSON one milliseconds."""
    from shared.domain.plan.validate import _strict_json

    doc = wave(notify=NOTIFY)
    text = json.dumps(doc)
    assert _strict_json(text) == doc
    started = time.process_time()
    plan = load_plan_text(text)
    assert time.process_time() - started < 2.0 and len(plan.workloads) == 5_000


def test_every_problem_of_a_5000_workload_plan_is_named():
    doc = wave()
    doc["workloads"][4321]["name"] = "app-00007"  # a duplicate
    doc["workloads"][2500]["assets"] = ["vm", "vm"]
    doc["workloads"][3999]["routing"]["subscription"] = "not-a-subscription"
    doc["workloads"][4998]["bogus"] = True
    with pytest.raises(PlanError) as caught:
        validate_plan(doc)
    paths = [p for p, _ in caught.value.problems]
    assert "workloads[2500].assets" in paths
    assert "workloads[3999].routing.subscription" in paths
    assert "workloads[4998].bogus" in paths
    assert any("duplicate workload names: app-00007" in why for _, why in caught.value.problems)


def test_a_plan_too_big_to_store_is_refused_with_its_size_and_the_limit():
    import hashlib

    doc = wave(routed=False)
    for i, w in enumerate(doc["workloads"]):  # names and assets that do not compress
        w["assets"] = [hashlib.sha256(f"{i}-{j}".encode()).hexdigest() for j in range(3)]
    with pytest.raises(PlanError) as caught:
        validate_plan(doc)
    (why,) = [why for path, why in caught.value.problems if "stored" in why]
    assert f"the limit is {MAX_STORED_PLAN_CHARS:,}" in why and "split the release" in why
    for w in doc["workloads"]:
        w["assets"] = w["assets"][:1]
    plan = validate_plan(doc)  # a third of it fits
    assert stored_chars(json.dumps(plan.canonical(), separators=(",", ":"))) <= MAX_STORED_PLAN_CHARS


def test_asset_names_beyond_what_a_shard_can_rewrite_at_once_are_refused():
    doc = wave(MAX_WORKLOADS, routed=False)
    for i, w in enumerate(doc["workloads"]):  # 5,000 x 2 x 101 characters: compresses well, but too many
        w["assets"] = [f"{'x' * 96}-{i:04d}", f"{'y' * 96}-{i:04d}"]
    with pytest.raises(PlanError) as caught:
        validate_plan(doc)
    assert [(p, why) for p, why in caught.value.problems if "asset names take" in why] == [
        ("workloads", f"the asset names take 1,010,000 characters in all; the limit is {MAX_ASSET_CHARS:,} "
         "(split the release, or shorten asset names)")
    ]  # fmt: skip


def test_a_json_plan_keeps_the_yaml_rules_no_key_twice_and_no_nan():
    with pytest.raises(PlanError) as caught:
        load_plan_text('{"release": "r1", "model": "flight",\n"model": "staged", "workloads": []}')
    assert "duplicate key 'model'" in str(caught.value) and "line 2" in str(caught.value)
    with pytest.raises(PlanError) as caught:  # YAML reads NaN as text: a plan problem, never a float
        load_plan_text(
            '{"release": "r1", "model": "single-step", "hypercare": NaN, "workloads": [{"name": "w", "assets": ["a"]}]}'
        )
    assert [p for p, _ in caught.value.problems] == ["hypercare"]
