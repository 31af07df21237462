"""Instruments for the bench: HTTP requests by table, kind and message; latency percentiles; memory."""

from __future__ import annotations

import contextvars
import itertools
import math
import os
import re
import resource
import sys
import threading
import time
from array import array
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from bench.metering import RequestCounter, request_kind

# The first sub-request of a $batch body: "PATCH http://host/account/table(PartitionKey=..) HTTP/1.1"
_BATCH_LINE = re.compile(rb"^(?:GET|POST|PUT|PATCH|MERGE|DELETE) (\S+) HTTP/1\.1\r?$", re.MULTILINE)
READS = ("query", "point-read")


def _table(path: str) -> str:
    segment = path.rstrip("/").rsplit("/", 1)[-1]
    return segment.split("(", 1)[0]


def table_of(http_request) -> str:
    """The table a request is about. A transaction goes to the account's $batch endpoint: its table is named
    in the sub-requests of the multipart body (a transaction never spans two tables)."""
    path = urlsplit(http_request.url).path
    if path.endswith("$batch"):
        body = http_request.body if isinstance(http_request.body, bytes) else b""
        match = _BATCH_LINE.search(body)
        return _table(urlsplit(match.group(1).decode()).path) if match else "?"
    return _table(path)


class PerContext:
    """threading.local's interface over context variables: a thread of promote's own that runs in the message's
    copied context (shared/adapters/concurrently.py: a release move's catch-up) counts for that message, while
    each worker thread of a bench starts with a context of its own, as with threading.local."""

    def __init__(self) -> None:
        object.__setattr__(self, "_vars", {})

    def __getattr__(self, name: str):
        try:
            return self._vars[name].get()
        except LookupError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value) -> None:
        self._vars.setdefault(name, contextvars.ContextVar(f"bench_{name}")).set(value)  # one variable per name


class BenchCounter(RequestCounter):
    """bench.metering.RequestCounter (total requests by kind) plus, for the bench: requests by
    (category, table, kind), transaction body bytes, and the requests of the message being handled on this
    thread (the SDK pipeline is synchronous, so the hook runs on the thread that made the call, or one that
    carries its context)."""

    def __init__(self):
        super().__init__()
        self._bench_lock = threading.Lock()
        self._local = PerContext()
        self.detail: Counter[tuple[str, str, str]] = Counter()
        self.batch_bytes: Counter[str] = Counter()
        self.batches: Counter[str] = Counter()

    def __call__(self, request) -> None:
        super().__call__(request)
        http = request.http_request
        kind, table = request_kind(http.method, http.url), table_of(http)
        category = getattr(self._local, "category", "setup")
        with self._bench_lock:
            self.detail[(category, table, kind)] += 1
            if kind == "transaction":
                self.batches[category] += 1
                self.batch_bytes[category] += len(http.body) if isinstance(http.body, (bytes, str)) else 0
        current = getattr(self._local, "current", None)
        if current is not None:
            with self._bench_lock:  # the storage calls a message makes several at a time count for it too
                current[(table, kind)] += 1

    # -- per thread ---------------------------------------------------------------------------
    def category(self, name: str) -> None:
        """Requests made on this thread from now on belong to `name`."""
        self._local.category = name

    def begin(self) -> None:
        self._local.current = Counter()

    def end(self) -> Counter:
        current, self._local.current = self._local.current, None
        return current

    # -- summaries ----------------------------------------------------------------------------
    def by(self, category: str, table: str | None = None) -> Counter:
        out: Counter[str] = Counter()
        for (cat, tab, kind), n in self.detail.items():
            if cat == category and (table is None or tab == table):
                out[kind] += n
        return out

    def scans(self) -> int:
        return sum(n for (_, _, kind), n in self.detail.items() if kind == "scan")


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return float("nan")
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


@dataclass
class Latencies:
    """Per-message wall time in milliseconds, in a flat array of doubles (8 bytes a sample, no Python object
    per sample, so the bench's own bookkeeping hardly shows in the memory it measures)."""

    values: array = field(default_factory=lambda: array("d"))

    def add(self, ms: float) -> None:
        self.values.append(ms)

    def extend(self, other: Latencies) -> None:
        self.values.extend(other.values)

    def summary(self) -> dict[str, float]:
        v = sorted(self.values)
        return {
            "n": len(v),
            "p50_ms": percentile(v, 50),
            "p90_ms": percentile(v, 90),
            "p99_ms": percentile(v, 99),
            "max_ms": v[-1] if v else float("nan"),
            "mean_ms": sum(v) / len(v) if v else float("nan"),
        }


# -- CPU ---------------------------------------------------------------------------------------
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def process_cpu_s(pid: int | None) -> float:
    """User + system CPU seconds of another process (Linux /proc), 0.0 when unknown."""
    if pid is None:
        return 0.0
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime
    except (OSError, IndexError, ValueError):
        return 0.0


class CpuClock:
    """CPU seconds of this Python process (all threads) and of the storage emulator's process."""

    def __init__(self, storage_pid: int | None = None):
        self.storage_pid = storage_pid

    def read(self) -> tuple[float, float]:
        return time.process_time(), process_cpu_s(self.storage_pid)


# -- memory ------------------------------------------------------------------------------------
def rss_mb() -> float | None:
    """Current resident set size (Linux /proc), None elsewhere."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024  # bytes on macOS, KiB on Linux


def memory_snapshot(messages: int) -> dict[str, float | int | None]:
    return {
        "messages": messages,
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "rss_mb": None if (r := rss_mb()) is None else round(r, 1),
        "python_blocks": sys.getallocatedblocks(),
    }


class MemoryProbe:
    """Counts every message handled by the function (all threads) and snapshots memory at the marks."""

    def __init__(self, marks=(1_000, 10_000)):
        self.marks = set(marks)
        self.samples: dict[int, dict] = {}
        self._count = itertools.count(1)  # next() on itertools.count is atomic under the GIL
        self.handled = 0

    def tick(self) -> None:
        n = next(self._count)
        self.handled = n
        if n in self.marks:
            self.samples[n] = memory_snapshot(n)
