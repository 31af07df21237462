"""`promote halt` / `unhalt` (stop the line) and `promote releases` / `archive` (releases as things you manage),
contract v3 §19. Registers its commands into the CLI.

A halt is the `halt` override of each release, decided by the same rules as every override (an actor who is
not one of the release's operators is refused, and the refusal recorded in its history). Locally each is
decided at once, in this process, a thread per release, rather than queued for a host: stopping the line must
not wait for `promote run` to be running or to catch up. On Azure each goes to the override endpoint, which
queues it on the release's session. `promote halt` without --release also sets the halt of everything, so
releases applied while it holds start halted; `promote unhalt` without --release lifts it.
"""

from __future__ import annotations

import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from shared.local.common import EXIT_FAILURE, EXIT_OK, UsageError, checked_stack, now

THREADS = 8  # releases decided at once (each a read and a commit: storage round trips, not CPU)


def register(sub) -> dict:
    for name, who, what in (
        ("halt", "an operator", "pause every workload of every active release (or of each --release)"),
        ("unhalt", "an approver", "lift a halt: resume what it paused (every halted release, or each --release)"),
    ):
        p = sub.add_parser(name, help=f"{what}; {who} of each release")
        p.add_argument(
            "--release",
            action="append",
            metavar="R",
            help="a release (repeat for several); default: every "
            + ("active release, and new releases start halted until `promote unhalt`" if name == "halt" else
               "halted release, and new releases no longer start halted"),
        )  # fmt: skip
        p.add_argument("--actor", help="who acts (required locally; on Azure the actor is your Entra ID sign-in)")
        p.add_argument("--reason", required=True, help="why: kept verbatim in history as actor_reason")
    releases = sub.add_parser("releases", help="every release: state, counts, overdue, attention, last change")
    releases.add_argument("--state", help="only releases in this state (in-progress, promoted, ...)")
    releases.add_argument("--wave", help="only releases of this wave (the plan's `wave`)")
    releases.add_argument("--json", action="store_true", help="a JSON array instead of a table")
    archive = sub.add_parser("archive", help="hide a finished release from `promote releases` and the board")
    archive.add_argument("--release", required=True, help="a finalized or aborted release")
    archive.add_argument("--actor", required=True, help="who archives it (an operator or approver of the release)")
    archive.add_argument("--reason", required=True, help="why: kept in its history")
    return {"halt": cmd_halt, "unhalt": cmd_unhalt, "releases": cmd_releases, "archive": cmd_archive}


def cmd_halt(args) -> int:
    return _stop_the_line(args, "halt")


def cmd_unhalt(args) -> int:
    return _stop_the_line(args, "unhalt")


def _stop_the_line(args, action: str) -> int:
    from shared.application.config import load_client_settings
    from shared.domain.model import Outcome

    client = load_client_settings()
    s = checked_stack()
    if not client.uses_api and s.settings.uses_servicebus:
        raise UsageError(
            "on Azure, halts go through the function app's override endpoint (the topic cannot prove who sent "
            "them): set PROMOTE_API_URL and PROMOTE_API_SCOPE (docs/deploy.md)"
        )
    if not client.uses_api and not args.actor:
        raise UsageError(f"{action} needs --actor locally (on Azure the actor is your Entra ID sign-in)")
    everything = not args.release
    before = s.store.get_halt() if everything else None
    if everything:  # first: a release applied from now on starts halted (or no longer does)
        s.store.set_halt(_halt_row(args, now()) if action == "halt" else None)
    started = time.monotonic()
    names = _targets(s, action, args.release)
    answers = _act(s, client, names, action, args)
    if everything:  # a release whose apply read the row just before it was set, and was created after the list
        late = [n for n in _targets(s, action, None, unhalted=True) if n not in names]
        names, answers = names + late, answers + _act(s, client, late, action, args)
    took = time.monotonic() - started
    refused = [n for n, outcome, _ in answers if outcome == Outcome.REJECTED]
    for name, outcome, text in answers:
        print(f"{name}: {outcome}: {text}")
    print(f"{action}: {len(names) - len(refused)} of {len(names)} release(s) in {took:.2f}s")
    if everything and names and len(refused) == len(names):  # refused everywhere: the row goes back as it was
        s.store.set_halt(before)
    elif everything:
        print("new releases start halted until `promote unhalt`" if action == "halt" else
              "new releases no longer start halted")  # fmt: skip
    return EXIT_FAILURE if refused else EXIT_OK


