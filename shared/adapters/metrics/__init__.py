"""MetricsSource adapters (contract §10): `local` (a record in the local stack), `azure-monitor-logs` (KQL via
LogsQueryClient) and `azure-monitor-metrics` (platform metrics via MetricsClient). SDKs are imported by the
module that needs them, when first used."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from shared.domain.health import Reading


class MetricsSources:
    """The MetricsSource port over every provider: each workload's checks go to their provider's source, built
    on first use. A source that fails as a whole makes each of its checks inconclusive, never a verdict."""

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
        readings: dict[str, Reading] = {}
        by_provider: dict[str, list] = {}
        for check in checks:
            by_provider.setdefault(check.provider, []).append(check)
        for provider, group in by_provider.items():
            try:
                readings.update(self.source(provider).read(release, workload, group, start, end))
            except Exception as exc:  # noqa: BLE001 - an outage is no data, for every check it covers
                error = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"[:300]
                readings.update({c.name: Reading(error=error) for c in group})
        return readings


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
