"""The `promote` command. Exit status: 0 success, 2 bad usage or invalid input, 1 other failure."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlparse

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad usage or invalid input: exit 2."""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="promote",
        description="Promote migrated workloads into production (single-step, staged and flight models).",
    )
    p.add_argument("--version", action="version", version=f"promote {_version()}", help="print the version and exit")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    dev = sub.add_parser("dev", help="start / stop the local stack (Azurite; data kept under .promote/)")
    dev.add_argument("action", choices=["up", "down"], help="up: start it (or check the one running); down: stop it")
    dev.add_argument(
        "--ports",
        metavar="BLOB,QUEUE,TABLE",
        help="Azurite's three ports (default: PROMOTE_DEV_PORTS, else 10000,10001,10002); up prints "
        "the matching PROMOTE_STORAGE_CONNECTION_STRING as an export line",
    )

    apply = sub.add_parser("apply", help="register or update a release from a plan (YAML or JSON)")
    apply.add_argument("plan", help="plan file, or - for standard input")

    send = sub.add_parser("send", help="publish one event")
    send.add_argument(
        "type",
        choices=[
            "asset-replicated",
            "tests-passed",
            "tests-failed",
            "flight-healthy",
            "flight-unhealthy",
            "alert",
            "replication-lag",
        ],
        help="the event type",
    )
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
        choices=["pause", "resume", "approve", "advance", "rollback", "abort", "retry", "finalize"],
        help="approve, advance and finalize need an approver; the others an operator or approver",
    )
    override.add_argument("--release", required=True, help="the release (as applied)")
    override.add_argument("--workload", help="one workload; default: every workload of the release")
    override.add_argument("--actor", help="who acts (required locally; on Azure the actor is your Entra ID sign-in)")
    override.add_argument(
        "--reason", required=True, help="why: kept verbatim in history as actor_reason (at most 500 characters)"
    )
    override.add_argument("--id", help="CloudEvents id; default: a new UUID")

    run = sub.add_parser("run", help="process messages locally (the local Functions host)")
    run.add_argument(
        "--until-idle",
        action="store_true",
        help="return once nothing is queued and nothing scheduled is due within --wait seconds",
    )
    run.add_argument(
        "--wait",
        type=_seconds,
        default=10.0,
        help="with --until-idle: how far ahead a scheduled message still counts, in seconds (default 10)",
    )
    run.add_argument("--quiet", action="store_true", help="no line per message")

    status = sub.add_parser("status", help="the release and its workloads")
    status.add_argument("--release", required=True, help="the release (as applied)")
    status.add_argument("--json", action="store_true", help="one JSON object instead of a table")

    history = sub.add_parser("history", help="the recorded outcomes, oldest first")
    history.add_argument("--release", required=True, help="the release (as applied)")
    history.add_argument("--workload", help="one workload; default: the whole release")
    history.add_argument("--json", action="store_true", help="a JSON array instead of a table")

    sub.add_parser("demo", help="the three models end to end on the local stack")

    dead = sub.add_parser("deadletters", help="messages that could not be handled, with their reasons")
    dead.add_argument("--json", action="store_true", help="a JSON array instead of a list")

    from shared.local.routing_cli import register

    COMMANDS.update(register(sub))
    from shared.local.board_cli import register as register_board

    COMMANDS.update(register_board(sub))

    from shared.local.health_cli import register as register_health

    COMMANDS.update(register_health(sub))
    return p


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("promote")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "(not installed: run make install)"