def _halt_row(args, at) -> dict:
    from shared.domain.times import iso_s

    return {"by": args.actor or "(signed-in user)", "reason": args.reason, "at": iso_s(at)}


def _act(s, client, names: list[str], action: str, args) -> list[tuple[str, str, str]]:
    if client.uses_api:
        return _through_endpoint(client, names, action, args.reason)
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        return list(pool.map(lambda n: _decide(s, n, action, args.actor, args.reason), names))


def _targets(s, action: str, given: list[str] | None, *, unhalted: bool = False) -> list[str]:
    """The releases named (each must exist: UnknownRelease, exit 2), or every active one (halt; `unhalted`: not
    halted yet) / every halted one (unhalt), from the releases' records and summaries (one query)."""
    from shared.adapters.table_store.catalog import overviews
    from shared.adapters.table_store.pages import PageReads
    from shared.application.config import RELEASES_TABLE
    from shared.application.release_list import FINISHED

    table = s.table(RELEASES_TABLE)
    if given:
        names = list(dict.fromkeys(given))
        for name in names:
            PageReads(table).overview(name)
        return names
    found = overviews(table)
    if action == "halt":
        return [o.release.name for o in found if o.state not in FINISHED and not (unhalted and o.release.halted_by)]
    return [o.release.name for o in found if o.release.halted_by]


def _decide(s, release: str, action: str, actor: str, reason: str) -> tuple[str, str, str]:
    """The override decided now, as a host decides a queued one: (release, outcome, what it did)."""
    from shared.domain.messages import new_event
    from shared.domain.model import Outcome

    data = {"release": release, "workload": None, "action": action, "actor": actor, "reason": reason}
    event = new_event("override", data, id=str(uuid.uuid4()), source=f"promote-cli/{action}", time=now())
    result = s.service.handle(json.dumps(event))
    if result.outcome == Outcome.REJECTED:
        return release, result.outcome, result.reason
    done = [e for e in result.entries if e.outcome == Outcome.APPLIED]
    verb = "paused" if action == "halt" else "resumed"
    return (
        release,
        result.outcome,
        f"{len(done)} workload(s) {verb}"
        + (f", {len(result.entries) - len(done)} left as they are" if len(result.entries) > len(done) else ""),
    )


def _through_endpoint(client, names: list[str], action: str, reason: str) -> list[tuple[str, str, str]]:
    from shared.domain.model import Outcome
    from shared.local.override_client import OverrideClient, azure_token

    if not client.api_scope:
        raise UsageError("PROMOTE_API_URL is set but PROMOTE_API_SCOPE is not (docs/deploy.md)")
    endpoint = OverrideClient(client.api_url, azure_token(client.api_scope))
    answers = []
    for name in names:
        reply = endpoint.send({"release": name, "action": action, "reason": reason, "id": str(uuid.uuid4())})
        if reply.status == 202:
            answers.append((name, "queued", f"its outcome: {reply.doc.get('status_url')}"))
        else:
            answers.append((name, Outcome.REJECTED, f"the endpoint answered {reply.status}: {reply.doc.get('error')}"))
    return answers


def cmd_releases(args) -> int:
    """From every release's record and summaries (one query), not their workload rows."""
    from shared.adapters.table_store.catalog import overviews
    from shared.adapters.table_store.pages import PageReads
    from shared.application.config import RELEASES_TABLE
    from shared.application.release_list import release_rows, rows_text
    from shared.domain.model import ReleaseState

    if args.state is not None and args.state not in {s.value for s in ReleaseState}:
        raise UsageError(f"--state {args.state}: a release state is one of {', '.join(s.value for s in ReleaseState)}")
    s = checked_stack()
    table = s.table(RELEASES_TABLE)
    rows = release_rows(overviews(table), PageReads(table), s.clock.now(), state=args.state, wave=args.wave)
    print(json.dumps(rows) if args.json else rows_text(rows))
    return EXIT_OK


def cmd_archive(args) -> int:
    from shared.application.release_list import ArchiveRefused, archive

    s = checked_stack()
    try:
        state, done = archive(s.store, args.release, args.actor, args.reason, s.clock.now())
    except ArchiveRefused as exc:
        raise UsageError(str(exc)) from None
    if not done:
        print(f"release {args.release} ({state}) is archived already")
        return EXIT_OK
    print(f"release {args.release} ({state}): archived; kept in storage, hidden from `promote releases` and the board")
    return EXIT_OK
