"""`promote send` and `promote override`: queue one message and say where its outcome will appear; with
`--wait`, wait for that outcome. Registers its commands into the CLI.

A message is only queued here: a host (`promote run` locally, the function app on Azure) decides it later.
Exit status: 0 queued; with --wait, 0 when it is applied, ignored or a duplicate (none is a failure: an
ignored message was valid but had no effect, a duplicate was handled before) and 1 when it is rejected or no
outcome is recorded within the wait. 2 for bad usage: an unknown release, or a workload the release does not
have, is refused before anything is queued. Refusals the service decides (an actor who may not act) are
queued, recorded and audited like any outcome.
"""

from __future__ import annotations

import sys
import uuid

from shared.local.common import EXIT_FAILURE, EXIT_OK, UsageError, checked_stack, duration_seconds, now, seconds

DEFAULT_WAIT = 30.0  # `--wait` without a value
# each event type's own options (data fields)
EXTRAS = {
    "asset-replicated": ("asset",),
    "tests-passed": ("suite", "run"),
    "tests-failed": ("suite", "run"),
    "flight-healthy": ("flight",),
    "flight-unhealthy": ("flight",),
    "alert": ("severity", "description"),
    "replication-lag": ("lag_seconds", "asset"),
    "rehearsal-passed": ("suite", "run"),  # v3 §16: the test pipeline's verdict on a rehearsal's test VMs
    "rehearsal-failed": ("suite", "run"),
}
NEEDS = {
    "asset-replicated": "asset",
    "flight-healthy": "flight",
    "flight-unhealthy": "flight",
    "replication-lag": "lag_seconds",
}
# what describes one event (not allowed with --file)
_ONE_EVENT = (
    "release",
    "workload",
    "asset",
    "flight",
    "id",
    "suite",
    "run",
    "severity",
    "description",
    "lag_seconds",
    "wait",
)
ACTIONS = ["pause", "resume", "approve", "advance", "rollback", "abort", "retry", "finalize"]


def register(sub) -> dict:
    """Add this module's subcommands to the `promote` parser; return {command name: handler(args) -> exit code}."""
    send = sub.add_parser(
        "send", help="queue one event, or a file of CloudEvents, one a line (a host decides them: promote run)"
    )
    send.add_argument("type", nargs="?", choices=list(EXTRAS), help="the event type")
    send.add_argument(
        "--file",
        metavar="FILE",
        help="CloudEvents JSON documents, one a line (- for standard input), queued in order; one bad line "
        "refuses the whole file",
    )
    send.add_argument("--release", help="the release (as applied)")
    send.add_argument("--workload", help="the workload of the release")
    send.add_argument("--asset", help="asset-replicated: the asset that is replicated")
    send.add_argument("--flight", type=int, help="flight-healthy / flight-unhealthy: the flight judged (1-based)")
    send.add_argument("--id", help="CloudEvents id (the de-duplication key); default: a new UUID")
    send.add_argument("--source", default="promote-cli", help="CloudEvents source (default promote-cli)")
    send.add_argument("--suite", help="tests-*, rehearsal-*: the test suite")
    send.add_argument("--run", help="tests-*, rehearsal-*: the pipeline run")
    send.add_argument("--severity", help="alert: severity")
    send.add_argument("--description", help="alert: description")
    send.add_argument(
        "--lag-seconds",
        type=duration_seconds,
        help="replication-lag: the measured lag (>= 0), in seconds (1.5) or as plans write durations (5s, 2m)",
    )
    _wait_option(send)

    override = sub.add_parser("override", help="queue an operator command")
    override.add_argument(
        "action",
        choices=ACTIONS,
        help="approve, advance and finalize need an approver; the others an operator or approver",
    )
    override.add_argument("--release", required=True, help="the release (as applied)")
    override.add_argument("--workload", help="one workload; default: every workload of the release")
    override.add_argument("--actor", help="who acts (required locally; on Azure the actor is your Entra ID sign-in)")
    override.add_argument(
        "--reason", required=True, help="why: kept verbatim in history as actor_reason (at most 500 characters)"
    )
    override.add_argument("--id", help="CloudEvents id; default: a new UUID")
    _wait_option(override)
    return {"send": cmd_send, "override": cmd_override}


def _wait_option(parser) -> None:
    parser.add_argument(
        "--wait",
        nargs="?",
        const=DEFAULT_WAIT,
        type=seconds,
        metavar="S",
        help=f"wait up to S seconds (default {DEFAULT_WAIT:g}) for the recorded outcome while a host runs "
        "(promote run); exit 1 when it is rejected or not recorded in time",
    )


