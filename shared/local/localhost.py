"""The local host: takes messages from the Azurite queue and invokes the function registered in
function_app.py, the way the Functions host would (delivery counts, retries, a poison queue)."""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from azure.core.exceptions import AzureError

from shared.application.config import LOCAL_BATCH, LOCAL_LOCK_SECONDS, LOCAL_MAX_DELIVERY, local_retry_delay

log = logging.getLogger("promote.localhost")
# Delivery settings: shared/application/config.py says each one and how it differs from Azure.
MAX_DELIVERY = LOCAL_MAX_DELIVERY
LOCK_SECONDS = LOCAL_LOCK_SECONDS  # how long a received message stays invisible to other hosts while handled
FINAL_ROUND_SECONDS = 5.0  # `run --until-idle` gives undelivered notifications this long, then returns
ROUND_SECONDS = 10.0  # a delivery round starts no new row after this, so stopping the host stays quick
JUDGE_GAP_SECONDS = 0.5


@lru_cache(maxsize=1)
def registered_functions() -> dict[str, Callable]:
    """The user functions function_app.py registers, by name. Indexed once: the app refuses a second indexing,
    as the Functions host indexes it once."""
    from function_app import app

    return {str(f.get_function_name()): f.get_user_function() for f in app.get_functions()}


def registered_function(name: str = "events") -> Callable:
    try:
        return registered_functions()[name]
    except KeyError:
        raise LookupError(f"function_app registers no function named {name!r}") from None


def service_bus_message(body: bytes, *, message_id: str, delivery_count: int, enqueued: datetime | None):
    """A real azure.functions.ServiceBusMessage, as the trigger binding would pass it."""
    from azure.functions.servicebus import ServiceBusMessage

    session = None
    try:
        doc = json.loads(body)
        session = doc.get("data", {}).get("release") if isinstance(doc, dict) else None
    except (ValueError, AttributeError):
        pass
    return ServiceBusMessage(
        body=body,
        message_id=message_id,
        delivery_count=delivery_count,
        session_id=session if isinstance(session, str) else None,
        content_type="application/cloudevents+json",
        enqueued_time_utc=enqueued,
        application_properties={},
        user_properties={},
    )


@dataclass
class HostStats:
    received: int = 0
    completed: int = 0
    retried: int = 0
    poisoned: int = 0
    outages: int = 0  # polls that failed because storage was unreachable
    errors: list[str] = field(default_factory=list)


