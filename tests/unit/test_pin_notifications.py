"""The notification deliverer's decisions written out in full (issue 21): what each round records for a row
(sent, status, attempts, next attempt, the per-target error text), which targets it tries, the back-off, the
URLs it accepts, and `promote notifications` as JSON and as text. An outbox and notifiers of the test's own
(the ports), a clock the test sets."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field, replace
from datetime import timedelta

import pytest

from shared.adapters.notifiers import Refused
from shared.application.notifications import (
    DeliveryRound,
    NotificationDeliverer,
    backoff_seconds,
    errors_text,
    notifications_json,
    notifications_text,
    refused_targets,
    target_errors,
)
from shared.application.ports import OutboxItem
from shared.domain.errors import ConflictError, DeliveryError
from tests.fakes import T0, FakeClock


def notice(kind: str = "promoted", workload: str | None = "web", n: int = 1) -> dict:
    return {
        "id": f"ntf-{n}",
        "kind": kind,
        "release": "wave-1",
        "workload": workload,
        "at": "2026-11-26T21:00:00Z",
        "event_id": f"m-{n}",
        "state": kind,
        "traffic_percent": 100,
        "flight": None,
        "reason": f"reason {n}",
        "actor": None,
        "actor_reason": None,
    }


HOOK = {"kind": "webhook", "url_setting": "HOOK", "on": ["promoted", "rolled-back"]}
TEAMS = {"kind": "teams", "url_setting": "TEAMS", "on": ["promoted"]}
SETTINGS = {"HOOK": "https://hooks.example.com/a", "TEAMS": "https://teams.example.com/b"}


def item(**changes) -> OutboxItem:
    base = OutboxItem(
        release="wave-1",
        key="0001795730400000.abc",
        status="pending",
        notices=[notice()],
        targets=[HOOK, TEAMS],
        sent=frozenset(),
        attempts=0,
        next_attempt=T0,
        last_error=None,
        version="etag-1",
    )
    return replace(base, **changes)


@dataclass
class Outbox:
    items: list[OutboxItem] = field(default_factory=list)
    asked: list[tuple] = field(default_factory=list)
    recorded: list[dict] = field(default_factory=list)
    conflict: bool = False

    def due(self, now, limit):
        self.asked.append((now, limit))
        return [i for i in self.items if i.next_attempt <= now][:limit]

    def record(self, item, **kwargs):
        if self.conflict:
            raise ConflictError("changed by another deliverer")
        self.recorded.append({"key": item.key, **kwargs})


class Notifier:
    """Records each send; raises what `fails` says for a URL (one error, or a list taken in turn)."""

    def __init__(self, fails: dict | None = None, delay: float = 0.0):
        self.fails, self.delay, self.sent = fails or {}, delay, []

    def send(self, url, notice, *, target):
        time.sleep(self.delay)
        self.sent.append((url, notice["id"], target["url_setting"]))
        fail = self.fails.get(url)
        if isinstance(fail, list):
            fail = fail.pop(0) if fail else None
        if fail:
            raise fail


def deliverer(outbox, notifier=None, settings=None, clock=None, **kwargs):
    notifier = notifier or Notifier()
    return NotificationDeliverer(
        outbox,
        {"webhook": notifier, "teams": notifier},
        (SETTINGS if settings is None else settings).get,
        clock or FakeClock(),
        backoff=lambda attempts: 10.0 * attempts,
        **kwargs,
    )


# ---- rounds ------------------------------------------------------------------------------------------------


def test_every_target_accepts_the_row_is_sent():
    outbox, notifier = Outbox([item()]), Notifier()
    round_ = deliverer(outbox, notifier).deliver_due()
    assert round_ == DeliveryRound(delivered=2, failed_attempts=0, rows_done=1, rows_given_up=0, errors=[])
    assert notifier.sent == [
        ("https://hooks.example.com/a", "ntf-1", "HOOK"),
        ("https://teams.example.com/b", "ntf-1", "TEAMS"),
    ]
    assert outbox.recorded == [
        {
            "key": "0001795730400000.abc",
            "sent": frozenset({"ntf-1@0", "ntf-1@1"}),
            "status": "sent",
            "attempts": 1,
            "next_attempt": T0,
            "last_error": None,
        }
    ]


def test_a_failing_target_leaves_the_row_pending_until_its_back_off_and_keeps_each_targets_error():
    fails = {"https://teams.example.com/b": DeliveryError("teams (TEAMS): the receiver answered HTTP 503")}
    outbox = Outbox([item(notices=[notice(n=1), notice(n=2)], attempts=2)])
    round_ = deliverer(outbox, Notifier(fails)).deliver_due()
    assert round_ == DeliveryRound(
        delivered=2,
        failed_attempts=2,
        rows_done=0,
        rows_given_up=0,
        errors=["teams (TEAMS): the receiver answered HTTP 503"] * 2,
    )
    assert outbox.recorded == [
        {
            "key": "0001795730400000.abc",
            "sent": frozenset({"ntf-1@0", "ntf-2@0"}),
            "status": "pending",
            "attempts": 3,
            "next_attempt": T0 + timedelta(seconds=30),  # the back-off of the third attempt
            "last_error": "#1 teams (TEAMS): the receiver answered HTTP 503",
        }
    ]


def test_the_first_error_of_a_target_in_a_round_is_the_one_kept():
    fails = {"https://hooks.example.com/a": [DeliveryError("first"), DeliveryError("second")]}
    outbox = Outbox([item(notices=[notice(n=1), notice(n=2)], targets=[HOOK])])
    deliverer(outbox, Notifier(fails)).deliver_due()
    assert outbox.recorded[0]["last_error"] == "#0 first"


def test_already_sent_deliveries_are_not_sent_again():
    outbox, notifier = Outbox([item(sent=frozenset({"ntf-1@0"}), attempts=4)]), Notifier()
    round_ = deliverer(outbox, notifier).deliver_due()
    assert notifier.sent == [("https://teams.example.com/b", "ntf-1", "TEAMS")]
    assert (round_.delivered, round_.rows_done) == (1, 1)
    assert outbox.recorded[0]["sent"] == frozenset({"ntf-1@0", "ntf-1@1"})
    assert outbox.recorded[0]["attempts"] == 5


@pytest.mark.parametrize("status", [400, 401, 403, 404])
def test_a_refusal_for_good_fails_that_target_at_once_and_the_others_still_go(status):
    refusal = Refused(f"teams (TEAMS): the receiver answered HTTP {status}", status)
    notifier = Notifier({"https://teams.example.com/b": refusal})
    outbox = Outbox([item(notices=[notice(n=1), notice(n=2)])])
    round_ = deliverer(outbox, notifier).deliver_due()
    # its other notice is not tried: the answer would be the same
    assert [s[1:] for s in notifier.sent] == [("ntf-1", "HOOK"), ("ntf-1", "TEAMS"), ("ntf-2", "HOOK")]
    assert round_ == DeliveryRound(
        delivered=2,
        failed_attempts=1,
        rows_done=0,
        rows_given_up=1,
        errors=[f"teams (TEAMS): the receiver answered HTTP {status}"],
    )
    assert outbox.recorded == [
        {
            "key": "0001795730400000.abc",
            "sent": frozenset({"ntf-1@0", "ntf-2@0"}),
            "status": "failed",
            "attempts": 1,
            "next_attempt": T0,
            "last_error": f"#1! teams (TEAMS): the receiver answered HTTP {status} (refused: not retried)",
        }
    ]


@pytest.mark.parametrize("status", [402, 405, 408, 409, 429, 500, 503])
def test_any_other_refusal_is_retried(status):
    refusal = Refused(f"teams (TEAMS): the receiver answered HTTP {status}", status)
    outbox = Outbox([item()])
    deliverer(outbox, Notifier({"https://teams.example.com/b": refusal})).deliver_due()
    assert (outbox.recorded[0]["status"], outbox.recorded[0]["last_error"]) == (
        "pending",
        f"#1 teams (TEAMS): the receiver answered HTTP {status}",
    )


def test_a_target_refused_in_an_earlier_round_is_not_tried_again_and_its_reason_is_kept():
    earlier = "#0 webhook (HOOK): the receiver answered HTTP 503\n#1! teams (TEAMS): HTTP 403 (refused: not retried)"
    outbox, notifier = Outbox([item(attempts=3, last_error=earlier)]), Notifier()
    round_ = deliverer(outbox, notifier).deliver_due()
    assert notifier.sent == [("https://hooks.example.com/a", "ntf-1", "HOOK")]
    assert (round_.delivered, round_.rows_given_up, round_.rows_done) == (1, 1, 0)
    assert outbox.recorded == [
        {
            "key": "0001795730400000.abc",
            "sent": frozenset({"ntf-1@0"}),
            "status": "failed",  # nothing left to try, and a target refused
            "attempts": 4,
            "next_attempt": T0,
            "last_error": "#1! teams (TEAMS): HTTP 403 (refused: not retried)",  # the webhook's 503 is over
        }
    ]


def test_a_row_gives_up_at_its_last_attempt_not_before():
    fails = {"https://teams.example.com/b": DeliveryError("down")}
    outbox = Outbox([item(attempts=3)])
    deliverer(outbox, Notifier(dict(fails)), max_attempts=5).deliver_due()
    assert (outbox.recorded[-1]["status"], outbox.recorded[-1]["attempts"]) == ("pending", 4)
    outbox = Outbox([item(attempts=4)])
    round_ = deliverer(outbox, Notifier(dict(fails)), max_attempts=5).deliver_due()
    assert outbox.recorded[-1] == {
        "key": "0001795730400000.abc",
        "sent": frozenset({"ntf-1@0"}),
        "status": "failed",
        "attempts": 5,
        "next_attempt": T0,
        "last_error": "#1 down",
    }
    assert (round_.rows_given_up, round_.rows_done) == (1, 0)


def test_sixty_attempts_by_default():
    fails = {"https://teams.example.com/b": DeliveryError("down")}
    outbox = Outbox([item(attempts=58), item(key="k2", attempts=59)])
    NotificationDeliverer(
        outbox, {"webhook": Notifier(), "teams": Notifier(fails)}, SETTINGS.get, FakeClock()
    ).deliver_due()
    assert [(r["key"], r["status"], r["attempts"]) for r in outbox.recorded] == [
        ("0001795730400000.abc", "pending", 59),
        ("k2", "failed", 60),
    ]


def test_the_default_back_off_schedules_the_next_attempt():
    outbox = Outbox([item(attempts=3)])
    fails = {"https://teams.example.com/b": DeliveryError("down")}
    NotificationDeliverer(
        outbox, {"webhook": Notifier(), "teams": Notifier(fails)}, SETTINGS.get, FakeClock()
    ).deliver_due()
    wait = (outbox.recorded[0]["next_attempt"] - T0).total_seconds()
    assert 16.0 <= wait <= 20.0  # the fourth attempt: 2 s * 2**3, and up to 25% more


def test_a_row_another_deliverer_changed_is_left_to_it():
    outbox = Outbox([item(), item(key="k2")], conflict=True)
    round_ = deliverer(outbox).deliver_due()
    assert (round_.delivered, round_.rows_done) == (4, 2)  # both rows were delivered; neither recorded here


def test_only_due_rows_up_to_the_limit():
    clock = FakeClock()
    outbox = Outbox([item(key="a"), item(key="b", next_attempt=T0 + timedelta(seconds=1)), item(key="c")])
    round_ = deliverer(outbox, clock=clock).deliver_due(limit=5)
    assert outbox.asked == [(T0, 5)]
    assert [r["key"] for r in outbox.recorded] == ["a", "c"] and round_.rows_done == 2
    outbox = Outbox([item(key="a"), item(key="c")])
    deliverer(outbox, clock=clock).deliver_due()
    assert outbox.asked == [(T0, 50)]


class Slow(Notifier):
    """Takes `seconds[notice id]` to send a notice."""

    def __init__(self, seconds: dict[str, float]):
        super().__init__()
        self.seconds = seconds

    def send(self, url, notice, *, target):
        time.sleep(self.seconds.get(notice["id"], 0.0))
        super().send(url, notice, target=target)


def test_no_new_row_once_the_budget_is_spent():
    rows = [item(key=k, notices=[notice(n=n)], targets=[HOOK]) for n, k in enumerate("abc", start=1)]
    outbox = Outbox(list(rows))
    round_ = deliverer(outbox, Slow({"ntf-2": 0.8})).deliver_due(budget_seconds=0.5)
    assert [r["key"] for r in outbox.recorded] == ["a", "b"]
    assert (round_.delivered, round_.rows_done) == (
        2,
        2,
    )  # what was done before the budget ran out  # b began within the budget, c would begin after it
    outbox = Outbox(list(rows))
    deliverer(outbox, Slow({"ntf-2": 0.8})).deliver_due(budget_seconds=None)
    assert [r["key"] for r in outbox.recorded] == ["a", "b", "c"]
    outbox = Outbox(list(rows))
    deliverer(outbox, Slow({})).deliver_due(budget_seconds=0.5)
    assert [r["key"] for r in outbox.recorded] == ["a", "b", "c"]


# ---- a target's URL ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "settings, error",
    [
        ({"HOOK": ""}, "webhook: setting HOOK is not set"),
        ({}, "webhook: setting HOOK is not set"),
        (
            {"HOOK": "http://hooks.example.com/a"},
            "webhook: setting HOOK does not hold an https URL (plain http only to this machine)",
        ),
        (
            {"HOOK": "https:///path"},
            "webhook: setting HOOK does not hold an https URL (plain http only to this machine)",
        ),
        (
            {"HOOK": "ftp://127.0.0.1/a"},
            "webhook: setting HOOK does not hold an https URL (plain http only to this machine)",
        ),
        ({"HOOK": "http://[::1"}, "webhook: setting HOOK does not hold an https URL (plain http only to this machine)"),
        (
            {"HOOK": "http://10.0.0.1/a"},
            "webhook: setting HOOK does not hold an https URL (plain http only to this machine)",
        ),
    ],
)
def test_a_setting_without_a_usable_url_is_an_error_naming_the_setting(settings, error):
    outbox, notifier = Outbox([item(targets=[HOOK])]), Notifier()
    round_ = deliverer(outbox, notifier, settings=settings).deliver_due()
    assert notifier.sent == [] and round_.errors == [error]
    assert outbox.recorded[0]["last_error"] == f"#0 {error}"


@pytest.mark.parametrize(
    "url",
    ["https://hooks.example.com/a", "http://127.0.0.1:7071/x", "http://localhost/x", "http://[::1]:8080/x"],
)
def test_https_anywhere_and_plain_http_only_to_this_machine(url):
    outbox, notifier = Outbox([item(targets=[HOOK])]), Notifier()
    deliverer(outbox, notifier, settings={"HOOK": url}).deliver_due()
    assert notifier.sent == [(url, "ntf-1", "HOOK")]


def test_a_target_kind_without_a_notifier():
    target = {"kind": "pager", "url_setting": "HOOK", "on": ["promoted"]}
    outbox = Outbox([item(targets=[target])])
    round_ = deliverer(outbox).deliver_due()
    assert round_.errors == ["no notifier for kind 'pager'"]


# ---- back-off ----------------------------------------------------------------------------------------------


class Fixed(random.Random):
    def __init__(self, value: float):
        super().__init__()
        self.value = value

    def random(self) -> float:
        return self.value


@pytest.mark.parametrize(
    "attempts, seconds", [(0, 2.0), (1, 2.0), (2, 4.0), (3, 8.0), (8, 256.0), (9, 300.0), (40, 300.0)]
)
def test_back_off_doubles_from_two_seconds_up_to_five_minutes(attempts, seconds):
    assert backoff_seconds(attempts, rng=Fixed(0.0)) == seconds
    assert backoff_seconds(attempts, rng=Fixed(1.0)) == seconds * 1.25  # at most 25% jitter


def test_back_off_with_its_own_base_and_cap():
    assert backoff_seconds(3, base=1.0, cap=5.0, rng=Fixed(0.5)) == 4.0 * 1.125
    assert backoff_seconds(4, base=1.0, cap=5.0, rng=Fixed(0.0)) == 5.0
    assert 2.0 <= backoff_seconds(1) <= 2.5  # the module's own random numbers without one


# ---- the per-target error text -----------------------------------------------------------------------------


def test_errors_text_one_line_per_target_in_order_refused_ones_marked():
    text = errors_text({2: "slow\n  answer", 0: "HTTP 503"}, {2})
    assert text == "#0 HTTP 503\n#2! slow answer"
    assert target_errors(text) == {0: "HTTP 503", 2: "slow answer"}
    assert refused_targets(text) == {2}


def test_errors_text_shares_the_room_between_the_targets():
    one = errors_text({0: "x" * 600})
    assert one == "#0 " + "x" * 495  # 500 characters, less the room of the line's mark
    two = errors_text({0: "a" * 600, 1: "b" * 600})
    assert two == "#0 " + "a" * 245 + "\n#1 " + "b" * 245
    assert len(errors_text({i: "e" * 600 for i in range(4)}, {0, 1, 2, 3})) <= 500


@pytest.mark.parametrize("text", [None, "", "connection refused", "#0 ok\nno mark here", "#x bad"])
def test_an_error_for_the_whole_row_is_no_per_target_text(text):
    assert target_errors(text) is None
    assert refused_targets(text) == set()


def test_targets_errors_read_back():
    assert target_errors("#0 a b\n#11! c") == {0: "a b", 11: "c"}
    assert refused_targets("#0 a b\n#11! c\n#3! d") == {11, 3}


# ---- promote notifications ---------------------------------------------------------------------------------


def listing_items() -> list[OutboxItem]:
    rolled = notice("rolled-back", None, n=2)
    return [
        item(sent=frozenset({"ntf-1@0"}), attempts=2, next_attempt=T0 + timedelta(seconds=8), last_error="#1 HTTP 503"),
        item(
            key="k2",
            notices=[rolled],
            status="failed",
            attempts=60,
            last_error="connection refused",  # written before errors were kept per target
        ),
        item(
            key="k3",
            notices=[notice(n=3)],
            attempts=1,
            last_error="#1! HTTP 403 (refused: not retried)",
        ),
    ]


EXPECTED = [
    {
        "id": "ntf-1",
        "kind": "promoted",
        "release": "wave-1",
        "workload": "web",
        "at": "2026-11-26T21:00:00Z",
        "target": "webhook",
        "url_setting": "HOOK",
        "status": "sent",
        "attempts": 2,
        "next_attempt": None,
        "last_error": None,
        "reason": "reason 1",
    },
    {
        "id": "ntf-1",
        "kind": "promoted",
        "release": "wave-1",
        "workload": "web",
        "at": "2026-11-26T21:00:00Z",
        "target": "teams",
        "url_setting": "TEAMS",
        "status": "pending",
        "attempts": 2,
        "next_attempt": "2026-11-26T22:00:08Z",
        "last_error": "HTTP 503",
        "reason": "reason 1",
    },
    {
        "id": "ntf-2",
        "kind": "rolled-back",
        "release": "wave-1",
        "workload": None,
        "at": "2026-11-26T21:00:00Z",
        "target": "webhook",
        "url_setting": "HOOK",
        "status": "failed",
        "attempts": 60,
        "next_attempt": None,
        "last_error": "connection refused",
        "reason": "reason 2",
    },
    {
        "id": "ntf-3",
        "kind": "promoted",
        "release": "wave-1",
        "workload": "web",
        "at": "2026-11-26T21:00:00Z",
        "target": "webhook",
        "url_setting": "HOOK",
        "status": "pending",
        "attempts": 1,
        "next_attempt": "2026-11-26T22:00:00Z",
        "last_error": None,
        "reason": "reason 3",
    },
    {
        "id": "ntf-3",
        "kind": "promoted",
        "release": "wave-1",
        "workload": "web",
        "at": "2026-11-26T21:00:00Z",
        "target": "teams",
        "url_setting": "TEAMS",
        "status": "failed",
        "attempts": 1,
        "next_attempt": None,
        "last_error": "HTTP 403 (refused: not retried)",
        "reason": "reason 3",
    },
]


def test_notifications_json_one_line_per_notice_and_target():
    assert notifications_json(listing_items()) == EXPECTED


def test_notifications_text():
    assert notifications_text(EXPECTED) == (
        "AT                    KIND         WORKLOAD  TARGET          STATUS   ATTEMPTS  ID     LAST ERROR\n"
        "--------------------  -----------  --------  --------------  -------  --------  -----  "
        "-------------------------------\n"
        "2026-11-26T21:00:00Z  promoted     web       webhook (HOOK)  sent     2         ntf-1\n"
        "2026-11-26T21:00:00Z  promoted     web       teams (TEAMS)   pending  2         ntf-1  HTTP 503\n"
        "2026-11-26T21:00:00Z  rolled-back  -         webhook (HOOK)  failed   60        ntf-2  connection refused\n"
        "2026-11-26T21:00:00Z  promoted     web       webhook (HOOK)  pending  1         ntf-3\n"
        "2026-11-26T21:00:00Z  promoted     web       teams (TEAMS)   failed   1         ntf-3  "
        "HTTP 403 (refused: not retried)\n"
        "\n"
        "1 sent, 2 pending, 2 failed"
    )


def test_notifications_text_without_rows():
    assert notifications_text([]) == (
        "AT  KIND  WORKLOAD  TARGET  STATUS  ATTEMPTS  ID  LAST ERROR\n"
        "--  ----  --------  ------  ------  --------  --  ----------\n"
        "\n"
        "0 sent, 0 pending, 0 failed"
    )


def test_a_delivered_target_shows_no_error_even_under_a_whole_row_error():
    row = item(sent=frozenset({"ntf-1@0"}), attempts=3, last_error="connection refused")  # an older row's text
    assert [(r["target"], r["status"], r["last_error"]) for r in notifications_json([row])] == [
        ("webhook", "sent", None),
        ("teams", "pending", "connection refused"),
    ]


def test_every_row_given_up_in_a_round_is_counted():
    fails = {"https://teams.example.com/b": DeliveryError("down")}
    outbox = Outbox([item(key="a", attempts=59), item(key="b", attempts=59), item(key="c")])
    round_ = deliverer(outbox, Notifier(fails)).deliver_due()
    assert (round_.rows_given_up, round_.rows_done, round_.failed_attempts) == (2, 0, 3)
