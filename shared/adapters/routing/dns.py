"""dns and private-dns: the values of one A, AAAA or CNAME record set of an Azure DNS or Private DNS zone (0 or
100), and the TTL choreography of the cutover (shared/domain/ttl.py).

0% is the plan's source values, 100% its target values. The record set is read, its values (or its TTL) set,
and PUT back as read otherwise (metadata, other properties), guarded by the record set's ETag (If-Match): a
record set changed by someone else in between is refused by Azure (412), read again and merged (bounded).
The ETag is sent exactly as Azure returned it: the Private DNS SDK would quote a bare GUID (`"<guid>"`),
whose equality with the bare GUID Azure returns is not documented, so the header is set by hand.

The TTL is lowered at apply (shared/application/ttl.py calls `lower_ttl`), never in the same write as a
switch of values: the original TTL and the instant of the lowering are kept in the record set's metadata
(promoteOriginalTtl, promoteTtlLoweredAt), so that a second apply finds them, and finalize puts the original
back (RestoredTtl). The two zone kinds differ only in their SDK: the order of the path's arguments and the
JSON casing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from shared.adapters.routing import _arm
from shared.adapters.routing._arm import ArmSettings
from shared.domain import edge
from shared.domain.errors import RoutingError
from shared.domain.plan import DnsRouting, PrivateDnsRouting
from shared.domain.routing import Change, resource
from shared.domain.times import iso
from shared.domain.ttl import RestoredTtl

ORIGINAL, LOWERED_AT = "promoteOriginalTtl", "promoteTtlLoweredAt"  # metadata promote keeps on the record set
Record = DnsRouting | PrivateDnsRouting


def _needs(routing: Record) -> str:
    kind = "privateDnsZones" if isinstance(routing, PrivateDnsRouting) else "dnsZones"
    return f"Microsoft.Network/{kind}/{routing.type}/read and /write on the zone (or on the record set)"


@dataclass(frozen=True)
class Lowered:
    """What lowering a record's TTL found and did: the TTL resolvers may still hold, until when, the change."""

    old_ttl: int
    until: datetime  # when no resolver can hold the record for its old TTL any more
    changes: list[Change] = field(default_factory=list)