class LocalHost:
    def __init__(
        self,
        *,
        queue,
        dead_letters,
        scheduler,
        function: Callable | None = None,
        max_delivery: int = MAX_DELIVERY,
        lock_seconds: int = LOCK_SECONDS,
        retry_delay: Callable[[int], int] = local_retry_delay,
        clock=None,
        deliverer=None,
        judge: Callable[[], Any] | None = None,
    ):
        self.queue, self.dead_letters, self.scheduler = queue, dead_letters, scheduler
        self.deliverer = deliverer  # notifications: delivered by a thread of their own, never in the way
        # (v2 §10) the health judge's round, run when an evaluation is due and after messages were handled
        self.judge, self.judge_due, self.judge_stale, self.judged_at = judge, None, True, float("-inf")
        self.function = function or registered_function()
        self.max_delivery, self.lock_seconds, self.retry_delay = max_delivery, lock_seconds, retry_delay
        self.clock = clock
        self.stats = HostStats()
        self.current: dict | None = None  # the event being delivered (parsed), for progress lines

    def _now(self) -> datetime:
        return self.clock.now() if self.clock else datetime.now(UTC)

    def process_once(self, max_messages: int = LOCAL_BATCH) -> int:
        """Receive one batch and handle each message; returns how many were received."""
        batch = list(
            self.queue.receive_messages(
                messages_per_page=max_messages, max_messages=max_messages, visibility_timeout=self.lock_seconds
            )
        )
        for message in batch:
            self._deliver(message)
        return len(batch)

    def _deliver(self, message) -> None:
        self.stats.received += 1
        body = message.content.encode() if isinstance(message.content, str) else bytes(message.content)
        self.current = _event(body)
        event_id = _event_id(self.current) or message.id
        try:
            self.function(
                service_bus_message(
                    body,
                    message_id=event_id or str(uuid.uuid4()),
                    delivery_count=message.dequeue_count,
                    enqueued=message.inserted_on,
                )
            )
        except Exception as exc:  # the host's job: count the delivery, retry or poison
            reason = f"{type(exc).__name__}: {exc}"
            self.stats.errors.append(reason)
            if message.dequeue_count >= self.max_delivery:
                self.dead_letters.dead_letter(
                    body,
                    f"failed {message.dequeue_count} deliveries; last error: {reason}",
                    delivery_count=message.dequeue_count,
                )
                self.queue.delete_message(message)
                self.stats.poisoned += 1
                log.error("message %s moved to the poison queue: %s", event_id, reason)
            else:
                self.queue.update_message(message, visibility_timeout=self.retry_delay(message.dequeue_count))
                self.stats.retried += 1
                log.warning("message %s failed delivery %d, will retry: %s", event_id, message.dequeue_count, reason)
            return
        self.queue.delete_message(message)
        if hasattr(self.scheduler, "delivered") and _is_timer(body):
            self.scheduler.delivered(event_id)
        self.stats.completed += 1

    def judge_round(self) -> int:
        """Run the judge if an evaluation is due (or messages may have started flights); verdicts published."""
        if self.judge is None:
            return 0
        due = self.judge_due is not None and self._now() >= self.judge_due
        # after messages, look for newly flighting workloads at most twice a second (a round reads every release)
        if not due and not (self.judge_stale and time.monotonic() - self.judged_at >= JUDGE_GAP_SECONDS):
            return 0
        self.judge_stale, self.judged_at = False, time.monotonic()
        run = self.judge()
        self.judge_due = run.next_due
        return len(run.published)

    def idle(self, wait: float, quiet_for: float = 0.0) -> bool:
        """Nothing visible was received; is anything still to come within `wait` seconds? Judge rounds keep
        coming while workloads flight, so they hold the host only until `wait` seconds pass without a message."""
        horizon = self._now() + timedelta(seconds=wait)
        dues = self.scheduler.pending_due() if hasattr(self.scheduler, "pending_due") else []
        if any(due <= horizon for due in dues):
            return False
        if self.judge is not None and self.judge_stale:
            return False  # messages were handled since the last round: it may find new flights to judge
        if self.judge_due is not None and self.judge_due <= horizon and quiet_for < wait:
            return False
        # Messages being retried (or held by another host) are counted, timers due later are not.
        waiting = self.queue.get_queue_properties().approximate_message_count or 0
        return waiting <= len(dues)

    def run(
        self,
        *,
        until_idle: bool = False,
        wait: float = 10.0,
        poll: float = 0.2,
        stop: Callable[[], bool] = lambda: False,
        outage_limit: float = 60.0,
    ) -> HostStats:
        """Process messages until `stop()`, or until idle. Storage outages are waited out (messages in
        flight are redelivered when their lock ends) for up to `outage_limit` seconds in a row."""
        pump = NotificationPump(self.deliverer) if self.deliverer is not None else None
        if pump:
            pump.start()
        try:
            return self._run(until_idle, wait, poll, stop, outage_limit)
        finally:
            if pump:
                pump.stop(final_round=until_idle)

    def _run(
        self, until_idle: bool, wait: float, poll: float, stop: Callable[[], bool], outage_limit: float
    ) -> HostStats:
        outage_since: float | None = None
        active_at = time.monotonic()  # the last message handled: judge rounds that publish nothing do not count
        while not stop():
            try:
                self.judge_round()
                if self.process_once():
                    outage_since = None
                    active_at, self.judge_stale = time.monotonic(), True
                    continue
                if until_idle and self.idle(wait, time.monotonic() - active_at):
                    return self.stats
                outage_since = None
            except (AzureError, OSError) as exc:
                now = time.monotonic()
                outage_since = outage_since or now
                self.stats.outages += 1
                if now - outage_since > outage_limit:
                    raise
                log.warning("storage unavailable (%s); retrying", _short(exc))
                time.sleep(min(2.0, 0.2 * self.stats.outages))
                continue
            time.sleep(poll)
        return self.stats


class NotificationPump:
    """Delivers the notification outbox beside the host's message loop: a receiver that is down or slow costs
    this thread time, never a message's handling."""

    def __init__(self, deliverer, interval: float = 0.5):
        import threading

        self.deliverer, self.interval = deliverer, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="promote-notifications", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.round(budget_seconds=ROUND_SECONDS)
            self._stop.wait(self.interval)

    def round(self, budget_seconds: float | None = None) -> None:
        try:
            self.deliverer.deliver_due(budget_seconds=budget_seconds)
        except Exception as exc:  # storage away: the outbox waits, the next round tries again
            log.warning("notification delivery round failed: %s", _short(exc))

    def stop(self, *, final_round: bool) -> None:
        self._stop.set()
        self._thread.join(timeout=ROUND_SECONDS + 10)  # a round in flight finishes its row (sends time out at 5s)
        if final_round:  # `run --until-idle`: what became due while we worked gets one more (short) try
            self.round(budget_seconds=FINAL_ROUND_SECONDS)


def _event(body: bytes) -> dict | None:
    try:
        doc = json.loads(body)
    except ValueError:
        return None
    return doc if isinstance(doc, dict) else None


def _event_id(doc: dict | None) -> str | None:
    value = doc.get("id") if doc is not None else None
    return value if isinstance(value, str) and value else None


def _short(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:200]


def _is_timer(body: bytes) -> bool:
    """A message promote scheduled for itself (bake, deadline, window, dependency, hypercare end, decommission
    and its retry, revocation retry): its note can go."""
    from shared.domain.messages import INTERNAL_TYPES, TIME_TYPES

    return any(f'"{kind}"'.encode() in body for kind in (*INTERNAL_TYPES, *TIME_TYPES))
