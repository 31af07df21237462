"""One field codec for Table Storage rows, derived from a dataclass's fields: one rule per kind of value
(bool, int, text, number, time, enum, JSON, words, bytes), none per field. A new field of the model is stored
and read back with no change here; a field of a kind with no rule fails when this module is imported.

Table Storage has no null: a field that is None is an absent property, and so is a text field that is empty
when its default is the empty text. An absent property reads back as the field's default (None for an
optional field without one)."""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from shared.adapters.properties import chunks, unchunk, when

Write = Callable[[str, Any], dict[str, Any]]  # (property name, value) -> the properties that hold it
Read = Callable[[Mapping[str, Any], str], Any]  # (entity, property name) -> the value (the property is there)


@dataclass(frozen=True)
class Kind:
    write: Write
    read: Read


def _plain(name: str, value: Any) -> dict[str, Any]:
    return {name: value}


def _as_is(entity: Mapping[str, Any], name: str) -> Any:
    return entity[name]


PLAIN = Kind(_plain, _as_is)  # bool, int, str: the SDK's own types (Edm.Boolean, Edm.Int32, Edm.String)
DOUBLE = Kind(lambda n, v: {n: float(v)}, lambda e, n: float(e[n]))  # always Edm.Double, even for a whole number
TIME = Kind(_plain, lambda e, n: when(e[n]))  # Edm.DateTime: the SDK sends UTC, to the microsecond
BYTES = Kind(_plain, lambda e, n: bytes(e[n]))  # Edm.Binary
# dicts and lists: compact JSON, ASCII (ensure_ascii), over as many 30,000-character properties as it needs
JSON = Kind(lambda n, v: chunks(n, json.dumps(v, separators=(",", ":"))), lambda e, n: json.loads(unchunk(e, n)))
WORDS = Kind(lambda n, v: {n: " ".join(v)}, lambda e, n: tuple(e[n].split()))  # names ([a-z0-9-]), space-separated


def enum_kind(cls: type[Enum]) -> Kind:
    """An enum (WorkloadState, Outcome) is stored as its text."""
    return Kind(lambda n, v: {n: cls(v).value}, lambda e, n: cls(e[n]))


def _unwrap(owner: str, hint: Any) -> tuple[Any, bool]:
    """A field's type without its `| None`, and whether it had one."""
    if typing.get_origin(hint) not in (typing.Union, types.UnionType):
        return hint, False
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if len(args) != 1:
        raise TypeError(f"{owner}: {hint} has no stored form (one type, or one type or None)")
    return args[0], True


def _kind_of(owner: str, hint: Any) -> Kind:
    origin = typing.get_origin(hint) or hint
    if hint in (bool, int, str):
        return PLAIN
    if hint is float:
        return DOUBLE
    if hint is datetime:
        return TIME
    if hint is bytes:
        return BYTES
    if isinstance(hint, type) and issubclass(hint, Enum):
        return enum_kind(hint)
    if origin in (dict, list):
        return JSON
    if origin is tuple:
        return WORDS
    raise TypeError(f"{owner}: {hint} has no stored form; add a Kind for it to table_store/codec.py")


@dataclass(frozen=True)
class Field:
    name: str
    kind: Kind
    optional: bool
    default: Callable[[], Any] | None  # None: the field has no default

    @property
    def empty_default(self) -> bool:
        return self.default is not None and self.default() == ""

    @property
    def empty_list(self) -> bool:
        return self.default is not None and self.default() == []


class RowCodec:
    """The properties of a dataclass's fields, and the fields back from an entity.

    `skip`: fields stored elsewhere (a row key, a property of its own). `kinds`: a stored form other than its
    type's. `merged`: the row is written with a merge, which keeps properties it does not send, so an optional
    text that became None is written as "" (read back as None). `once`: field -> the field whose value, once
    set (truthy, and never unset again), makes it written: absent until then, to keep rows small."""

    def __init__(
        self,
        cls: type,
        *,
        skip: Iterable[str] = (),
        kinds: Mapping[str, Kind] | None = None,
        merged: bool = False,
        once: Mapping[str, str] | None = None,
    ):
        hints, skipped, kinds = typing.get_type_hints(cls), set(skip), dict(kinds or {})
        self.merged, self.once = merged, dict(once or {})
        self.fields: list[Field] = []
        for f in dataclasses.fields(cls):
            if f.name in skipped:
                continue
            owner = f"{cls.__name__}.{f.name}"
            hint, optional = _unwrap(owner, hints[f.name])
            if merged and optional and hint is not str:
                raise TypeError(f"{owner}: a merged row can clear only an optional text (written as '')")
            kind = kinds.pop(f.name) if f.name in kinds else _kind_of(owner, hint)
            default: Callable[[], Any] | None = None
            if f.default is not dataclasses.MISSING:
                default = (lambda value: lambda: value)(f.default)
            elif f.default_factory is not dataclasses.MISSING:
                default = f.default_factory
            self.fields.append(Field(f.name, kind, optional, default))
        assert not kinds and set(self.once) <= {f.name for f in self.fields}, (kinds, self.once)
        self._by_name = {f.name: f for f in self.fields}
        self._required = [f for f in self.fields if f.default is None]  # no default: the read must give one

    def write(self, record: Any, *, leave: Iterable[str] = ()) -> dict[str, Any]:
        """The properties of `record`'s fields, except those in `leave` (written by a writer of their own)."""
        left = set(leave)
        props: dict[str, Any] = {}
        for f in self.fields:
            value = getattr(record, f.name)
            if f.name in left or (f.name in self.once and not getattr(record, self.once[f.name])):
                continue
            if value is None or (value == "" and f.empty_default) or (value == [] and f.empty_list and not self.merged):
                # an empty list not written reads back as its default: rows of features unused stay small
                if self.merged and f.optional:
                    props[f.name] = ""  # a merge would keep the old value of an absent property
                continue
            props.update(f.kind.write(f.name, value))
        return props

    def read(self, entity: Mapping[str, Any]) -> dict[str, Any]:
        """The fields (as keyword arguments) from an entity's properties."""
        values = self.stored(entity)
        for f in self.fields:
            if f.name not in values and f.default is not None:
                values[f.name] = f.default()
        return values

    def stored(self, entity: Mapping[str, Any]) -> dict[str, Any]:
        """The fields an entity stores, and None for an optional field without a default it does not: enough to
        make the dataclass, which gives the others their defaults. Only the properties stored are walked (a
        workload's row holds a few of its fifty fields, and a release-level move reads 5,000 of them)."""
        values: dict[str, Any] = {}
        by_name = self._by_name
        for name, stored in entity.items():
            f = by_name.get(name)
            if f is None or stored is None:
                continue
            if self.merged and f.optional and stored == "":
                continue  # a cleared optional text: its default
            values[name] = f.kind.read(entity, name)
        for f in self._required:
            if f.name not in values:
                if not f.optional:
                    raise KeyError(f"stored row {entity.get('RowKey')!r} has no {f.name!r}")
                values[f.name] = None
        return values
