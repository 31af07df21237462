"""`promote notifications` and `promote board`: registers its commands into the CLI."""

from __future__ import annotations

import json


def register(sub) -> dict:
    """Add this module's subcommands to the `promote` parser; return {command name: handler(args) -> exit code}."""
    from shared.application.config import BOARD_PORT

    notes = sub.add_parser("notifications", help="notifications of a release: sent, pending and failed")
    notes.add_argument("--release", required=True, help="the release (as applied)")
    notes.add_argument("--json", action="store_true", help="one JSON array instead of a table")
    board = sub.add_parser("board", help=f"serve the board for the local stack (http://127.0.0.1:{BOARD_PORT})")
    board.add_argument("--port", type=int, default=BOARD_PORT, help=f"default {BOARD_PORT}")
    board.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)"
    )
    board.add_argument(
        "--actor",
        help="act from the board as this identity (as `promote override --actor`: the plan's operators and "
        "approvers decide what it may do); without it the board only shows",
    )
    return {"notifications": cmd_notifications, "board": cmd_board}


def cmd_notifications(args) -> int:
    from shared.application.notifications import notifications_json, notifications_text
    from shared.local.common import checked_stack

    s = checked_stack()
    s.store.get_release(args.release)  # UnknownRelease -> exit 2 with the usual message
    rows = notifications_json(s.outbox.list_release(args.release))
    print(json.dumps(rows) if args.json else notifications_text(rows))
    return 0


def cmd_board(args) -> int:
    from shared.local.board import serve
    from shared.local.common import UsageError, checked_stack

    if not 0 < args.port < 65536:
        raise UsageError(f"--port {args.port} is not a TCP port")
    if args.actor and args.host not in ("127.0.0.1", "localhost", "::1"):
        raise UsageError(
            f"--actor with --host {args.host}: anyone who reaches the board would act as {args.actor}; "
            "serve an acting board on this machine only (the default --host 127.0.0.1)"
        )
    s = checked_stack()
    if args.actor and s.settings.uses_servicebus:
        raise UsageError(
            "--actor acts through the local queue; on Azure act from the function app's board, where the actor "
            "is your Entra ID sign-in (an override on the topic without its proof is rejected)"
        )
    return serve(s, host=args.host, port=args.port, actor=args.actor)
