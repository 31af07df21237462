"""The `promote` command. Exit status: 0 success, 2 bad usage or invalid input, 1 other failure."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Sequence
from pathlib import Path

# The command modules import what they share from shared.local.common, never from here: this module imports
# them. local_host and report_override_reply are re-exported for the tests and tools that use them from here.
from shared.local import board_cli, health_cli, messages_cli, migrate_cli, ops_cli, report_cli, routing_cli
from shared.local.common import (
    EXIT_FAILURE,
    EXIT_OK,
    EXIT_USAGE,
    UsageError,
    checked_stack,
    local_host,
    positive,
    seconds,
)
from shared.local.messages_cli import report_override_reply

__all__ = ["EXIT_FAILURE", "EXIT_OK", "EXIT_USAGE", "UsageError", "local_host", "main", "report_override_reply"]


def _parser() -> argparse.ArgumentParser:
    from shared.domain.model import WorkloadState  # the states --state accepts

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

    COMMANDS.update(messages_cli.register(sub))  # send, override

    run = sub.add_parser("run", help="process messages locally (the local Functions host)")
    run.add_argument(
        "--until-idle",
        action="store_true",
        help="return once nothing is queued and nothing scheduled is due within --wait seconds",
    )
    run.add_argument(
        "--wait",
        type=seconds,
        default=10.0,
        help="with --until-idle: how far ahead a scheduled message still counts, in seconds (default 10)",
    )
    run.add_argument("--quiet", action="store_true", help="no line per message")

    status = sub.add_parser(
        "status", help="the release: counts by state, attention, what holds it, its workloads a page at a time"
    )
    status.add_argument("--release", required=True, help="the release (as applied)")
    status.add_argument("--state", choices=[s.value for s in WorkloadState], help="only the workloads in this state")
    status.add_argument("--workload", help="only this workload")
    status.add_argument("--page", type=positive, default=1, help="the page of workloads (100 a page; default 1)")
    status.add_argument("--all", action="store_true", help="every workload (reads the whole release)")
    status.add_argument("--json", action="store_true", help="one JSON object with every workload instead of a table")

    history = sub.add_parser("history", help="the recorded outcomes, oldest first, a page at a time")
    history.add_argument("--release", required=True, help="the release (as applied)")
    history.add_argument("--workload", help="one workload; default: the whole release")
    history.add_argument("--page", type=positive, help="one page of 500 entries (default: every entry)")
    history.add_argument("--json", action="store_true", help="a JSON array instead of a table")

    sub.add_parser("demo", help="the three models end to end on the local stack")

    dead = sub.add_parser("deadletters", help="messages that could not be handled, with their reasons")
    dead.add_argument("--json", action="store_true", help="a JSON array instead of a list")

    for module in (
        routing_cli,
        board_cli,
        health_cli,
        report_cli,
        ops_cli,
        migrate_cli,
    ):  # plan, routing; notifications, board; metrics; report; halt, unhalt, releases, archive; rehearse, import
        COMMANDS.update(module.register(sub))
    return p


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("promote")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "(not installed: run make install)"


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
    result = checked_stack().service.apply(plan)
    words = {
        "created": "registered",
        "unchanged": "unchanged (same plan already applied)",
        "updated": "amended (the change is in its history)",
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


def _progress(result, event: dict | None) -> None:
    """A line per history entry of the message just handled. One recorded without an entry (a replication-lag
    report that changed nothing, a dead letter) is named by the event being delivered: release, workload, type."""
    for entry in result.entries:
        where = f"{result.release}/{entry.workload or '*'}"
        share = "" if entry.traffic_percent is None else f" [{entry.traffic_percent}%]"
        print(f"  [{entry.outcome}] {where} {entry.type}: {entry.reason}{share}", flush=True)
    if result.entries:
        return
    data = event.get("data") if event else None
    if event and isinstance(data, dict) and isinstance(data.get("release"), str):
        where = f"{data['release']}/{data.get('workload') or '*'} {event.get('type')}"
    else:
        where = result.event_id or "-"
    print(f"  [{result.outcome}] {where}: {result.reason}", flush=True)


def cmd_run(args) -> int:
    s = checked_stack()
    if s.settings.uses_servicebus:
        raise UsageError(
            "promote run hosts the local queue; with Service Bus configured the function app "
            "processes messages (unset PROMOTE_SERVICEBUS_NAMESPACE to run locally)"
        )
    host = local_host(s)
    if not args.quiet:
        s.service.observers.append(lambda result: _progress(result, host.current))
    print(
        "processing promotion-events" + (f" until idle ({args.wait:g}s)" if args.until_idle else " (Ctrl-C to stop)"),
        flush=True,
    )
    stats = host.run(until_idle=args.until_idle, wait=args.wait)
    print(f"done: {stats.completed} handled, {stats.retried} retried, {stats.poisoned} moved to the poison queue")
    return EXIT_OK


def cmd_status(args) -> int:
    """A page from the release's summaries and the shards the page covers; --json and --all read it whole."""
    from shared.adapters.table_store.pages import PageReads
    from shared.application.config import RELEASES_TABLE
    from shared.application.status_page import PageError, status_page
    from shared.application.views import release_status, status_doc_text

    s = checked_stack()
    now = s.clock.now()
    if args.json or args.all:
        if args.state or args.workload or args.page != 1:
            raise UsageError("--json and --all show every workload: leave out --state, --workload and --page")
        doc = release_status(s.store, s.judge_records, args.release, now, s.routing_progress)
        print(json.dumps(doc) if args.json else status_doc_text(doc))
        return EXIT_OK
    reads = PageReads(s.table(RELEASES_TABLE))
    try:
        doc = status_page(
            reads,
            s.judge_records,
            args.release,
            now,
            state=args.state,
            workload=args.workload,
            page=args.page,
            progress=s.routing_progress,
        )
    except PageError as exc:
        raise UsageError(str(exc)) from None
    print(status_doc_text(doc))
    return EXIT_OK


