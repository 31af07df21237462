"""`promote status` a page at a time (status_page.py, contract §14) pinned whole: the release's head, counts,
total, attention and holds from the summaries, the page's workloads exactly as the whole release's document
shows them, the page and the filter; the judge read only for a page with a flighting workload; each PageError's
words, the pages' bounds on both sides; the routing progress."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta

import pytest

from shared.application.status_page import PageError, page_count, status_page
from shared.domain.model import Release, Tally
from shared.domain.progress import RoutingProgress
from tests.unit.board_harness import summary
from tests.unit.test_pin_status import NOW, STAGED_JSON, flight_release, judged, staged_release


@dataclass
class Overview:
    """The release from its record and its shards' summaries (shared/adapters/table_store/pages.Overview): its
    state and tally are the shards' facts, which a summary's workloads may not have caught up with."""

    release: Release
    facts: tuple | None = None  # (state, ready unapproved) as the shards' facts say, when not the summaries'

    @property
    def tally(self) -> Tally:
        tally = Tally.of(self.release.workloads.values())
        return tally if self.facts is None else Tally(tally.states, self.facts[1])

    @property
    def state(self):
        return self.release.state if self.facts is None else self.facts[0]


class Reads:
    """The summaries (each workload's state, pause, share and flight) and the page's workloads in full."""

    def __init__(self, release: Release, facts: tuple | None = None):
        self.release, self.asked, self.facts = release, [], facts

    def overview(self, name: str) -> Overview:
        assert name == self.release.name
        return Overview(summary(self.release), self.facts)

    def workloads(self, overview: Overview, names: list[str]) -> Release:
        self.asked.append(names)
        return self.release.evolve(workloads={n: self.release.workloads[n] for n in names})


class Judge:
    def __init__(self, records: dict):
        self.records, self.loads = records, 0

    def load(self, name: str) -> dict:
        assert name in ("wave-7", "wave-9"), name
        self.loads += 1
        return self.records


class Progress:
    def __init__(self, found: RoutingProgress | None):
        self.found = found

    def read(self, release: str) -> RoutingProgress | None:
        assert release in ("wave-7", "wave-9"), release
        return self.found


def as_json(doc: dict) -> dict:
    return json.loads(json.dumps(doc))


def test_a_page_of_a_staged_release_is_the_whole_documents_part():
    reads = Reads(staged_release())
    doc = as_json(status_page(reads, Judge({}), "wave-7", NOW, page=2, size=2))
    head = {k: v for k, v in STAGED_JSON.items() if k not in ("workloads",)}
    # the attention list from the summaries, in full for the page's workloads: billing is not on the page, and
    # its summary does not say why Azure refused it
    why = "rolled back to 0% while the release is in-progress; override retry brings it back to testing"
    billing = {"workload": "billing", "state": "rolled-back", "traffic_percent": 0, "why": why}
    attention = [billing if a["workload"] == "billing" else a for a in STAGED_JSON["attention"]]
    assert doc == {
        **head,
        "attention": attention,
        "total": 6,
        "workloads": STAGED_JSON["workloads"][2:4],  # crm and ledger
        "page": {"number": 2, "pages": 3, "size": 2, "matching": 6},
        "filter": {},
    }
    assert list(doc) == [
        "release", "model", "state", "approval", "on_alert", "halted", "flights", "access_revoked",
        "access_revocation", "after", "counts", "total", "attention", "holds", "workloads", "page", "filter",
    ]  # fmt: skip
    assert reads.asked == [["crm", "ledger"]]


def test_the_pages_bounds_and_what_a_filter_matches():
    release = staged_release()
    last = status_page(Reads(release), Judge({}), "wave-7", NOW, page=3, size=2)
    assert [w["name"] for w in last["workloads"]] == ["billing", "sales"]
    one = status_page(Reads(release), Judge({}), "wave-7", NOW, state="promoted", size=1, page=2)
    assert [w["name"] for w in one["workloads"]] == ["sales"]
    assert (one["page"], one["filter"]) == ({"number": 2, "pages": 2, "size": 1, "matching": 2}, {"state": "promoted"})
    named = status_page(Reads(release), Judge({}), "wave-7", NOW, workload="hr", state="finalized")
    assert [w["name"] for w in named["workloads"]] == ["hr"]
    assert named["filter"] == {"state": "finalized", "workload": "hr"}
    reads = Reads(release)
    none = status_page(reads, Judge({}), "wave-7", NOW, state="aborted")
    assert (none["workloads"], none["page"]) == ([], {"number": 1, "pages": 1, "size": 100, "matching": 0})
    assert reads.asked == [] and len(none["attention"]) == 5  # the attention list is the release's, from summaries
    assert [page_count(n, 2) for n in (0, 1, 2, 3, 4)] == [1, 1, 1, 2, 2]


@pytest.mark.parametrize(
    ("asked", "words"),
    [
        ({"page": 0}, "page 0 of release wave-7: there are 1 page(s) of 100 (6 shown)"),
        ({"page": 4, "size": 2}, "page 4 of release wave-7: there are 3 page(s) of 2 (6 shown)"),
        ({"state": "aborted", "page": 2}, "page 2 of release wave-7: there are 1 page(s) of 100 (0 shown)"),
        ({"workload": "nope"}, "workload 'nope' is not part of release wave-7"),
    ],
)
def test_a_page_past_the_last_or_a_workload_it_lacks_is_a_usage_error(asked, words):
    with pytest.raises(PageError) as refused:
        status_page(Reads(staged_release()), Judge({}), "wave-7", NOW, **asked)
    assert str(refused.value) == words


def test_the_judge_is_read_only_for_a_page_with_a_flighting_workload():
    release = flight_release()
    judge = Judge(judged(release))
    flying = status_page(Reads(release), judge, "wave-9", NOW, state="flighting", size=2)
    assert judge.loads == 1
    assert [(w["name"], w["health"]["last"] and w["health"]["last"]["evaluation"]) for w in flying["workloads"]] == [
        ("api", 2),
        ("web", None),
    ]
    old = status_page(Reads(release), judge, "wave-9", NOW, workload="old")
    assert judge.loads == 1
    assert old["workloads"][0]["health"] == {
        "interval_seconds": 60, "failure_limit": 2, "inconclusive_limit": 5, "last": None
    }  # fmt: skip
    staged = status_page(Reads(staged_release()), judge, "wave-7", NOW)
    assert judge.loads == 1 and "health" not in staged["workloads"][0]  # not a flight release: no health at all


def test_a_moves_routing_progress_is_on_the_page():
    release = staged_release()
    moving = RoutingProgress(10, 20, 3, 6, NOW - timedelta(seconds=30), NOW - timedelta(seconds=5), 60.0)
    doc = status_page(Reads(release), Judge({}), "wave-7", NOW, progress=Progress(moving))
    assert doc["routing_progress"] == moving.to_json(NOW) == {
        "done": 10, "total": 20, "started_at": "2026-03-02T11:59:30Z", "eta": "2026-03-02T12:00:30Z", "eta_s": 30,
        "writes_done": 3, "writes": 6, "recorded_at": "2026-03-02T11:59:55Z", "stale": False, "took_s": None,
        "failed": False,
    }  # fmt: skip
    assert status_page(Reads(release), Judge({}), "wave-7", NOW, progress=Progress(None))["routing_progress"] is None
    assert "routing_progress" not in status_page(Reads(release), Judge({}), "wave-7", NOW)


def test_the_whole_release_status_reads_the_judge_of_a_flight_release_only():
    from shared.application.views import release_status
    from tests.fakes import MemoryStore
    from tests.unit.test_pin_status import FLIGHT_JSON

    store = MemoryStore()
    flight, staged = flight_release(), staged_release()
    store.create_release(flight)
    store.create_release(staged)
    judge = Judge(judged(flight))
    assert as_json(release_status(store, judge, "wave-9", NOW)) == FLIGHT_JSON and judge.loads == 1
    unjudged = {**STAGED_JSON, "workloads": [{**w, "health": None} for w in STAGED_JSON["workloads"]]}
    assert as_json(release_status(store, judge, "wave-7", NOW)) == unjudged and judge.loads == 1
    moving = RoutingProgress(10, 20, 3, 6, NOW - timedelta(seconds=30), NOW - timedelta(seconds=5), 60.0)
    doc = release_status(store, judge, "wave-7", NOW, Progress(moving))
    assert as_json(doc) == {**unjudged, "routing_progress": moving.to_json(NOW)}


def test_the_state_and_the_ready_unapproved_come_from_the_shards_facts():
    # the shards' facts say promoted-by-approval is under way: none ready unapproved, the state awaiting approval
    reads = Reads(staged_release(), facts=("awaiting-approval", 0))
    doc = status_page(reads, Judge({}), "wave-7", NOW, page=2, size=2)
    assert doc["state"] == "awaiting-approval"
    assert [h["gate"] for h in doc["holds"]] == ["after", "window", "release", "paused"]  # no approval hold
    assert [(w["name"], [g["gate"] for g in w["waiting_for"]]) for w in doc["workloads"]] == [
        ("crm", ["approval", "release", "window", "after"]),
        ("ledger", ["tests", "paused"]),
    ]
    unapproved = Reads(staged_release(), facts=("in-progress", 4))
    assert status_page(unapproved, Judge({}), "wave-7", NOW)["holds"][2] == {
        "gate": "approval", "approvers": ["ana@contoso.com", "bo@contoso.com"], "workload_count": 4
    }  # fmt: skip
