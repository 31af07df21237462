"""`promote send --file FILE|-` (contract §14): CloudEvents JSON documents, one a line (the same documents as
§2), published in order. Every line is checked first: a line that is not JSON, not a valid CloudEvent of a
type anyone may send, or names a release never applied or a workload its release does not have refuses the
whole file (exit 2, each bad line named by its number and why) and nothing is queued. Blank lines are skipped.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from shared.local.common import EXIT_OK, UsageError, checked_stack

SHOWN_PROBLEMS = 50  # bad lines named (the count says how many more)


def read_lines(path: str) -> tuple[list[str], str]:
    if path == "-":
        return sys.stdin.read().splitlines(), "<stdin>"
    file = Path(path)
    if not file.is_file():
        raise UsageError(f"event file {path} does not exist" + (" (it is a directory)" if file.is_dir() else ""))
    try:
        return file.read_text(encoding="utf-8").splitlines(), path
    except UnicodeDecodeError as exc:
        raise UsageError(f"event file {path} is not UTF-8 text: {exc.reason} at byte {exc.start}") from None


def check_line(text: str, *, on_azure: bool) -> tuple[dict | None, str | None]:
    """(the event, None), or (None, why it cannot be sent)."""
    from shared.domain.errors import MessageError
    from shared.domain.messages import PROMOTE_SOURCE, PUBLIC_TYPES, parse_message

    try:
        doc = json.loads(text)
    except ValueError as exc:
        return None, f"not JSON ({exc})"
    if not isinstance(doc, dict):
        return None, "not a JSON object (a CloudEvents document)"
    if doc.get("type") not in PUBLIC_TYPES:
        return None, f"type {str(doc.get('type'))[:80]!r} is not one a sender may use ({', '.join(PUBLIC_TYPES)})"
    try:
        message = parse_message(text)
    except MessageError as exc:
        return None, f"not a valid CloudEvent: {exc}"
    if str(message.source).startswith(PROMOTE_SOURCE):
        return None, f"source {message.source!r} is promote's own"
    if on_azure and message.type == "override":
        return None, "on Azure, overrides go through the override endpoint (promote override)"
    return doc, None


def known_problem(doc: dict, releases: dict[str, Any], reads: Any) -> str | None:
    """Why the event's release or workload is unknown (None: both are known). One read a release."""
    from shared.domain.errors import UnknownRelease

    data = doc["data"]
    name, workload = data["release"], data.get("workload")
    if name not in releases:
        try:
            releases[name] = set(reads.overview(name).release.workloads)
        except UnknownRelease:
            releases[name] = None
    if releases[name] is None:
        return f"release {name} was never applied"
    if workload is not None and workload not in releases[name]:
        return f"workload {workload!r} is not part of release {name}"
    return None


def send_file(path: str) -> int:
    from shared.adapters.table_store.pages import PageReads
    from shared.application.bootstrap import stack
    from shared.application.config import RELEASES_TABLE

    lines, name = read_lines(path)
    s = stack()
    on_azure = s.settings.uses_servicebus
    reads = PageReads(checked_stack().table(RELEASES_TABLE))
    events, problems, releases = [], [], {}  # type: ignore[var-annotated]
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        doc, why = check_line(text, on_azure=on_azure)
        if doc is not None:
            why = known_problem(doc, releases, reads)
        if why is not None:
            problems.append(f"line {number}: {why}")
        else:
            events.append(doc)
    if problems:
        shown = problems[:SHOWN_PROBLEMS]
        more = f"\n  ... and {len(problems) - len(shown)} more" if len(problems) > len(shown) else ""
        raise UsageError(f"{name}: {len(problems)} bad line(s), nothing queued:\n  " + "\n  ".join(shown) + more)
    if not events:
        raise UsageError(f"{name} holds no event: nothing queued")
    for event in events:
        s.publisher.publish(event)
    where = "the Service Bus topic promotion-events" if on_azure else "the local queue promotion-events"
    host = "the function app" if on_azure else "a host (`promote run`)"
    print(f"queued {len(events):,} event(s) from {name} on {where}, in order; {host} decides them")
    return EXIT_OK
