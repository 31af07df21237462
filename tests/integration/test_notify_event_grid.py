"""Event Grid notifications with the app's Microsoft Entra identity (issue 26): one credential per process, tokens
for the configured cloud's Event Grid audience (a topic of another cloud refuses them, 401), and the CloudEvent
`time` is when the notice happened, not when it was sent. Through the real SDK, outbox on Azurite and a topic
stand-in that reads the token (tests/receivers.py, tests/tokens.py)."""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime, timedelta

import pytest

from shared.adapters.notifiers import notifiers
from shared.application.bootstrap import Stack
from shared.application.config import CLOUDS, Settings
from shared.application.notifications import NotificationDeliverer, notifications_json
from shared.domain.plan import validate_plan
from tests.fakes import FakeClock, event
from tests.receivers import Receiver
from tests.routing.conftest import ArmSettings, arm_tls  # noqa: F401  (the stand-ins' certificate, re-used)
from tests.tokens import AUDIENCES, TokenCredential

APPROVER = "ana@contoso.com"


@pytest.fixture
def topic(arm_tls, monkeypatch):  # noqa: F811
    """The topic on HTTPS (the SDK sends a bearer token over nothing else), its certificate trusted meanwhile."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(arm_tls[0]))
    r = Receiver(tls=arm_tls).up()
    yield r
    r.down()


def named(release: str, what: str) -> str:
    """A setting name of this test's own: rows other tests leave due never reach its topic."""
    return f"{release.upper().replace('-', '_')}_{what}"


def apply(stack: Stack, release: str, setting: str) -> None:
    stack.service.apply(
        validate_plan(
            {
                "release": release,
                "model": "flight",
                "approvers": [APPROVER],
                "flights": [{"percent": 100}],  # flight-started, then promoted
                "notify": [{"kind": "event-grid", "url_setting": setting}],
                "workloads": [{"name": "web", "assets": ["vm-1"]}],
            }
        )
    )


def promote(stack: Stack, release: str, clock: FakeClock) -> None:
    for i, (type_, data) in enumerate(
        [("asset-replicated", {"asset": "vm-1"}), ("tests-passed", {}), ("flight-healthy", {"flight": 1})]
    ):
        clock.advance(60)  # each notice happens at its own time
        assert stack.service.handle(event(type_, release, "web", f"{release}-{i}", **data)).outcome == "applied"


class Factory:
    """Makes a credential, as DefaultAzureCredential() does, and counts how often it was asked to."""

    def __init__(self):
        self.made: list[TokenCredential] = []

    def __call__(self) -> TokenCredential:
        self.made.append(TokenCredential(oid="promote-app"))
        return self.made[-1]


@pytest.mark.parametrize("cloud", ["AzureCloud", "AzureUSGovernment", "AzureChinaCloud"])
def test_one_credential_asks_for_the_clouds_audience_and_the_topic_takes_it(settings, topic, release_name, cloud):
    clock = FakeClock()
    stack = Stack(settings, clock=clock)
    grid = named(release_name, "GRID")
    apply(stack, release_name, grid)
    topic.event_grid_audience = AUDIENCES[cloud]["event-grid"]
    topic.senders = {"promote-app"}  # EventGrid Data Sender on the topic
    make = Factory()
    urls = {grid: topic.url("event-grid")}
    found = notifiers(urls.get, credential=make, event_grid_audience=CLOUDS[cloud].event_grid_audience)
    send = NotificationDeliverer(stack.outbox, found, urls.get, clock)
    stack.service.handle(event("asset-replicated", release_name, "web", "a", asset="vm-1"))
    stack.service.handle(event("tests-passed", release_name, "web", "t"))  # flight-started
    send.deliver_due()
    stack.service.handle(event("flight-healthy", release_name, "web", "h", flight=1))  # promoted
    send.deliver_due()
    rows = notifications_json(stack.outbox.list_release(release_name))
    assert sorted((r["kind"], r["status"]) for r in rows) == [("flight-started", "sent"), ("promoted", "sent")]
    assert len(make.made) == 1, "one credential for every send"
    [credential] = make.made
    assert credential.issued == 1  # its token is reused, as azure-identity's credentials cache theirs
    assert {s for (s,) in credential.scopes} == {f"{AUDIENCES[cloud]['event-grid']}/.default"}
    assert topic.principals == ["promote-app", "promote-app"] and topic.refused == []


