"""MetricsSource adapters (contract §10): `local` (a record in the local stack), `azure-monitor-logs` (KQL via
LogsQueryClient) and `azure-monitor-metrics` (platform metrics via MetricsClient). SDKs are imported by the
module that needs them, when first used."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from shared.domain.health import Reading


class MetricsSources:
    """The MetricsSource port over every provider: each check goes to its provider's source, built on first use,
    which reads it for all the workloads of a round at once. A source that fails as a whole makes each of its
    checks inconclusive, never a verdict."""

    def __init__(self, factories: dict[str, Callable[[], Any]]):
        self._factories, self._sources = factories, {}  # type: ignore[var-annotated]

    def source(self, provider: str) -> Any:
        if provider not in self._sources:
            self._sources[provider] = self._factories[provider]()
        return self._sources[provider]

    @property
    def calls(self) -> int:
        """Monitor (or local store) calls made so far, over every source built."""
        return sum(getattr(s, "calls", 0) for s in self._sources.values())

    def read(self, release: str, workload: str, checks: list, start: datetime, end: datetime) -> dict[str, Reading]:
        return self.read_many(release, [(workload, checks, start, end)]).get(workload, {})

    def read_many(self, release: str, requests: list, budget: Any = None) -> dict[str, dict[str, Reading]]:
        """[(workload, checks, start, end)] -> workload -> check -> Reading: each provider reads its checks of
        every workload at once (one Log Analytics query per check and window, metrics in batches of 50)."""
        out: dict[str, dict[str, Reading]] = {w: {} for w, *_ in requests}
        by_provider: dict[str, list[tuple]] = {}
        for workload, checks, start, end in requests:
            mine: dict[str, list] = {}
            for check in checks:
                mine.setdefault(check.provider, []).append(check)
            for provider, group in mine.items():
                by_provider.setdefault(provider, []).append((workload, group, start, end))
        for provider, asking in by_provider.items():
            try:
                got = self.source(provider).read_many(release, asking, budget)
            except Exception as exc:  # noqa: BLE001 - an outage is no data, for every check it covers
                error = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"[:300]
                got = {w: {c.name: Reading(error=error) for c in group} for w, group, _, _ in asking}
            for workload, readings in got.items():
                out[workload].update(readings)
        return out


def metrics_sources(settings: Any, local_table: Callable[[], Any]) -> MetricsSources:
    def local() -> Any:
        from shared.adapters.metrics.local import LocalMetrics

        return LocalMetrics(local_table())

    def logs() -> Any:
        from shared.adapters.metrics.logs import LogsSource

        return LogsSource(settings)

    def metrics() -> Any:
        from shared.adapters.metrics.platform import PlatformMetricsSource

        return PlatformMetricsSource(settings)

    return MetricsSources({"local": local, "azure-monitor-logs": logs, "azure-monitor-metrics": metrics})
