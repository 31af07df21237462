"""What every `promote` command shares: exit statuses, the usage error, argument types, the checked stack and the
local host. The command modules import from here, never from `cli` (which imports them): no import cycles."""

from __future__ import annotations

import argparse
import math
from datetime import UTC, datetime
from urllib.parse import urlparse

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2
MAX_LAG_SECONDS = 10 * 365 * 24 * 3600  # what a replication-lag message accepts (shared/domain/messages.py)


class UsageError(Exception):
    """Bad usage or invalid input: exit 2."""


def now() -> datetime:
    return datetime.now(UTC)


def seconds(text: str) -> float:
    """A number of seconds >= 0 (argparse type: anything else is a usage error, exit 2)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"must be a number of seconds >= 0, got {text!r}")
    return value


def positive(text: str) -> int:
    """A whole number >= 1 (argparse type: a page number)."""
    if not (text.isascii() and text.isdigit()) or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1, got {text!r}")
    return int(text)


def duration_seconds(text: str) -> float:
    """A number of seconds >= 0 (1.5) or a duration as plans write it (5s, 2m, 1h30m): argparse type."""
    from shared.domain.plan import parse_duration

    try:
        return seconds(text)
    except argparse.ArgumentTypeError:
        pass
    try:
        return float(parse_duration(text, limit=MAX_LAG_SECONDS, what="a replication lag"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be a number of seconds >= 0 or a duration like 5s, 2m or 1h30m (at most "
            f"{MAX_LAG_SECONDS // 86400}d), got {text!r}"
        ) from None


def checked_stack():
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


def alongside(judge, stack):
    from shared.application.migrate_watch import alongside as watch_alongside

    return watch_alongside(judge, stack)


def local_host(stack, **kwargs):
    """The local Functions host on the stack's queue (`promote run`, the demo, the tests)."""
    from shared.application.config import LOCAL_QUEUE
    from shared.local.localhost import LocalHost

    kwargs.setdefault("deliverer", stack.deliverer)
    kwargs.setdefault("judge", stack.judge.round)  # the local host runs the health judge's rounds
    kwargs["judge"] = alongside(kwargs["judge"], stack)  # and Azure Migrate's vault watcher's (v3 §16)
    return LocalHost(
        queue=stack.queue(LOCAL_QUEUE),
        dead_letters=stack.dead_letters,
        scheduler=stack.local_scheduler,
        clock=stack.clock,
        **kwargs,
    )
