"""Builds adapters from settings, lazily, once per process. Tests pass fakes into the same PromotionService."""

from __future__ import annotations

import threading
from functools import cached_property
from typing import Any

from shared.application import config
from shared.application.config import Settings, load_settings
from shared.application.service import PromotionService, SystemClock

# The SDKs retry transient faults; keep that short (about 5s in all) so a message whose storage is down
# fails fast and the platform redelivers it later, instead of holding its session lock for minutes.
# An answer is awaited 35 s at most: Azure ends a table operation at 30 s (a query's page at 5), and
# azure-core's default of 300 s would hold a message whose answer is lost for five minutes.
SDK_RETRY = {
    "retry_total": 3,
    "retry_backoff_factor": 0.5,
    "retry_backoff_max": 4,
    "connection_timeout": 5,
    "read_timeout": 35,
}


class Stack:
    """The SDK clients promote needs, for one storage account (Azurite locally) and, on Azure, Service Bus."""

    def __init__(self, settings: Settings, *, clock=None, request_hook=None):
        self.settings = settings
        self.clock = clock or SystemClock()
        self._request_hook = request_hook  # called for every HTTP request to tables, e.g. a counter (bench, tests)
        self._tables: dict[str, Any] = {}
        self._lock = threading.Lock()

    def credential(self):
        """The process's one token credential (DefaultAzureCredential: the managed identity on Azure), which the
        management clients, the Monitor clients and the notifiers share; it caches its tokens."""
        from shared.adapters.routing._arm import credential

        return credential(self.settings)

    # storage --------------------------------------------------------------------------------
    @cached_property
    def table_service(self):
        from azure.data.tables import TableServiceClient

        # azure-data-tables builds a fixed policy list; its CustomHookPolicy runs after the retry policy,
        # so the hook sees every request that goes on the wire, retries included.
        kwargs: dict[str, Any] = {"raw_request_hook": self._request_hook} if self._request_hook else {}
        kwargs.update(SDK_RETRY)
        if self.settings.tables_endpoint and not self.settings.storage_connection_string:
            return TableServiceClient(self.settings.tables_endpoint, credential=self.credential(), **kwargs)
        return TableServiceClient.from_connection_string(self.settings.storage, **kwargs)

    def table(self, name: str):
        """A table client; the table is created once per process if it does not exist yet."""
        with self._lock:
            if name not in self._tables:
                from azure.core.exceptions import HttpResponseError, ResourceExistsError

                try:
                    self.table_service.create_table(name)
                except ResourceExistsError:
                    pass
                except HttpResponseError as exc:  # a reader's role (Storage Table Data Reader) may not create
                    if exc.status_code != 403:
                        raise
                self._tables[name] = self.table_service.get_table_client(name)
            return self._tables[name]

    @cached_property
    def queue_service(self):
        from azure.storage.queue import ExponentialRetry, QueueServiceClient

        # The queue SDK's own default backs off 15s, 45s, ... : far too long for a local host.
        # (the SDK computes the backoff in floats; its annotation says int)
        retry = ExponentialRetry(initial_backoff=0.5, increment_base=2, retry_total=3)  # type: ignore[arg-type]
        return QueueServiceClient.from_connection_string(
            self.settings.storage, retry_policy=retry, connection_timeout=5
        )

    def queue(self, name: str):
        from azure.core.exceptions import ResourceExistsError

        client = self.queue_service.get_queue_client(name)
        try:
            client.create_queue()
        except ResourceExistsError:
            pass
        return client

    # ports ----------------------------------------------------------------------------------
    @cached_property
    def store(self):
        from shared.adapters.table_store import TableReleaseStore

        return TableReleaseStore(self.table(config.RELEASES_TABLE), self.settings.shard_size)

    @cached_property
    def servicebus(self):
        from shared.adapters.servicebus import ServiceBusTopic, client_from_settings

        return ServiceBusTopic(lambda: client_from_settings(self.settings))

    @cached_property
    def local_scheduler(self):
        from shared.adapters.local_queue import QueueScheduler

        return QueueScheduler(self.queue(config.LOCAL_QUEUE), self.table(config.SCHEDULE_TABLE), self.clock)

    @cached_property
    def publisher(self):
        if self.settings.uses_servicebus:
            return self.servicebus
        from shared.adapters.local_queue import QueuePublisher

        return QueuePublisher(self.queue(config.LOCAL_QUEUE))

    @cached_property
    def scheduler(self):
        return self.servicebus if self.settings.uses_servicebus else self.local_scheduler

    @cached_property
    def dead_letters(self):
        from shared.adapters.local_queue import QueueDeadLetters, TableDeadLetters

        if self.settings.uses_servicebus:
            return TableDeadLetters(self.table(config.DEADLETTER_TABLE), self.clock)
        return QueueDeadLetters(self.queue(config.POISON_QUEUE), self.clock)

    @cached_property
    def service(self) -> PromotionService:
        from shared.adapters.routing import access_revoker, router_factory
        from shared.application.override_proof import from_environ

        routing_table = lambda: self.table(config.ROUTING_TABLE)  # noqa: E731
        # Ports a message may never need are built on first use: a cold start touches only the store.
        service = PromotionService(
            store=self.store,
            routers=router_factory(routing_table, self.settings),
            scheduler=_Lazy(lambda: self.scheduler),
            revoker=access_revoker(routing_table, self.settings),
            dead_letters=_Lazy(lambda: self.dead_letters),
            clock=self.clock,
            overrides_need_principal=self.settings.overrides_need_principal,
            decommissioner=self.decommissioner,
            override_proofs=from_environ(),
        )
        service.migrator = self.migrator  # v3 §16: Azure Migrate (no SDK import until first used)
        service.progress = self.routing_progress  # v3 §15: a batch's routing progress, for status and the board
        return service

    @cached_property
    def routing_progress(self):
        """A release's routing progress: a row of its own in the release's partition (no table more)."""
        from shared.adapters.routing_progress import TableRoutingProgress

        return TableRoutingProgress(self.table(config.RELEASES_TABLE))

    @cached_property
    def migrator(self):
        from shared.adapters.migrate import AzureMigrator

        return AzureMigrator(self.settings)

    # notifications (contract §11) ------------------------------------------------------------
    @cached_property
    def outbox(self):
        from shared.adapters.outbox import TableOutbox

        return TableOutbox(self.table(config.RELEASES_TABLE))

    @cached_property
    def deliverer(self):
        import os

        from shared.adapters.notifiers import notifiers
        from shared.application.notifications import NotificationDeliverer

        def setting(name: str) -> str | None:  # URLs are read when sent, never stored or logged
            return os.environ.get(name) or None

        # the process's credential, asked for the configured cloud's Event Grid audience
        found = notifiers(
            setting, credential=self.credential, event_grid_audience=config.cloud(self.settings).event_grid_audience
        )
        return NotificationDeliverer(self.outbox, found, setting, self.clock)

    def board(self, base: str = "/"):
        """The board's renderer on this stack (the local server and the Azure routes), built once per base:
        its templates are compiled on first use and kept for the life of the process."""
        boards = self.__dict__.setdefault("_boards", {})
        if base not in boards:
            from shared.adapters.table_store import BoardReads
            from shared.application.board import BoardApp

            reads = BoardReads(self.table(config.RELEASES_TABLE))
            # the judge's records feed the release page's health panel, on Azure as locally (read lazily)
            boards[base] = BoardApp(self.store, reads, self.clock, base=base, judge=self.judge_records)
            boards[base].progress = self.routing_progress  # v3 §15: a release-level move's routing progress
        return boards[base]

    # (v2 §10) the health judge -----------------------------------------------------------------
    @cached_property
    def metrics_source(self):
        from shared.adapters.metrics import metrics_sources

        return metrics_sources(self.settings, lambda: self.table(config.METRICS_TABLE))

    @cached_property
    def local_metrics(self):
        """The `local` provider's record, which `promote metrics put` feeds."""
        return self.metrics_source.source("local")

    @cached_property
    def judge(self):
        from shared.adapters.judge_store import TableJudgeStore
        from shared.application.judge import Judge

        return Judge(
            store=self.store,
            records=TableJudgeStore(self.table(config.JUDGE_TABLE)),
            source=self.metrics_source,
            publisher=_Lazy(lambda: self.publisher),
            clock=self.clock,
        )

    @cached_property
    def judge_records(self):
        """The judge's records, for status: built (and its table created) only when a flight release asks."""
        return _Lazy(lambda: self.judge.records)

    @cached_property
    def decommissioner(self):
        from shared.adapters.decommission import decommissioner

        return decommissioner(lambda: self.table(config.ROUTING_TABLE), self.settings)


class _Lazy:
    """Stands for an adapter that is built the first time one of its methods is used."""

    def __init__(self, factory):
        self._factory, self._target = factory, None

    def __getattr__(self, name: str):
        if self._target is None:
            self._target = self._factory()
        return getattr(self._target, name)


_stack: Stack | None = None
_stack_lock = threading.Lock()


def stack() -> Stack:
    """The process-wide stack (function app and CLI), built on first use from the environment."""
    global _stack
    with _stack_lock:
        if _stack is None:
            _stack = Stack(load_settings())
        return _stack


def use_stack(new: Stack | None) -> None:
    """Install a stack for this process (the local host, tests); None forgets it."""
    global _stack
    with _stack_lock:
        _stack = new