def cmd_send(args) -> int:
    from shared.domain.messages import new_event

    if args.file is not None:
        given = [f"--{k.replace('_', '-')}" for k, v in vars(args).items() if v is not None and k in _ONE_EVENT]
        given += ["--source"] if args.source != "promote-cli" else []  # each line has its own
        if args.type or given:
            raise UsageError(
                f"--file sends the file's events: leave out {', '.join(['the type'] * bool(args.type) + given)}"
            )
        from shared.local.send_file import send_file

        return send_file(args.file)
    if args.type is None or args.release is None or args.workload is None:
        raise UsageError("send needs an event type, --release and --workload (or --file)")

    if args.type in NEEDS and getattr(args, NEEDS[args.type]) is None:
        raise UsageError(f"{args.type} needs --{NEEDS[args.type].replace('_', '-')}")
    data = {"release": args.release, "workload": args.workload}
    foreign = sorted({k for keys in EXTRAS.values() for k in keys} - set(EXTRAS[args.type]))
    if given := [k for k in foreign if getattr(args, k) is not None]:  # refuse what would be silently dropped
        own = ", ".join(f"--{k}" for k in EXTRAS[args.type]) or "none"
        raise UsageError(f"{args.type} takes no {', '.join('--' + k for k in given)} (its own options: {own})")
    for key in EXTRAS[args.type]:
        data[key] = getattr(args, key)
    event = new_event(args.type, data, id=args.id or str(uuid.uuid4()), source=args.source, time=now())
    return queue(event, args.wait)


def cmd_override(args) -> int:
    from shared.application.bootstrap import stack
    from shared.application.config import load_client_settings
    from shared.domain.messages import new_event

    client = load_client_settings()
    if client.uses_api:
        return _override_through_endpoint(args, client)
    if stack().settings.uses_servicebus:
        raise UsageError(
            "on Azure, overrides go through the function app's override endpoint (the topic cannot "
            "prove who sent them): set PROMOTE_API_URL and PROMOTE_API_SCOPE (docs/deploy.md)"
        )
    if not args.actor:
        raise UsageError("override needs --actor locally (on Azure the actor is your Entra ID sign-in)")
    data = {
        "release": args.release,
        "workload": args.workload,
        "action": args.action,
        "actor": args.actor,
        "reason": args.reason,
    }
    event = new_event("override", data, id=args.id or str(uuid.uuid4()), source="promote-cli/override", time=now())
    return queue(event, args.wait)


def queue(event: dict, wait: float | None) -> int:
    """Queue `event` after refusing what no host could record (invalid, unknown release or workload); say where
    its outcome will appear, or wait up to `wait` seconds for it."""
    import json

    from shared.application.bootstrap import stack
    from shared.domain.errors import MessageError
    from shared.domain.messages import parse_message

    try:
        parse_message(json.dumps(event))  # refuse here what the orchestrator would reject as invalid
    except MessageError as exc:
        raise UsageError(f"invalid {event['type']}: {exc}") from None
    s = stack()
    on_azure = s.settings.uses_servicebus
    # a pipeline with only Service Bus rights needs no storage access (unless it waits for the outcome)
    watch = _refuse_unknown(event, watching=wait is not None) if not on_azure or wait is not None else None
    s.publisher.publish(event)
    data = event["data"]
    release, workload = data["release"], data.get("workload")
    where = "the Service Bus topic promotion-events" if on_azure else "the local queue promotion-events"
    host = "the function app" if on_azure else "a host (`promote run`)"
    history = f"promote history --release {release}" + (f" --workload {workload}" if workload else "")
    print(f"queued {event['type']} {release}/{workload or '*'} id={event['id']} on {where}")
    if watch is None or wait is None:
        print(f"its outcome will appear in `{history}` once {host} handles it (--wait waits for it)")
        return EXIT_OK
    print(f"waiting up to {wait:g}s for its outcome from {host}", flush=True)
    found = watch.wait(wait)
    if not found:
        why = _why_no_outcome(s, event["id"])
        print(f"promote: no outcome within {wait:g}s: {why}; it will appear in `{history}`", file=sys.stderr)
        return EXIT_FAILURE
    from shared.domain.model import Outcome
    from shared.local.outcome import combined

    for recorded in found:
        print(recorded.line(release))
    outcome = combined(found)
    print(f"outcome: {outcome}")
    return EXIT_FAILURE if outcome == Outcome.REJECTED else EXIT_OK


def _refuse_unknown(event: dict, *, watching: bool):
    """Refuse (exit 2, nothing queued) a release never applied or a workload the release does not have; when
    `watching`, return the watch that will find the message's outcome."""
    import json

    from shared.adapters.table_store.pages import PageReads
    from shared.application.config import RELEASES_TABLE
    from shared.domain.messages import dedup_key, parse_message
    from shared.local.outcome import OutcomeWatch

    data, event_id = event["data"], event["id"]
    release, workload = data["release"], data.get("workload")
    s = checked_stack()
    table = s.table(RELEASES_TABLE)
    known = PageReads(table).overview(release).release  # one read; UnknownRelease -> exit 2, not a dead letter
    if workload is not None and workload not in known.workloads:
        names = list(known.workloads)
        listed = ", ".join(names[:20]) + (f" and {len(names) - 20} more" if len(names) > 20 else "")
        raise UsageError(
            f"workload {workload!r} is not part of release {release} (its workloads: {listed}): nothing queued"
        )
    if not watching:
        return None
    key = dedup_key(parse_message(json.dumps(event)))
    seen = s.store.seen_before(release, key)  # then its outcome is a duplicate's history entry
    return OutcomeWatch(s.store, table, release, event_id, key, published=now(), marker_before=seen)


