"""Delivery of the notification outbox (contract §11): at least once, each notice with its stable id, retried
with backoff, never holding the state machine (it runs apart from message handling: a thread of the local
host, a timer function on Azure).

A receiver that refuses a notice for good (HTTP 400, 401, 403, 404: a body, a key, a role or a URL that a retry
does not change) is not tried again: that target shows `failed` with the reason at once, and the others of the
row go on. Anything else (no answer, 5xx, 429, a redirect, a setting not set yet) is retried up to
`max_attempts`."""

from __future__ import annotations

import logging
import random
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from shared.application import config
from shared.application.ports import Clock, Notifier, Outbox, OutboxItem
from shared.domain.errors import ConflictError, DeliveryError
from shared.domain.times import iso

log = logging.getLogger("promote.notifications")
PERMANENT_STATUSES = frozenset({400, 401, 403, 404})  # the receiver's answer will be the same next time


def backoff_seconds(
    attempts: int,
    *,
    base: float = config.NOTIFY_BACKOFF_BASE_SECONDS,
    cap: float = config.NOTIFY_BACKOFF_CAP_SECONDS,
    rng: random.Random | None = None,
) -> float:
    """Exponential, capped, with up to 25% jitter so a recovered receiver is not hit by every row at once."""
    delay = min(cap, base * (2 ** max(0, attempts - 1)))
    return delay * (1 + 0.25 * (rng or random).random())


@dataclass
class DeliveryRound:
    delivered: int = 0  # notice x target deliveries accepted in this round
    failed_attempts: int = 0
    rows_done: int = 0
    rows_given_up: int = 0
    errors: list[str] = field(default_factory=list)


class NotificationDeliverer:
    def __init__(
        self,
        outbox: Outbox,
        notifiers: Mapping[str, Notifier],
        setting: Callable[[str], str | None],
        clock: Clock,
        *,
        max_attempts: int = config.NOTIFY_MAX_ATTEMPTS,
        backoff: Callable[[int], float] = backoff_seconds,
    ):
        self.outbox, self.notifiers, self.setting, self.clock = outbox, notifiers, setting, clock
        self.max_attempts, self.backoff = max_attempts, backoff

    def deliver_due(self, limit: int = 50, budget_seconds: float | None = None) -> DeliveryRound:
        """One round over the due rows; with a budget, no new row is started once it is spent."""
        import time

        round_, started = DeliveryRound(), time.monotonic()
        for item in self.outbox.due(self.clock.now(), limit):
            if budget_seconds is not None and time.monotonic() - started > budget_seconds:
                break
            self._deliver(item, round_)
        return round_

    def _deliver(self, item: OutboxItem, round_: DeliveryRound) -> None:
        sent, errors = set(item.sent), dict[int, str]()
        # targets that refused for good in an earlier round: not tried again, their reason kept
        refused = refused_targets(item.last_error)
        errors.update({i: e for i, e in (target_errors(item.last_error) or {}).items() if i in refused})
        for notice, index, target in item.deliveries():
            key = f"{notice['id']}@{index}"
            if key in sent or index in refused:
                continue
            try:
                self._send(notice, target)
            except DeliveryError as exc:
                round_.failed_attempts += 1
                round_.errors.append(str(exc))
                if getattr(exc, "status", None) in PERMANENT_STATUSES:
                    refused.add(index)  # its other notices too: the answer would be the same
                    errors[index] = f"{exc} (refused: not retried)"
                    log.error("notifications of %s/%s: %s refused for good: %s", item.release, item.key, key, exc)
                else:
                    errors.setdefault(index, str(exc))  # each target's own error, for the listing
                continue  # the other targets still get theirs
            sent.add(key)
            round_.delivered += 1
        error = errors_text(errors, refused) if errors else None
        attempts = item.attempts + 1
        left = [k for n, i, _ in item.deliveries() if (k := f"{n['id']}@{i}") not in sent and i not in refused]
        if not left and not refused:
            status, next_attempt = "sent", self.clock.now()
            round_.rows_done += 1
        elif not left or attempts >= self.max_attempts:
            status, next_attempt = "failed", self.clock.now()
            round_.rows_given_up += 1
            log.error(
                "notifications of %s/%s given up after %d attempts: %s",
                item.release,
                item.key,
                attempts,
                "; ".join(errors.values()),
            )
        else:
            status, next_attempt = "pending", self.clock.now() + timedelta(seconds=self.backoff(attempts))
            log.warning(
                "notifications of %s/%s not delivered (attempt %d): %s",
                item.release,
                item.key,
                attempts,
                "; ".join(errors.values()),
            )
        try:
            self.outbox.record(
                item,
                sent=frozenset(sent),
                status=status,
                attempts=attempts,
                next_attempt=next_attempt,
                last_error=error,
            )
        except ConflictError:
            pass  # another deliverer got there first; what we sent again carries the same ids

    def _send(self, notice: dict, target: dict) -> None:
        url = self.setting(target["url_setting"])
        if not url:
            raise DeliveryError(f"{target['kind']}: setting {target['url_setting']} is not set")
        if not _acceptable_url(url):
            raise DeliveryError(
                f"{target['kind']}: setting {target['url_setting']} does not hold an https URL "
                "(plain http only to this machine)"
            )
        notifier = self.notifiers.get(target["kind"])
        if notifier is None:
            raise DeliveryError(f"no notifier for kind {target['kind']!r}")
        notifier.send(url, notice, target=target)


