"""Change windows, pure: open or not, and the next opening, including daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shared.domain.plan import Windows
from shared.domain.windows import closed, is_open, next_opening


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


EVENINGS = {
    "timezone": "Europe/Amsterdam",
    "allow": [{"days": ["mon", "tue", "wed", "thu", "fri"], "from": "20:00", "to": "23:30"}],
}
FREEZE = {**EVENINGS, "deny": [{"from": "2026-12-20T00:00", "to": "2027-01-04T00:00", "reason": "year-end freeze"}]}
NIGHTS = {"timezone": "Europe/Amsterdam", "allow": [{"days": ["sat"], "from": "22:00", "to": "04:00"}]}
GAP = {"timezone": "Europe/Amsterdam", "allow": [{"days": ["sun"], "from": "02:30", "to": "03:30"}]}
FOLD = {"timezone": "Europe/Amsterdam", "allow": [{"days": ["sun"], "from": "02:00", "to": "03:00"}]}
DENY_ONLY = {
    "timezone": "America/New_York",
    "deny": [{"from": "2026-11-26T00:00", "to": "2026-11-27T00:00", "reason": "thanksgiving"}],
}

# (windows, now, open, next opening)
CASES = [
    # winter: Amsterdam is UTC+1, 20:00-23:30 local is 19:00-22:30Z
    (EVENINGS, utc(2026, 11, 27, 19, 30), True, utc(2026, 11, 27, 19, 30)),
    (EVENINGS, utc(2026, 11, 27, 18, 59), False, utc(2026, 11, 27, 19, 0)),
    (EVENINGS, utc(2026, 11, 27, 22, 30), False, utc(2026, 11, 30, 19, 0)),  # Friday's slot over: Monday
    (EVENINGS, utc(2026, 11, 28, 10, 0), False, utc(2026, 11, 30, 19, 0)),  # Saturday
    # summer: UTC+2, the same wall-clock slot is 18:00-21:30Z
    (EVENINGS, utc(2026, 7, 1, 18, 0), True, utc(2026, 7, 1, 18, 0)),
    (EVENINGS, utc(2026, 7, 1, 17, 59), False, utc(2026, 7, 1, 18, 0)),
    (EVENINGS, utc(2026, 7, 1, 21, 30), False, utc(2026, 7, 2, 18, 0)),
    # a denied period wins over an allowed slot, and the next opening is the first slot after it
    (FREEZE, utc(2026, 12, 21, 19, 30), False, utc(2027, 1, 4, 19, 0)),
    (FREEZE, utc(2026, 12, 18, 19, 30), True, utc(2026, 12, 18, 19, 30)),
    # a slot past midnight belongs to the day it starts on
    (NIGHTS, utc(2026, 11, 29, 2, 59), True, utc(2026, 11, 29, 2, 59)),  # Sunday 03:59 local
    (NIGHTS, utc(2026, 11, 29, 3, 0), False, utc(2026, 12, 5, 21, 0)),
    # spring forward (2026-03-29, 02:00 -> 03:00): 02:30 never shows; the slot opens when the clock jumps
    (GAP, utc(2026, 3, 28, 12, 0), False, utc(2026, 3, 29, 1, 0)),
    (GAP, utc(2026, 3, 29, 1, 29), True, utc(2026, 3, 29, 1, 29)),
    (GAP, utc(2026, 3, 29, 1, 30), False, utc(2026, 4, 5, 0, 30)),  # a week later: 02:30 CEST
    # overnight slot across the jump: 22:00 CET to 04:00 CEST is 5 real hours
    (NIGHTS, utc(2026, 3, 28, 21, 0), True, utc(2026, 3, 28, 21, 0)),
    (NIGHTS, utc(2026, 3, 29, 1, 59), True, utc(2026, 3, 29, 1, 59)),
    (NIGHTS, utc(2026, 3, 29, 2, 0), False, utc(2026, 4, 4, 20, 0)),
    # fall back (2026-10-25, 03:00 -> 02:00): 02:00-03:00 shows twice; the slot is both, 2 real hours
    (FOLD, utc(2026, 10, 24, 12, 0), False, utc(2026, 10, 25, 0, 0)),
    (FOLD, utc(2026, 10, 25, 1, 59), True, utc(2026, 10, 25, 1, 59)),
    (FOLD, utc(2026, 10, 25, 2, 0), False, utc(2026, 11, 1, 1, 0)),
    # no allowed slots: open except when denied, in the window's own timezone (UTC-5)
    (DENY_ONLY, utc(2026, 11, 26, 4, 59), True, utc(2026, 11, 26, 4, 59)),
    (DENY_ONLY, utc(2026, 11, 26, 5, 0), False, utc(2026, 11, 27, 5, 0)),
]


@pytest.mark.parametrize("spec, now, open_, opens", CASES)
def test_open_and_next_opening(spec, now, open_, opens):
    windows = Windows.model_validate(spec)
    assert is_open(windows, now) is open_
    assert next_opening(windows, now) == opens
    assert is_open(windows, opens), "the next opening is open"
    why = closed(windows, now)
    assert (why is None) is open_
    if why is not None:
        assert why.opens == opens


def test_the_closed_reason_names_the_denied_period():
    why = closed(Windows.model_validate(FREEZE), utc(2026, 12, 24, 19, 30))
    assert why is not None and why.denied and why.reason == "denied period: year-end freeze"
    why = closed(Windows.model_validate(FREEZE), utc(2026, 12, 19, 10, 0))
    assert why is not None and not why.denied and why.reason == "outside the allowed slots"


def test_overlapping_denied_periods_open_after_the_last():
    windows = Windows.model_validate(
        {
            "timezone": "UTC",
            "deny": [
                {"from": "2026-12-01T00:00", "to": "2026-12-10T00:00", "reason": "a"},
                {"from": "2026-12-09T00:00", "to": "2026-12-12T00:00", "reason": "b"},
            ],
        }
    )
    assert next_opening(windows, utc(2026, 12, 2)) == utc(2026, 12, 12)


def test_denied_periods_with_an_offset_are_taken_as_written():
    windows = Windows.model_validate(
        {
            "timezone": "Asia/Tokyo",
            "deny": [{"from": "2026-12-01T00:00+00:00", "to": "2026-12-02T00:00+00:00", "reason": "utc day"}],
        }
    )
    assert not is_open(windows, utc(2026, 12, 1, 23, 59)) and is_open(windows, utc(2026, 12, 2, 0, 0))


# -- the timezone: an IANA region name, the same on every host (issue 29, item 9) -----------------------------
def _plan(timezone: str, **extra) -> dict:
    return {
        "release": "r1",
        "model": "single-step",
        "workloads": [{"name": "w1", "assets": ["a"]}],
        "windows": {"timezone": timezone},
        **extra,
    }


@pytest.mark.parametrize(
    "zone",
    [
        "localtime",  # the host's own zone: a different time on every machine
        "Factory",
        "posixrules",
        "posix/Europe/Amsterdam",
        "right/UTC",
        "UTC0",
        "US/Eastern",  # old aliases, kept by tz for compatibility only
        "EST5EDT",
        "GMT",
        "Japan",
        "europe/amsterdam",  # found on a case-insensitive file system only
        "Mars/Olympus_Mons",
    ],
)
def test_a_timezone_must_be_an_iana_region_name(zone):
    from shared.domain.errors import PlanError
    from shared.domain.plan import validate_plan

    with pytest.raises(PlanError) as info:
        validate_plan(_plan(zone))
    found = [(path, reason) for path, reason in info.value.problems if path == "windows.timezone"]
    assert len(found) == 1 and f"{zone!r} is not an IANA" in found[0][1], info.value.problems


def test_a_host_dependent_timezone_is_named_beside_the_plan_s_other_problems():
    from shared.domain.errors import PlanError
    from shared.domain.plan import validate_plan

    with pytest.raises(PlanError) as info:
        validate_plan(_plan("localtime", release="Bad_Name"))
    assert {path for path, _ in info.value.problems} == {"release", "windows.timezone"}


@pytest.mark.parametrize(
    "zone",
    [
        "Europe/Amsterdam",
        "America/Argentina/Buenos_Aires",
        "America/Indiana/Indianapolis",
        "Etc/UTC",
        "Etc/GMT-2",
        "UTC",
    ],
)
def test_iana_region_names_are_accepted(zone):
    from shared.domain.plan import validate_plan

    assert validate_plan(_plan(zone)).windows.timezone == zone


def test_a_release_stored_with_an_old_alias_still_reads():
    from shared.domain.plan import Plan, validate_plan

    stored = (
        validate_plan(_plan("Europe/Amsterdam"))
        .model_dump_json(by_alias=True)
        .replace("Europe/Amsterdam", "US/Eastern")
    )
    assert Plan.model_validate_json(stored).windows.timezone == "US/Eastern"
