"""`promote send` and `promote override`: publish one message. Registers its commands into the CLI."""

from __future__ import annotations

import sys
import uuid

from shared.local.common import EXIT_FAILURE, EXIT_OK, UsageError, checked_stack, now

# each event type's own options (data fields)
EXTRAS = {
    "asset-replicated": ("asset",),
    "tests-passed": ("suite", "run"),
    "tests-failed": ("suite", "run"),
    "flight-healthy": ("flight",),
    "flight-unhealthy": ("flight",),
    "alert": ("severity", "description"),
    "replication-lag": ("lag_seconds", "asset"),
}
NEEDS = {
    "asset-replicated": "asset",
    "flight-healthy": "flight",
    "flight-unhealthy": "flight",
    "replication-lag": "lag_seconds",
}
ACTIONS = ["pause", "resume", "approve", "advance", "rollback", "abort", "retry", "finalize"]


def register(sub) -> dict:
    """Add this module's subcommands to the `promote` parser; return {command name: handler(args) -> exit code}."""
    send = sub.add_parser("send", help="publish one event")
    send.add_argument("type", choices=list(EXTRAS), help="the event type")
    send.add_argument("--release", required=True, help="the release (as applied)")
    send.add_argument("--workload", required=True, help="the workload of the release")
    send.add_argument("--asset", help="asset-replicated: the asset that is replicated")
    send.add_argument("--flight", type=int, help="flight-healthy / flight-unhealthy: the flight judged (1-based)")
    send.add_argument("--id", help="CloudEvents id (the de-duplication key); default: a new UUID")
    send.add_argument("--source", default="promote-cli", help="CloudEvents source (default promote-cli)")
    send.add_argument("--suite", help="tests-*: the test suite")
    send.add_argument("--run", help="tests-*: the pipeline run")
    send.add_argument("--severity", help="alert: severity")
    send.add_argument("--description", help="alert: description")
    send.add_argument("--lag-seconds", type=float, help="replication-lag: the measured lag in seconds (>= 0)")

    override = sub.add_parser("override", help="publish an operator command")
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
    return {"send": cmd_send, "override": cmd_override}


def cmd_send(args) -> int:
    from shared.domain.messages import new_event

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
    _publish(event)
    return EXIT_OK


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
    _publish(event)
    return EXIT_OK


def _publish(event: dict) -> None:
    import json

    from shared.application.bootstrap import stack
    from shared.domain.errors import MessageError
    from shared.domain.messages import parse_message

    try:
        parse_message(json.dumps(event))  # refuse here what the orchestrator would reject as invalid
    except MessageError as exc:
        raise UsageError(f"invalid {event['type']}: {exc}") from None
    s = stack()
    if not s.settings.uses_servicebus:  # a pipeline with only Service Bus rights needs no storage access
        checked_stack().store.get_release(event["data"]["release"])  # UnknownRelease -> exit 2, not a dead letter
    s.publisher.publish(event)
    where = "Service Bus topic promotion-events" if s.settings.uses_servicebus else "local queue promotion-events"
    data = event["data"]
    target = f"{data['release']}/{data.get('workload') or '*'}"
    print(f"published {event['type']} {target} id={event['id']} to the {where}")


def _override_through_endpoint(args, client) -> int:
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
    try:
        reply = endpoint.send({k: v for k, v in body.items() if v is not None})
    except OSError as exc:  # URLError, a timeout: it may or may not have been recorded
        print(
            f"promote: the override endpoint did not answer ({exc}); send it again with --id {body['id']}: "
            "if it was recorded after all, it is answered as a duplicate",
            file=sys.stderr,
        )
        return EXIT_FAILURE
    return report_override_reply(reply, body["id"])


def report_override_reply(reply, event_id: str) -> int:
    """Print what the endpoint answered; exit 0 if the override was recorded and not rejected."""
    from shared.domain.model import Outcome

    doc = reply.doc
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
