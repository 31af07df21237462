"""A plan too big to keep (shared/domain/plan/validate.py `_size_problems`): as JSON, as stored (deflated), and
its asset names, with the exact refusal `promote apply` prints; the asset limit at its bound."""

from __future__ import annotations

import random

import pytest

from shared.domain.errors import PlanError
from shared.domain.plan import validate_plan
from shared.domain.plan.validate import stored_chars


def problems(raw) -> list:
    with pytest.raises(PlanError) as caught:
        validate_plan(raw)
    return caught.value.problems


def _plan(workloads: list[dict]) -> dict:
    return {"release": "r", "model": "single-step", "workloads": workloads}


def test_the_asset_names_may_take_a_million_characters_not_more():
    def plan(extra: int) -> dict:
        workloads = []
        for i in range(20):
            names = [f"{'a' * 247}{i:04}{j:05}" for j in range(200 if i < 19 else 106)]  # 256 characters each
            if i == 19:
                names.append("b" * (64 + extra))
            workloads.append({"name": f"w{i}", "assets": names})
        return _plan(workloads)

    assert len(validate_plan(plan(0)).workloads) == 20  # 3,906 x 256 + 64 = 1,000,000
    assert problems(plan(1)) == [
        (
            "workloads",
            "the asset names take 1,000,001 characters in all; the limit is 1,000,000 (split the release, or "
            "shorten asset names)",
        )
    ]


def test_a_plan_that_deflates_badly_is_refused_as_stored():
    rnd = random.Random(7)
    workloads = [
        {"name": f"w{i}", "assets": ["".join(rnd.choice("0123456789abcdef") for _ in range(256))]} for i in range(2000)
    ]
    [(path, reason)] = problems(_plan(workloads))
    assert path == ""
    assert reason.startswith("the plan takes ")
    assert reason.endswith(
        " characters stored (deflated); the limit is 300,000 (split the release, or shorten names and asset names)"
    )
    stored = int(reason.removeprefix("the plan takes ").split(" ")[0].replace(",", ""))
    assert stored > 300_000


def test_a_plan_over_five_million_characters_of_json_is_refused_for_that_alone():
    workloads = [{"name": f"w{i}", "assets": [f"{'a' * 240}{i:04}{j:03}" for j in range(200)]} for i in range(100)]
    [(path, reason)] = problems(_plan(workloads))
    assert path == ""
    assert reason.startswith("the plan is 5,0")
    assert reason.endswith(" characters as JSON; the limit is 5,000,000 (split the release)")


def test_stored_chars_is_base64_of_the_deflated_text():
    assert stored_chars("") == 12  # zlib's empty stream is 8 bytes: 4 * ceil(8 / 3)
    assert stored_chars("a" * 10_000) % 4 == 0