def _seconds(text: str) -> float:
    """A number of seconds >= 0 (argparse type: anything else is a usage error, exit 2)."""
    import math

    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"must be a number of seconds >= 0, got {text!r}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from shared.application.config import SettingError
    from shared.domain.errors import PlanChangeRefused, PlanError, PromoteError, UnknownRelease

    try:
        return COMMANDS[args.command](args)
    except (UsageError, PlanError, PlanChangeRefused, UnknownRelease, SettingError) as exc:
        print(f"promote: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("promote: interrupted", file=sys.stderr)
        return EXIT_FAILURE
    except PromoteError as exc:
        print(f"promote: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except Exception as exc:  # a clear line, not a traceback, for failures of the outside world
        print(f"promote: {type(exc).__name__}: {_first_line(exc)}", file=sys.stderr)
        return EXIT_FAILURE


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else repr(exc)


# -- helpers --------------------------------------------------------------------------------------
def _stack():
    """The configured stack, after checking that local storage is reachable (fast, with a clear hint)."""
    from shared.application.bootstrap import stack
    from shared.domain.errors import PromoteError
    from shared.local.azurite import port_open, probe

    s = stack()
    settings = s.settings
    if not settings.tables_endpoint or settings.storage_connection_string:
        endpoint = _table_endpoint(settings.storage)
        if endpoint and endpoint.hostname in ("127.0.0.1", "localhost") and not port_open(endpoint.port or 80):
            hint = "start it with `promote dev up`" if settings.is_local else "check PROMOTE_STORAGE_CONNECTION_STRING"
            raise PromoteError(f"cannot reach table storage at {endpoint.geturl()}: {hint}")
    if settings.is_local:  # the default local stack: make sure it is Azurite, not a stranger on its ports
        strangers = [
            found
            for found in (probe("queue", settings.dev_ports["queue"]), probe("table", settings.dev_ports["table"]))
            if not found.is_azurite
        ]
        if strangers:
            raise PromoteError(
                "the local stack is not running: "
                + "; ".join(f.describe() for f in strangers)
                + ". Stop that program and run `promote dev up`, or run the local stack on free ports "
                "(`promote dev up --ports BLOB,QUEUE,TABLE` and export the line it prints)"
            )
    return s


def _table_endpoint(connection_string: str):
    parts = dict(p.split("=", 1) for p in connection_string.split(";") if "=" in p)
    return urlparse(parts["TableEndpoint"]) if "TableEndpoint" in parts else None


def _now() -> datetime:
    return datetime.now(UTC)


def _publish(event: dict) -> None:
    from shared.domain.errors import MessageError
    from shared.domain.messages import parse_message

    try:
        parse_message(json.dumps(event))  # refuse here what the orchestrator would reject as invalid
    except MessageError as exc:
        raise UsageError(f"invalid {event['type']}: {exc}") from None
    from shared.application.bootstrap import stack

    s = stack()
    if not s.settings.uses_servicebus:  # a pipeline with only Service Bus rights needs no storage access
        _stack().store.get_release(event["data"]["release"])  # UnknownRelease -> exit 2, not a dead letter
    s.publisher.publish(event)
    where = "Service Bus topic promotion-events" if s.settings.uses_servicebus else "local queue promotion-events"
    data = event["data"]
    target = f"{data['release']}/{data.get('workload') or '*'}"
    print(f"published {event['type']} {target} id={event['id']} to the {where}")


# -- commands -------------------------------------------------------------------------------------
def cmd_dev(args) -> int:
    """dev up: the human message on stderr, and on stdout only an export line, so `eval "$(promote dev up)"` works."""
    import shlex

    from shared.application.config import ENV_STORAGE_CONNECTION_STRING, load_settings, parse_dev_ports
    from shared.local.azurite import dev_down, dev_up

    settings = load_settings()
    ports = parse_dev_ports(args.ports, name="--ports") if args.ports else settings.dev_ports
    home = settings.home
    home.mkdir(parents=True, exist_ok=True)
    if args.action == "down":
        print(dev_down(home, ports))
        return EXIT_OK
    _, message = dev_up(home, ports)
    print(message, file=sys.stderr)
    connection = dataclasses.replace(settings, dev_ports=ports).dev_connection_string
    if settings.storage_connection_string and settings.storage_connection_string != connection:
        print(
            f"note: {ENV_STORAGE_CONNECTION_STRING} is set to another storage account; promote commands use "
            "that one until you export the line below",
            file=sys.stderr,
        )
    print(f"export {ENV_STORAGE_CONNECTION_STRING}={shlex.quote(connection)}")
    return EXIT_OK


def cmd_apply(args) -> int:
    from shared.domain.plan import load_plan_text

    if args.plan == "-":
        text, name = sys.stdin.read(), "<stdin>"
    else:
        path = Path(args.plan)
        if path.is_dir():
            raise UsageError(f"plan file {args.plan} is a directory: give the path of a YAML or JSON plan file")
        if not path.is_file():
            raise UsageError(f"plan file {args.plan} does not exist")
        try:
            text, name = path.read_text(encoding="utf-8"), str(path)
        except UnicodeDecodeError as exc:
            raise UsageError(f"plan file {args.plan} is not UTF-8 text: {exc.reason} at byte {exc.start}") from None
    plan = load_plan_text(text, filename=name)
    _check_live(plan)
    result = _stack().service.apply(plan)
    words = {
        "created": "registered",
        "unchanged": "unchanged (same plan already applied)",
        "updated": "updated (approvers/operators)",
    }
    print(f"release {result.release}: {words[result.action]}")
    return EXIT_OK


def _check_live(plan) -> None:
    """Before registering a plan that names Azure resources: a revoke_access priority Azure would refuse is a
    plan error; members the plan does not name, and resources that cannot be read, are warnings."""
    from shared.domain.errors import PlanError
    from shared.local.routing_cli import live_problems

    if all(w.routing.provider == "local" for w in plan.workloads) and (
        not plan.revoke_access or plan.revoke_access.provider == "local"
    ):
        return
    from shared.application.bootstrap import stack

    found = live_problems(plan, stack().settings)
    revoke = found.pop(None, [])
    clash = [p for p in revoke if not p.startswith("could not check")]
    if clash:
        raise PlanError([("revoke_access.priority", p) for p in clash])
    found[None] = revoke
    for workload, problems in found.items():
        for problem in problems:
            print(f"warning: {workload or 'revoke_access'}: {problem}", file=sys.stderr)


def cmd_send(args) -> int:
    from shared.domain.messages import new_event

    needs = {
        "asset-replicated": "asset",
        "flight-healthy": "flight",
        "flight-unhealthy": "flight",
        "replication-lag": "lag_seconds",
    }
    if args.type in needs and getattr(args, needs[args.type]) is None:
        raise UsageError(f"{args.type} needs --{needs[args.type].replace('_', '-')}")
    data = {"release": args.release, "workload": args.workload}
    extras = {
        "asset-replicated": ("asset",),
        "tests-passed": ("suite", "run"),
        "tests-failed": ("suite", "run"),
        "flight-healthy": ("flight",),
        "flight-unhealthy": ("flight",),
        "alert": ("severity", "description"),
        "replication-lag": ("lag_seconds", "asset"),
    }
    foreign = sorted({k for keys in extras.values() for k in keys} - set(extras[args.type]))
    if given := [k for k in foreign if getattr(args, k) is not None]:  # refuse what would be silently dropped
        own = ", ".join(f"--{k}" for k in extras[args.type]) or "none"
        raise UsageError(f"{args.type} takes no {', '.join('--' + k for k in given)} (its own options: {own})")
    for key in extras[args.type]:
        data[key] = getattr(args, key)
    _publish(new_event(args.type, data, id=args.id or str(uuid.uuid4()), source=args.source, time=_now()))
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
    _publish(new_event("override", data, id=args.id or str(uuid.uuid4()), source="promote-cli/override", time=_now()))
    return EXIT_OK


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
        return 1
    return report_override_reply(reply, body["id"])


def report_override_reply(reply, event_id: str) -> int:
    """Print what the endpoint answered; exit 0 if the override was recorded and not rejected."""
    doc = reply.doc
    if reply.status == 200:
        print(f"override {event_id} by {doc.get('actor')}: {doc.get('outcome')}: {doc.get('reason')}")
        return EXIT_OK if doc.get("outcome") != "rejected" else EXIT_FAILURE
    message = f"override endpoint answered {reply.status}: {doc.get('error', doc)}"
    if reply.status in (400, 404):
        raise UsageError(message)
    if doc.get("retry"):
        message += f" ({doc['retry']}: --id {event_id})"
    from shared.domain.errors import PromoteError

    raise PromoteError(message)


def _progress(result) -> None:
    for entry in result.entries or [None]:
        if entry is None:
            print(f"  [{result.outcome}] {result.event_id or '-'}: {result.reason}", flush=True)
            continue
        where = f"{result.release}/{entry.workload or '*'}"
        share = "" if entry.traffic_percent is None else f" [{entry.traffic_percent}%]"
        print(f"  [{entry.outcome}] {where} {entry.type}: {entry.reason}{share}", flush=True)


def local_host(stack, **kwargs):
    from shared.application.config import LOCAL_QUEUE
    from shared.local.localhost import LocalHost

    kwargs.setdefault("deliverer", stack.deliverer)
    kwargs.setdefault("judge", stack.judge.round)  # the local host runs the health judge's rounds
    return LocalHost(
        queue=stack.queue(LOCAL_QUEUE),
        dead_letters=stack.dead_letters,
        scheduler=stack.local_scheduler,
        clock=stack.clock,
        **kwargs,
    )


def cmd_run(args) -> int:
    s = _stack()
    if s.settings.uses_servicebus:
        raise UsageError(
            "promote run hosts the local queue; with Service Bus configured the function app "
            "processes messages (unset PROMOTE_SERVICEBUS_NAMESPACE to run locally)"
        )
    if not args.quiet:
        s.service.observers.append(_progress)
    host = local_host(s)
    print(
        "processing promotion-events" + (f" until idle ({args.wait:g}s)" if args.until_idle else " (Ctrl-C to stop)"),
        flush=True,
    )
    stats = host.run(until_idle=args.until_idle, wait=args.wait)
    print(f"done: {stats.completed} handled, {stats.retried} retried, {stats.poisoned} moved to the poison queue")
    return EXIT_OK


def cmd_status(args) -> int:
    from shared.application.views import status_json, status_text

    s = _stack()
    release = s.store.get_release(args.release).release
    now = s.clock.now()
    health = s.judge.records.load(args.release) if release.plan.model == "flight" else {}
    print(json.dumps(status_json(release, now, health)) if args.json else status_text(release, now, health))
    return EXIT_OK


def cmd_history(args) -> int:
    from shared.application.views import history_json, history_text

    s = _stack()
    release = s.store.get_release(args.release).release
    if args.workload and args.workload not in release.workloads:
        raise UsageError(f"workload {args.workload!r} is not part of release {args.release}")
    entries = s.store.list_history(args.release, args.workload)
    print(json.dumps(history_json(entries)) if args.json else history_text(entries))
    return EXIT_OK


def cmd_demo(args) -> int:
    from shared.local.demo import run_demo

    return run_demo(_stack())


def cmd_deadletters(args) -> int:
    from shared.application.config import DEADLETTER_TABLE, POISON_QUEUE

    s = _stack()
    if s.settings.uses_servicebus:
        rows = [dict(r) for r in s.table(DEADLETTER_TABLE).list_entities()]
        records = [{"reason": r["reason"], "dead_lettered_at": r["at"].isoformat(), "body": r["body"]} for r in rows]
    else:
        messages = s.queue(POISON_QUEUE).peek_messages(max_messages=32)
        records = [json.loads(m.content) for m in messages]
    if args.json:
        print(json.dumps(records))
    else:
        for r in records:
            print(f"{r.get('dead_lettered_at', '-')}  {r['reason']}\n    {r['body'][:200]}")
        print(f"{len(records)} dead-lettered message(s)" + (" (first 32 shown)" if len(records) == 32 else ""))
    return EXIT_OK


COMMANDS = {
    "dev": cmd_dev,
    "apply": cmd_apply,
    "send": cmd_send,
    "override": cmd_override,
    "run": cmd_run,
    "status": cmd_status,
    "history": cmd_history,
    "demo": cmd_demo,
    "deadletters": cmd_deadletters,
}

if __name__ == "__main__":
    sys.exit(main())