def test_a_token_for_another_clouds_event_grid_is_refused_and_not_retried(settings, topic, release_name):
    clock = FakeClock()
    stack = Stack(settings, clock=clock)
    grid = named(release_name, "GRID")
    apply(stack, release_name, grid)
    topic.event_grid_audience = AUDIENCES["AzureUSGovernment"]["event-grid"]
    urls = {grid: topic.url("event-grid")}
    send = NotificationDeliverer(stack.outbox, notifiers(urls.get, credential=Factory()), urls.get, clock)
    promote(stack, release_name, clock)
    send.deliver_due()
    clock.advance(3600)
    send.deliver_due()
    rows = notifications_json(stack.outbox.list_release(release_name))
    assert {r["status"] for r in rows} == {"failed"}
    assert all("HTTP 401" in r["last_error"] and "this cloud's Event Grid" in r["last_error"] for r in rows)
    assert len(topic.refused) == len({r["id"] for r in rows}) == 2  # each row's one attempt, then no more
    assert all("not 'https://eventgrid.azure.us'" in r for r in topic.refused)


def test_an_identity_without_the_data_sender_role_is_refused(settings, topic, release_name):
    clock = FakeClock()
    stack = Stack(settings, clock=clock)
    grid = named(release_name, "GRID")
    apply(stack, release_name, grid)
    topic.senders = {"someone-else"}
    promote(stack, release_name, clock)
    urls = {grid: topic.url("event-grid")}
    NotificationDeliverer(stack.outbox, notifiers(urls.get, credential=Factory()), urls.get, clock).deliver_due()
    assert topic.refused and all("does not have EventGrid Data Sender" in r for r in topic.refused)
    rows = notifications_json(stack.outbox.list_release(release_name))
    assert rows and all(r["status"] == "failed" and "EventGrid Data Sender" in r["last_error"] for r in rows)


def test_the_cloud_event_time_is_when_the_notice_happened(settings, topic, release_name):
    clock = FakeClock()  # a fixed day, far from the real clock the SDK would stamp a send with
    stack = Stack(settings, clock=clock)
    grid = named(release_name, "GRID")
    apply(stack, release_name, grid)
    promote(stack, release_name, clock)
    urls = {grid: topic.url("event-grid")}
    clock.advance(3600)  # sent an hour later
    NotificationDeliverer(stack.outbox, notifiers(urls.get, credential=Factory()), urls.get, clock).deliver_due()
    rows = notifications_json(stack.outbox.list_release(release_name))
    sent = {r.body["id"]: datetime.fromisoformat(r.body["time"]) for r in topic.received}
    assert len(sent) == 2 and sent == {r["id"]: datetime.fromisoformat(r["at"]) for r in rows}
    assert all(abs(moment - clock.now()) >= timedelta(minutes=59) for moment in sent.values())


def test_the_stack_sends_with_the_processs_credential_and_the_clouds_audience(
    settings, topic, release_name, monkeypatch
):
    """What the function app builds: the settings' cloud (from PROMOTE_ARM_ENDPOINT) and the process's credential
    (here the settings' stand-in for DefaultAzureCredential)."""
    credential = TokenCredential(oid="promote-app")
    values = {f.name: getattr(settings, f.name) for f in fields(Settings)}
    gov = ArmSettings(**{**values, "cloud": CLOUDS["AzureUSGovernment"]}, arm_credential=credential)
    clock = FakeClock()
    stack = Stack(gov, clock=clock)
    grid = named(release_name, "GRID")
    monkeypatch.setenv(grid, topic.url("event-grid"))
    apply(stack, release_name, grid)
    topic.event_grid_audience = AUDIENCES["AzureUSGovernment"]["event-grid"]
    promote(stack, release_name, clock)
    stack.deliverer.deliver_due()
    stack.deliverer.deliver_due()  # a second round: the same credential, its token reused
    rows = notifications_json(stack.outbox.list_release(release_name))
    assert {r["status"] for r in rows} == {"sent"} and len(rows) == 2
    assert credential.issued == 1 and {s for (s,) in credential.scopes} == {"https://eventgrid.azure.us/.default"}