def _acceptable_url(url: str) -> bool:
    """https anywhere; plain http only to this machine (local receivers, tests)."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    if parts.scheme == "https" and parts.hostname:
        return True
    return parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1")


# A row's `last_error` holds each failing target's own error, one line each: `#<target index> <error>`, or
# `#<target index>! <error>` for a target that refused for good (never tried again). Each is clipped so that all
# fit in what the outbox keeps of it (shared/adapters/outbox.py keeps 500 characters).
ERROR_ROOM = 500
_ERROR_LINE = re.compile(r"#(\d+)(!?) (.*)")


def errors_text(errors: dict[int, str], refused: set[int] | frozenset[int] = frozenset()) -> str:
    room = ERROR_ROOM // len(errors) - len("#9! \n")
    return "\n".join(
        f"#{i}{'!' if i in refused else ''} {' '.join(text.split())[:room]}" for i, text in sorted(errors.items())
    )


def _lines(text: str | None) -> list[re.Match[str]] | None:
    if not text:
        return None
    lines = [_ERROR_LINE.fullmatch(line) for line in text.split("\n")]
    return [m for m in lines if m] if all(lines) else None


def target_errors(text: str | None) -> dict[int, str] | None:
    """Target index -> its error. None when `text` is one error for the whole row, as rows written before
    errors were kept per target have it: it then stands for every target the row did not reach."""
    lines = _lines(text)
    return None if lines is None else {int(m.group(1)): m.group(3) for m in lines}


def refused_targets(text: str | None) -> set[int]:
    """The targets of a row that refused for good (see PERMANENT_STATUSES)."""
    return {int(m.group(1)) for m in _lines(text) or [] if m.group(2)}


def notifications_json(items: list[OutboxItem]) -> list[dict[str, Any]]:
    """One line per notice and target: `promote notifications --json`. Never contains a URL."""
    out = []
    for item in items:
        per_target, refused = target_errors(item.last_error), refused_targets(item.last_error)
        for notice, index, target in item.deliveries():
            delivered = f"{notice['id']}@{index}" in item.sent
            gave_up = item.status == "failed" or index in refused
            status = "sent" if delivered else ("failed" if gave_up else "pending")
            error = item.last_error if per_target is None else per_target.get(index)
            out.append(
                {
                    "id": notice["id"],
                    "kind": notice["kind"],
                    "release": notice["release"],
                    "workload": notice["workload"],
                    "at": notice["at"],
                    "target": target["kind"],
                    "url_setting": target["url_setting"],
                    "status": status,
                    "attempts": item.attempts,
                    "next_attempt": None if status != "pending" else iso(item.next_attempt),
                    "last_error": None if delivered else error,
                    "reason": notice["reason"],
                }
            )
    return out


def notifications_text(rows: list[dict[str, Any]]) -> str:
    from shared.application.views import _table

    counts = {s: sum(1 for r in rows if r["status"] == s) for s in ("sent", "pending", "failed")}
    table = _table(
        ["AT", "KIND", "WORKLOAD", "TARGET", "STATUS", "ATTEMPTS", "ID", "LAST ERROR"],
        [
            [
                r["at"],
                r["kind"],
                r["workload"] or "-",
                f"{r['target']} ({r['url_setting']})",
                r["status"],
                str(r["attempts"]),
                r["id"],
                r["last_error"] or "",
            ]
            for r in rows
        ],
    )
    return table + f"\n\n{counts['sent']} sent, {counts['pending']} pending, {counts['failed']} failed"
