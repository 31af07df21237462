"""Azure Monitor's query budgets (contract §15, architecture §24), pure: time is passed in, nothing here reads a
clock or sleeps. The judge paces its Monitor reads with these figures so Azure rarely has to refuse them.

- Log Analytics: 200 queries per user in any 30 seconds (the plan's `budgets.logs_queries_per_30s`), 5 running at
  once per user (more wait in a queue; 429 when it is full or a query waited 3 minutes): "User query throttling"
  in Azure Monitor's service limits.
- The metrics data plane (`metrics:getBatch`, MetricsClient.query_resources): up to 50 unique resource ids per
  call, all of one subscription, region and resource type ("How to migrate from the metrics API to the getBatch
  API"). No call rate is documented; its throttling answers 429 (or 529) and is waited out like any other.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TypeVar

T = TypeVar("T")

LOGS_PERIOD_S = 30.0
LOGS_CONCURRENT = 5  # queries of one user running at once; the judge never has more in flight
METRICS_BATCH = 50  # unique resource ids per metrics:getBatch call
# The share of the Log Analytics budget the judge counts on: it counts a query when it sends it, Azure when it
# arrives, and the user's budget is shared with whatever else runs under promote's identity.
PACE = 0.95


def paced(limit: int, pace: float = PACE) -> int:
    """The queries per window the judge sends at most under a budget of `limit`."""
    return max(1, int(limit * pace))


@dataclass
class QueryWindow:
    """At most `limit` calls in any `period` seconds (a sliding window, as Log Analytics counts its budget), and
    none before `blocked_until` (a 429's Retry-After)."""

    period: float = LOGS_PERIOD_S
    sent: deque = field(default_factory=deque)
    blocked_until: float = 0.0

    def _forget(self, now: float) -> None:
        while self.sent and self.sent[0] <= now - self.period:
            self.sent.popleft()

    def take(self, now: float, limit: int) -> float:
        """Count a call at `now` and answer 0 if `limit` allows it; else count nothing and answer how long until
        it would."""
        if now < self.blocked_until:
            return self.blocked_until - now
        self._forget(now)
        if len(self.sent) < limit:
            self.sent.append(now)
            return 0.0
        return max(self.sent[len(self.sent) - limit] + self.period - now, 1e-3)

    def block(self, now: float, seconds: float) -> None:
        """Azure said 429 with this Retry-After: nothing more is sent until it has passed."""
        self.blocked_until = max(self.blocked_until, now + max(seconds, 0.0))

    def in_window(self, now: float) -> int:
        self._forget(now)
        return len(self.sent)


def chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """`items` in lists of at most `size`, in order."""
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def anchor_ms(started_ms: int, interval: int) -> int:
    """Where a flight's evaluations are counted from: its start rounded up to a multiple of `interval` (since the
    epoch). Every flight of one interval is then due at the same moments, so a release's due evaluations are made
    in one round and read with one query per check, at the cost of evaluating up to one interval later."""
    step = interval * 1000
    return -(-started_ms // step) * step