def _why_no_outcome(s, event_id: str) -> str:
    from shared.application.config import LOCAL_QUEUE
    from shared.local.outcome import still_queued

    if s.settings.uses_servicebus:
        return "the function app has not handled it yet"
    if still_queued(s.queue(LOCAL_QUEUE), event_id):
        return "it is still queued: nothing is processing the local queue (start a host: `promote run`)"
    return "a host took it but recorded no outcome yet (it may be retrying it: see `promote run`'s log)"


def _override_through_endpoint(args, client) -> int:
    """On Azure: the endpoint queues the override on the release's session and answers 202 (an older function
    app decides it at once and answers 200 with its outcome); --wait then waits for the outcome in storage."""
    from shared.local.override_client import OverrideClient, azure_token

    if not client.api_scope:
        raise UsageError(
            "PROMOTE_API_URL is set but PROMOTE_API_SCOPE is not: the token scope of the function "
            "app's Entra ID app registration, e.g. api://<client-id>/.default"
        )
    if args.actor:
        print("promote: --actor is ignored: the endpoint takes the actor from your Entra ID sign-in", file=sys.stderr)
    body = {
        "release": args.release,
        "workload": args.workload,
        "action": args.action,
        "reason": args.reason,
        "id": args.id or str(uuid.uuid4()),
    }
    try:
        endpoint = OverrideClient(client.api_url, azure_token(client.api_scope))
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    body = {k: v for k, v in body.items() if v is not None}
    watch = _endpoint_watch(body) if args.wait is not None else None  # before sending: nothing is missed
    try:
        reply = endpoint.send(body)
    except OSError as exc:  # URLError, a timeout: it may or may not have been recorded
        print(
            f"promote: the override endpoint did not answer ({exc}); send it again with --id {body['id']}: "
            "if it was recorded after all, it is answered as a duplicate",
            file=sys.stderr,
        )
        return EXIT_FAILURE
    code = report_override_reply(reply, body["id"])
    if reply.status != 202 or watch is None:
        return code
    return _waited(watch, args.wait, body["release"], "the function app")


def _endpoint_watch(body: dict):
    """The watch of an override the endpoint will queue: its de-duplication key is that of the event the
    endpoint makes of `body` (its source is the endpoint's). Needs read access to the releases table."""
    import json

    from shared.adapters.table_store.pages import PageReads
    from shared.application.config import RELEASES_TABLE
    from shared.application.overrides import override_event
    from shared.domain.actors import Principal
    from shared.domain.messages import dedup_key, parse_message
    from shared.local.outcome import OutcomeWatch

    s = checked_stack()
    table = s.table(RELEASES_TABLE)
    PageReads(table).overview(body["release"])  # UnknownRelease: exit 2
    event = override_event(json.dumps(body).encode(), Principal("(signed in)"), now())
    key = dedup_key(parse_message(json.dumps(event)))
    seen = s.store.seen_before(body["release"], key)
    return OutcomeWatch(s.store, table, body["release"], body["id"], key, published=now(), marker_before=seen)


def _waited(watch, wait: float, release: str, host: str) -> int:
    """Wait up to `wait` seconds for the outcome `watch` finds; exit 1 when it is rejected or not recorded."""
    from shared.domain.model import Outcome
    from shared.local.outcome import combined

    print(f"waiting up to {wait:g}s for its outcome from {host}", flush=True)
    found = watch.wait(wait)
    if not found:
        print(f"promote: no outcome within {wait:g}s: {host} has not handled it yet", file=sys.stderr)
        return EXIT_FAILURE
    for recorded in found:
        print(recorded.line(release))
    outcome = combined(found)
    print(f"outcome: {outcome}")
    return EXIT_FAILURE if outcome == Outcome.REJECTED else EXIT_OK


def report_override_reply(reply, event_id: str) -> int:
    """Print what the endpoint answered; exit 0 if the override was queued, or recorded and not rejected."""
    from shared.domain.model import Outcome

    doc = reply.doc
    if reply.status == 202:  # queued on the release's session (contract §18): decided by the function app
        print(f"queued override {doc.get('release')} id={event_id} through the override endpoint")
        print(f"its outcome will appear at {doc.get('status_url')} (and in `promote history`); --wait waits for it")
        return EXIT_OK
    if reply.status == 200:
        print(f"override {event_id} by {doc.get('actor')}: {doc.get('outcome')}: {doc.get('reason')}")
        return EXIT_OK if doc.get("outcome") != Outcome.REJECTED else EXIT_FAILURE
    message = f"override endpoint answered {reply.status}: {doc.get('error', doc)}"
    if reply.status in (400, 404):
        raise UsageError(message)
    if doc.get("retry"):
        message += f" ({doc['retry']}: --id {event_id})"
    from shared.domain.errors import PromoteError

    raise PromoteError(message)