class DnsRouter:
    def __init__(self, routing: Record, client: Any):
        self.routing, self.client = routing, client
        self.private = isinstance(routing, PrivateDnsRouting)
        self.resource = resource(routing)
        self.what = f"{routing.type} record set {routing.record} of {self.resource}"
        self.needs = _needs(routing)

    def describe(self) -> str:
        return self.what

    # -- the record set, as the SDK of its zone kind has it ---------------------------------------
    def _get(self) -> Any:
        from azure.core.exceptions import ResourceNotFoundError

        r = self.routing
        with _arm.arm_errors(self.what, self.needs):
            try:
                if self.private:
                    return self.client.record_sets.get(r.resource_group, r.zone_name, r.type, r.record)
                return self.client.record_sets.get(r.resource_group, r.zone_name, r.record, r.type)
            except ResourceNotFoundError:
                raise RoutingError(
                    f"{self.what}: not found; promote switches an existing record set (create it with the "
                    f"source values {edge.record_value(r.source)} first)"
                ) from None

    def _put(self, record: Any) -> None:
        r = self.routing
        with _arm.arm_errors(self.what, self.needs):
            if self.private:  # the ETag as Azure sent it (the SDK's etag= would quote it)
                self.client.record_sets.create_or_update(
                    r.resource_group, r.zone_name, r.type, r.record, record, headers={"If-Match": record.etag}
                )
            else:
                self.client.record_sets.create_or_update(
                    r.resource_group, r.zone_name, r.record, r.type, record, if_match=record.etag
                )

    def _values(self, record: Any) -> list[str]:
        if self.routing.type == "CNAME":
            return [record.cname_record.cname] if record.cname_record and record.cname_record.cname else []
        if self.routing.type == "A":
            return [a.ipv4_address for a in record.a_records or []]
        return [a.ipv6_address for a in record.aaaa_records or []]

    def _set_values(self, record: Any, values: list[str]) -> None:
        models = self._models()
        if self.routing.type == "CNAME":
            record.cname_record = models.CnameRecord(cname=values[0])
        elif self.routing.type == "A":
            record.a_records = [models.ARecord(ipv4_address=v) for v in values]
        else:
            record.aaaa_records = [models.AaaaRecord(ipv6_address=v) for v in values]

    def _models(self) -> Any:
        if self.private:
            from azure.mgmt.privatedns import models as private_models

            return private_models
        from azure.mgmt.dns import models as public_models

        return public_models

    # -- the share ----------------------------------------------------------------------------------
    def _share(self, record: Any) -> int:
        live = self._values(record)
        share = edge.record_share(self.routing, live)
        if share is None:
            r = self.routing
            raise RoutingError(
                f"{self.what}: holds {edge.record_value(live)}, neither the source "
                f"{edge.record_value(r.source)} nor the target {edge.record_value(r.target)}"
            )
        return share

    def read(self) -> int:
        return self._share(self._get())

    def diff(self, percent: int) -> list[Change]:
        return self._diff(self._get(), percent)

    def _diff(self, record: Any, percent: int) -> list[Change]:
        wanted = self.routing.target if percent >= 100 else self.routing.source
        live = self._values(record)
        if edge.same_values(live, wanted):
            return []
        prop = edge.record_property(self.routing)
        return [Change(self.resource, prop, edge.record_value(live), edge.record_value(wanted))]

    def problems(self, percents: list[int]) -> list[str]:
        return [f"{self.what}: a record set realises 0% or 100%, not {p}%" for p in percents if p not in (0, 100)]

    def notes(self, percents: list[int]) -> list[str]:
        """What the shares mean here, read live: resolvers cache the record for its TTL."""
        record, r = self._get(), self.routing
        ttl, original = record.ttl or 0, _original(record)
        if r.lower_ttl_to is None:
            return [
                f"{self.what}: TTL {ttl}s: resolvers that asked before the switch keep the old value up to "
                f"{ttl}s after it (set lower_ttl_to to lower it at apply)"
            ]
        if original is not None:
            return [f"{self.what}: TTL lowered to {ttl}s by promote (original {original}s, put back at finalize)"]
        if ttl <= r.lower_ttl_to:
            return [f"{self.what}: TTL {ttl}s is already at most lower_ttl_to ({r.lower_ttl_to}s): no wait"]
        return [
            f"{self.what}: TTL {ttl}s: promote apply lowers it to {r.lower_ttl_to}s, and the switch waits "
            f"{ttl}s from then (resolvers may hold the old TTL that long); the original comes back at finalize"
        ]

    def apply(self, percent: int) -> list[Change]:
        if percent not in (0, 100):
            raise RoutingError(f"{self.what}: a record set realises 0% or 100%, not {percent}%")

        def attempt() -> list[Change]:
            record = self._get()
            changes = self._diff(record, percent)
            if changes:
                self._set_values(record, self.routing.target if percent >= 100 else self.routing.source)
                self._put(record)  # the TTL as it is: never lowered in the same write as a switch
            return changes

        return _arm.guarded(attempt)

    # -- the TTL choreography -----------------------------------------------------------------------
    def lower_ttl(self, now: datetime) -> Lowered:
        """Lower the TTL to lower_ttl_to (values untouched), keeping the original in the metadata. Idempotent:
        a record promote lowered before answers with that lowering."""
        lower_to = self.routing.lower_ttl_to
        assert lower_to is not None

        def attempt() -> Lowered:
            record = self._get()
            ttl, original = record.ttl or 0, _original(record)
            recorded = _lowered_at(record)
            earlier = recorded + timedelta(seconds=original) if recorded and original is not None else None
            if ttl <= lower_to:  # lowered already (by promote or someone else): wait out what promote recorded
                return Lowered(original if original is not None else ttl, earlier or now)
            prop = edge.ttl_property(self.routing)
            record.metadata = {**(record.metadata or {}), LOWERED_AT: iso(now)}
            record.metadata.setdefault(ORIGINAL, str(ttl))
            record.ttl = lower_to
            self._put(record)
            until = max(earlier, now + timedelta(seconds=ttl)) if earlier else now + timedelta(seconds=ttl)
            return Lowered(ttl, until, [Change(self.resource, prop, f"{ttl}s", f"{lower_to}s")])

        return _arm.guarded(attempt)

    def restore_ttl(self) -> list[Change]:
        """Put back the TTL promote recorded when it lowered it, and forget it ([] when there is none)."""

        def attempt() -> list[Change]:
            record = self._get()
            original = _original(record)
            if original is None:
                return []
            before = record.ttl
            record.ttl = original
            record.metadata = {k: v for k, v in (record.metadata or {}).items() if k not in (ORIGINAL, LOWERED_AT)}
            self._put(record)
            return [Change(self.resource, edge.ttl_property(self.routing), f"{before}s", f"{original}s")]

        return _arm.guarded(attempt)


class TtlRestorer:
    """The router of a RestoredTtl (finalize, abort): the record at the share asked, then its original TTL."""

    def __init__(self, router: DnsRouter):
        self.router = router

    def describe(self) -> str:
        return self.router.describe()

    def apply(self, percent: int) -> list[Change]:
        return self.router.apply(percent) + self.router.restore_ttl()

    def read(self) -> int:
        return self.router.read()

    def diff(self, percent: int) -> list[Change]:
        return []

    def problems(self, percents: list[int]) -> list[str]:
        return []


def _original(record: Any) -> int | None:
    value = (record.metadata or {}).get(ORIGINAL)
    try:
        return int(value) if value is not None else None
    except ValueError:  # someone else's text under promote's key: not a TTL promote recorded
        return None


def _lowered_at(record: Any) -> datetime | None:
    value = (record.metadata or {}).get(LOWERED_AT)
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


def build(routing: Record | RestoredTtl, settings: ArmSettings) -> DnsRouter | TtlRestorer:
    if isinstance(routing, RestoredTtl):
        return TtlRestorer(_router(routing.routing, settings))
    return _router(routing, settings)


def _router(routing: Record, settings: ArmSettings) -> DnsRouter:
    if isinstance(routing, PrivateDnsRouting):
        from azure.mgmt.privatedns import PrivateDnsManagementClient

        return DnsRouter(routing, _arm.client(PrivateDnsManagementClient, settings, routing.subscription))
    from azure.mgmt.dns import DnsManagementClient

    return DnsRouter(routing, _arm.client(DnsManagementClient, settings, routing.subscription))
