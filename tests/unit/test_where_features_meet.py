"""Where features meet: an unauthorised override and the id a real message will carry, a release-wide
finalize and its notice, a receiver that answers garbage."""

from __future__ import annotations

import socket
import threading

import pytest

from shared.adapters.notifiers import DeliveryError, WebhookNotifier
from tests.unit.test_machine import Driver, make_plan


def test_an_unauthorized_override_does_not_use_up_the_id_a_real_message_will_carry():
    d = Driver(make_plan("single-step"))
    refused = d.override("pause", actor="mallory@evil.example", id="judge:r1:w1:0:1:0:1")
    assert refused.outcome == "rejected"
    # the same id on a real message later: it counts (it is not a duplicate of the refused one)
    assert d.send("asset-replicated", asset="a", id="judge:r1:w1:0:1:0:1").outcome == "applied"


def test_a_finalize_that_applied_release_wide_is_not_announced_as_rejected():
    from shared.domain.notices import notices_for

    d = Driver(
        make_plan(
            "single-step",
            workloads=[{"name": "w1", "assets": ["a"]}, {"name": "w2", "assets": ["b"]}],
            notify=[{"kind": "webhook", "url_setting": "HOOK"}],
        )
    )
    d.send("asset-replicated", "w1", asset="a")
    d.send("tests-passed", "w1")
    assert d.override("abort", workload="w2").outcome == "applied"
    before = d.w.store.get_release("r1").release
    from shared.domain.machine import decide
    from shared.domain.messages import parse_message
    from tests.fakes import event

    decision = decide(
        before,
        parse_message(event("override", "r1", None, "fin", action="finalize", actor="ana@contoso.com", reason="done")),
        d.w.clock.now(),
    )
    assert decision.outcome == "applied"
    assert "override-rejected" not in {n.kind for n in notices_for(before, decision)}


def test_a_receiver_that_answers_garbage_is_a_failed_delivery_not_a_crash():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)

    def answer() -> None:
        conn, _ = server.accept()
        conn.recv(65536)
        conn.sendall(b"garbage\r\n\r\n")
        conn.close()

    threading.Thread(target=answer, daemon=True).start()
    url = f"http://127.0.0.1:{server.getsockname()[1]}/hook"
    with pytest.raises(DeliveryError) as caught:
        WebhookNotifier().send(
            url,
            {"id": "ntf-1", "kind": "promoted", "release": "r1", "at": "2026-11-27T00:00:00Z"},
            target={"kind": "webhook", "url_setting": "HOOK"},
        )
    assert url not in str(caught.value)  # a receiver's URL never appears in an error
    server.close()
