"""`promote override` on Azure (contract §18, §19): the endpoint answers 202 once the override is queued; the
command says so and where its outcome will appear, and with --wait waits for the recorded outcome (exit 1 when
rejected or not recorded in time)."""

from __future__ import annotations

from shared.domain.model import Outcome
from shared.local.messages_cli import _waited, report_override_reply
from shared.local.outcome import Recorded
from shared.local.override_client import EndpointReply


def test_a_202_says_the_override_is_queued_and_where_its_outcome_appears(capsys):
    doc = {"id": "ov-1", "release": "wave-1", "status_url": "https://app/api/releases/wave-1"}
    assert report_override_reply(EndpointReply(202, doc), "ov-1") == 0
    out = capsys.readouterr().out
    assert "queued override wave-1 id=ov-1 through the override endpoint" in out
    assert "its outcome will appear at https://app/api/releases/wave-1" in out


class Watch:
    def __init__(self, found: list[Recorded]):
        self.found, self.waited = found, None

    def wait(self, timeout: float) -> list[Recorded]:
        self.waited = timeout
        return self.found


def test_wait_exits_1_when_the_outcome_is_rejected_or_not_recorded_in_time(capsys):
    rejected = Recorded("web", "override", Outcome.REJECTED, "ops@contoso.com may not approve")
    applied = Recorded("web", "override", Outcome.APPLIED, "paused at 10%")
    assert _waited(Watch([applied]), 5, "wave-1", "the function app") == 0
    assert "override wave-1/web: applied: paused at 10%" in capsys.readouterr().out
    assert _waited(Watch([rejected]), 5, "wave-1", "the function app") == 1
    assert "outcome: rejected" in capsys.readouterr().out
    assert _waited(Watch([]), 5, "wave-1", "the function app") == 1
    assert "no outcome within 5s" in capsys.readouterr().err
