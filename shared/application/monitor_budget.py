"""The judge's Azure Monitor budget (architecture §24): one per process, i.e. per principal, shared by every
release it judges. Log Analytics queries are paced under the plan's `budgets.logs_queries_per_30s` (a sliding
window on the judge's clock); a 429 from either API stops further calls to it until its Retry-After has passed.
A call the budget holds back is not sent: its readings are `throttled` and the evaluation waits for a later
round, so a throttle is never counted as no data, let alone a verdict."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import datetime
from typing import Any, Protocol

from shared.domain.plan.budgets import LOGS_QUERIES_PER_30S
from shared.domain.query_budget import QueryWindow, paced

DEFAULT_RETRY_AFTER = 5.0  # seconds waited after a 429 that does not say


class BatchedMetricsSource(Protocol):
    """(§10, §15) Reads the checks of many workloads of one release at once: one Log Analytics query per check
    and window (`summarize ... by workload`), metrics in batches of at most 50 resources. A failed or partial
    read is a Reading with an `error`; a throttled one a Reading with `throttled`."""

    def read_many(self, release: str, requests: list, budget: MonitorBudget | None = None) -> dict:
        """[(workload, checks, start, end)] -> workload -> check name -> shared.domain.health.Reading."""


class MonitorBudget:
    def __init__(self, clock: Any, logs_queries_per_30s: int = LOGS_QUERIES_PER_30S):
        self.clock, self.logs_limit = clock, logs_queries_per_30s
        self.limits: dict[str, int] = {}  # release -> its plan's budgets.logs_queries_per_30s
        self.asked: dict[str, float] = {}  # release -> when it last asked for a Log Analytics query
        self.lock = threading.Lock()
        self.windows = {"logs": QueryWindow(), "metrics": QueryWindow()}
        self.sent: Counter = Counter()  # calls let through, per API
        self.held: Counter = Counter()  # calls held back (pacing or a Retry-After), per API
        self.throttles: Counter = Counter()  # 429s Azure answered, per API

    def now(self) -> float:
        moment = self.clock.now()
        return moment.timestamp() if isinstance(moment, datetime) else float(moment)

    def take(self, api: str, release: str | None = None) -> float:
        """0: send the call now (it is counted); else the seconds until it may be sent (it is not)."""
        with self.lock:
            window, now = self.windows[api], self.now()
            # metrics: no documented call rate, only Retry-After holds them back
            cap = paced(self._logs_limit(release, now, window.period)) if api == "logs" else 1 << 30
            wait = window.take(now, cap)
            (self.held if wait else self.sent)[api] += 1
            return wait

    def _logs_limit(self, release: str | None, now: float, period: float) -> int:
        """The budget is the identity's, one window for every release: the smallest any release asking within the
        window states holds for all (counted against the default, the window's other queries would always take
        the room a smaller figure leaves, and that release would wait forever)."""
        if release is not None:
            self.asked[release] = now
        for name, at in list(self.asked.items()):
            if at <= now - period:
                del self.asked[name]
        return min([self.limits.get(name, self.logs_limit) for name in self.asked] or [self.logs_limit])

    def blocked(self, api: str) -> float:
        """Seconds until a 429's Retry-After has passed (0: none pending): checked again just before a call that
        waited for a slot is sent, since an answer in the meantime may have been a 429."""
        with self.lock:
            return max(0.0, self.windows[api].blocked_until - self.now())

    def throttled(self, api: str, retry_after: float | None) -> float:
        """Azure answered 429: nothing more to this API until its Retry-After has passed. Returns the wait."""
        wait = DEFAULT_RETRY_AFTER if retry_after is None else retry_after
        with self.lock:
            self.windows[api].block(self.now(), wait)
            self.throttles[api] += 1
        return wait