def cmd_history(args) -> int:
    """Oldest first; --page: one page of 500 (the whole history is read: it is kept newest first)."""
    from shared.adapters.table_store.pages import PageReads
    from shared.application.config import RELEASES_TABLE
    from shared.application.status_page import HISTORY_PAGE_SIZE, page_count
    from shared.application.views import history_json, history_text

    s = checked_stack()
    overview = PageReads(s.table(RELEASES_TABLE)).overview(args.release)
    if args.workload and args.workload not in overview.release.workloads:
        raise UsageError(f"workload {args.workload!r} is not part of release {args.release}")
    entries = s.store.list_history(args.release, args.workload)
    if args.page is not None:
        pages = page_count(len(entries), HISTORY_PAGE_SIZE)
        if args.page > pages:
            raise UsageError(f"page {args.page}: the history has {pages} page(s) of {HISTORY_PAGE_SIZE}")
        first = (args.page - 1) * HISTORY_PAGE_SIZE
        entries, shown = entries[first : first + HISTORY_PAGE_SIZE], (first, len(entries), pages)
    print(json.dumps(history_json(entries)) if args.json else history_text(entries))
    if args.page is not None and not args.json:
        first, total, pages = shown
        print(f"entries {first + 1:,}-{first + len(entries):,} of {total:,}, page {args.page} of {pages}")
    return EXIT_OK


def cmd_demo(args) -> int:
    from shared.local.demo import run_demo

    return run_demo(checked_stack())


def cmd_deadletters(args) -> int:
    from shared.application.config import DEADLETTER_TABLE, POISON_QUEUE
    from shared.domain.times import iso

    s = checked_stack()
    if s.settings.uses_servicebus:
        rows = [dict(r) for r in s.table(DEADLETTER_TABLE).list_entities()]
        records = [{"reason": r["reason"], "dead_lettered_at": iso(r["at"]), "body": r["body"]} for r in rows]
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
    "run": cmd_run,
    "status": cmd_status,
    "history": cmd_history,
    "demo": cmd_demo,
    "deadletters": cmd_deadletters,
}

if __name__ == "__main__":
    sys.exit(main())
