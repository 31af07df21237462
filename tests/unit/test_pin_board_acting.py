"""Acting from the board's pages (board/acting.py, v3 §19) pinned: the confirmation page whole (what the action
would do now, the form and its token), a visitor who may not act, every reason a POST is turned away in its
words and status, the override a confirmed action queues and the 303 to its outcome, and the outcome page
while queued, once history recorded it, and from a release-wide action's marker."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from shared.application.board.actions import Visitor, form_token
from shared.domain.actors import Principal
from shared.domain.messages import dedup_key
from shared.domain.model import HistoryEntry
from tests.unit.test_pin_board_pages import app
from tests.unit.test_pin_status import NOW

KEY = "board-test-key"
ANA, EVE = Principal("ana@contoso.com"), Principal("eve@contoso.com")
SESSION = "s" * 24
FORM = "application/x-www-form-urlencoded"
SAME = {"Sec-Fetch-Site": "same-origin"}
URL = "http://localhost:7071/releases/wave-9/act"


@pytest.fixture(autouse=True)
def key(monkeypatch):
    monkeypatch.setenv("PROMOTE_OVERRIDE_KEY", KEY)  # the key that signs the forms (on Azure: the override key)


def main(page) -> list[str]:
    html = page.body.decode()
    return html[html.index("<main") : html.index("</main>")].split("\n")


def test_the_confirmation_says_what_the_action_would_do_now():
    page = app().handle("releases/wave-9/act", {"action": ["pause"], "workload": ["api"]}, Visitor(ANA, SESSION))
    token = form_token(KEY.encode(), SESSION, ANA)
    assert page.status == 200 and "Set-Cookie" not in page.headers
    assert main(page) == [
        '<main id="main"  tabindex="-1">',
        "<h1>Pause api of release wave-9</h1>",
        '<form class="act" method="post" action="/releases/wave-9/act">',
        '  <p class="effect" id="effect"><strong>This pauses api at 10%: nothing advances until resume.</strong><br>',
        '  <span class="recorded">promote will decide it when it arrives and record the outcome; now it would '
        "record: paused at 10%</span></p>",
        f'  <input type="hidden" name="token" value="{token}">',
        '  <input type="hidden" name="action" value="pause">',
        '<input type="hidden" name="workload" value="api">  <p><label for="reason">Why (kept in history as the '
        "reason, at most 500 characters)</label><br>",
        '  <textarea id="reason" name="reason" rows="3" cols="70" maxlength="500" required autofocus',
        '    aria-describedby="effect"></textarea></p>',
        '  <p>Acting as <strong id="actor">ana@contoso.com</strong>.</p>',
        '  <p><button type="submit" id="confirm" class="confirm confirm-pause">Confirm: pause api</button>',
        '  <a href="/releases/wave-9">Cancel</a></p>',
        "</form>",
        "",
    ]


def test_a_new_visitor_gets_a_session_and_one_who_may_not_act_is_told_why():
    fresh = app().handle("releases/wave-9/act", {"action": ["pause"], "workload": ["api"]}, Visitor(ANA, None))
    assert re.fullmatch(
        r"promote_board_session=[A-Za-z0-9_-]{32}; Path=/; HttpOnly; SameSite=Strict", fresh.headers["Set-Cookie"]
    )
    stranger = app().handle("releases/wave-9/act", {"action": ["pause"]}, Visitor(EVE, SESSION))
    text = "\n".join(main(stranger))
    assert "<h1>Pause release wave-9</h1>" in text and 'id="confirm"' not in text
    looker = app().handle("releases/wave-9/act", {"action": ["pause"]}, None)
    assert 'id="confirm"' not in "\n".join(main(looker))


class Queue:
    def __init__(self, fail: bool = False):
        self.sent: list[dict] = []
        self.fail = fail

    def __call__(self, event: dict) -> None:
        if self.fail:
            raise ConnectionError("queue away")
        self.sent.append(event)


def post(body: str, *, visitor=None, headers=SAME, content_type=FORM, queue=None, sign=None):
    token = form_token(KEY.encode(), SESSION, ANA)
    board = app()
    page = board.post(
        "releases/wave-9/act", body.replace("TOKEN", token).encode(), content_type, visitor or Visitor(ANA, SESSION),
        headers, URL, queue if queue is not None else Queue(), sign,
    )  # fmt: skip
    return page


def alert(page) -> tuple[int, str]:
    return page.status, re.search(r'<p role="alert">(.*?)</p>', page.body.decode(), re.S).group(1)


def test_each_reason_a_confirmed_action_is_turned_away():
    assert alert(post("token=TOKEN&action=pause&reason=x", content_type="text/plain")) == (
        415,
        "a board action is a form (application/x-www-form-urlencoded)",
    )
    assert alert(post("token=TOKEN&action=pause&reason=x", headers={})) == (
        403,
        "cross-site request refused: a board action is sent by the board&#39;s own page (no Origin)",
    )
    assert alert(post("token=TOKEN&action=pause&reason=x", visitor=Visitor(None, SESSION, why_not="look only"))) == (
        403,
        "this board is read-only for you: look only",
    )
    assert alert(post("token=TOKEN&action=pause&workload=zz&reason=x")) == (
        404,
        "workload &#39;zz&#39; is not part of release wave-9",
    )
    assert alert(post("token=TOKEN&action=pause&reason=x", queue=Queue(fail=True))) == (
        503,
        "the action was not queued (ConnectionError): nothing changed; try again",
    )
    no_reason = post("token=TOKEN&action=pause&workload=api&reason=++")
    assert no_reason.status == 400
    assert (
        '<p role="alert" class="problem" id="problem">Give a reason: history keeps it.</p>' in no_reason.body.decode()
    )


def test_a_confirmed_action_queues_its_override_and_goes_to_its_outcome():
    queue = Queue()
    page = post("token=TOKEN&action=pause&workload=api&reason=DBA+on+leave", queue=queue)
    [event] = queue.sent
    assert (page.status, page.content_type, page.body) == (303, "text/plain; charset=utf-8", b"")
    assert page.headers["Location"] == f"/releases/wave-9/outcome/{event['id']}?workload=api"
    assert (event["source"], event["type"], event["data"]) == (
        "promote/board",
        "override",
        {"release": "wave-9", "workload": "api", "action": "pause", "actor": "ana@contoso.com",
         "reason": "DBA on leave"},
    )  # fmt: skip
    signed = Queue()
    page = post("token=TOKEN&action=halt&reason=incident", queue=signed, sign=lambda e, who: {**e, "proof": who.name})
    assert signed.sent[0]["proof"] == "ana@contoso.com" and "workload" not in signed.sent[0]["data"]
    assert page.headers["Location"] == f"/releases/wave-9/outcome/{signed.sent[0]['id']}"


def entry(workload, outcome, reason, event_id="ev-1", late=True):
    at = NOW - timedelta(minutes=1) if late else NOW
    return HistoryEntry(at, event_id, "override", outcome, reason, workload, "flighting", "flighting", 10,
                        actor="ana@contoso.com", actor_reason="why not")  # fmt: skip


def test_the_outcome_page_while_queued_and_once_recorded():
    board = app()
    queued = board.handle("releases/wave-9/outcome/ev-1", {"workload": ["api"]})
    assert main(queued)[1:4] == [
        "<h1>Queued</h1>",
        '<p id="outcome" data-outcome="queued" role="status">Your action (id <code>ev-1</code>) is queued: promote '
        "decides it",
        "in order with the release's other messages. This page shows the outcome once it is recorded (it checks "
        "every 2s).",
    ]
    board.reads.history["wave-9"].append(entry("api", "applied", "paused at 10%"))
    done = board.handle("releases/wave-9/outcome/ev-1", {"workload": ["api"]})
    assert main(done)[1:13] == [
        '<h1>Outcome: <span class="outcome outcome-applied">applied</span></h1>',
        '<p id="outcome" data-outcome="applied" role="status">api: applied: paused at 10%</p>',
        '<table class="history">',
        "  <caption>What history recorded for id ev-1</caption>",
        '  <thead><tr><th scope="col">At</th><th scope="col">Workload</th><th scope="col">Outcome</th><th '
        'scope="col">State</th><th scope="col">Share</th><th scope="col">Actor</th><th scope="col">Reason</th></tr>'
        "</thead>",
        "  <tbody>",
        '  <tr class="outcome-applied" data-outcome="applied"><td><time datetime="2026-03-02T11:59:00+00:00">'
        "2026-03-02 11:59:00Z</time></td>",
        "  <td>api</td><td>applied</td><td>flighting → flighting</td><td>10%</td>",
        '  <td>ana@contoso.com <q class="actor-reason">why not</q></td><td>paused at 10%</td></tr>',
        "  </tbody>",
        "</table>",
        '<p><a href="/releases/wave-9" id="back">Back to release wave-9</a></p>',
    ]


def test_a_release_wide_outcome_is_read_from_its_marker_and_the_strongest_outcome_leads():
    board = app()
    key = dedup_key(type("M", (), {"id": "ev-2", "type": "override", "source": "promote/board"})())
    board.store.outcomes[("wave-9", key)] = entry(None, "rejected", "not an operator", "ev-2")
    page = board.handle("releases/wave-9/outcome/ev-2", {})
    assert '<p id="outcome" data-outcome="rejected" role="status">wave-9: rejected: not an operator</p>' in (
        page.body.decode()
    )
    history = board.reads.history["wave-9"]
    history += [entry(None, "ignored", "already halted", "ev-3"), entry(None, "applied", "halted", "ev-3", late=False)]
    both = board.handle("releases/wave-9/outcome/ev-3", {})
    assert (
        '<p id="outcome" data-outcome="applied" role="status">wave-9: ignored: already halted<br>wave-9: applied: '
        in (both.body.decode())
    )
