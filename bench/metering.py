"""Counts real HTTP requests to storage through the SDK pipeline: the bench's and the tests' meter (not shipped)."""

from __future__ import annotations

import threading
from collections import Counter


class RequestCounter:
    """A raw_request_hook: every request that goes on the wire is counted, retries included."""

    def __init__(self):
        self._lock = threading.Lock()
        self.by_kind: Counter[str] = Counter()

    def __call__(self, request) -> None:
        http = request.http_request
        with self._lock:
            self.by_kind[request_kind(http.method, http.url)] += 1

    @property
    def total(self) -> int:
        return sum(self.by_kind.values())

    def reset(self) -> None:
        with self._lock:
            self.by_kind.clear()


def request_kind(method: str, url: str) -> str:
    path = url.split("?", 1)[0]
    if path.endswith("$batch"):
        return "transaction"
    if method == "GET" and "PartitionKey=" in path and "RowKey=" in path:
        return "point-read"
    if method == "GET" and ("$filter=" in url or "%24filter=" in url):
        return "query" if "PartitionKey%20eq" in url or "PartitionKey eq" in url else "scan"
    return f"{method.lower()}"
