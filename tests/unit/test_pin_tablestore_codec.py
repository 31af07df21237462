"""The field codec (shared/adapters/table_store/codec.py) built inside each test: the exact properties every kind
of field is stored as, what an absent property reads back as, and the models it refuses (with the message a
developer reads). The store's own codecs are built when their modules are imported; these are built here, so
that what RowCodec, _unwrap, _kind_of and enum_kind do is checked when the test runs."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum

import pytest

from shared.adapters.table_store.codec import PLAIN, Kind, RowCodec, enum_kind

T = datetime(2026, 11, 27, 9, 13, 23, 123456, tzinfo=UTC)


class Colour(Enum):
    RED = "red"
    BLUE = "blue"


@dataclass
class Row:
    name: str
    count: int
    ratio: float
    at: datetime
    blob: bytes
    colour: Colour
    doc: dict[str, int]
    items: list[str]
    words: tuple[str, ...]
    gone: str | None  # optional, no default: absent reads as None
    flag: bool = False
    note: str | None = None
    limit: int | None = None
    size: int = 5
    tags: list[str] = field(default_factory=list)


FULL = Row(
    name="web",
    count=3,
    ratio=2,  # a whole number: still a float (Edm.Double)
    at=T,
    blob=b"\x00\x01",
    colour=Colour.BLUE,
    doc={"b": 1, "a": 2},
    items=["x", "y"],
    words=("a", "b"),
    gone="left",
    flag=True,
    note="hi",
    limit=7,
    size=6,
    tags=["t"],
)

FULL_PROPERTIES = {
    "name": "web",
    "count": 3,
    "ratio": 2.0,
    "at": T,
    "blob": b"\x00\x01",
    "colour": "blue",
    "doc": '{"b":1,"a":2}',
    "doc_chunks": 1,
    "items": '["x","y"]',
    "items_chunks": 1,
    "words": "a b",
    "gone": "left",
    "flag": True,
    "note": "hi",
    "limit": 7,
    "size": 6,
    "tags": '["t"]',
    "tags_chunks": 1,
}

# the fields a row must store (no default, not optional)
REQUIRED = {k: FULL_PROPERTIES[k] for k in ("name", "count", "ratio", "at", "blob", "colour", "doc", "items", "words")}
REQUIRED.update(doc_chunks=1, items_chunks=1)


def test_every_kind_of_field_is_stored_as_exactly_these_properties():
    written = RowCodec(Row).write(FULL)
    assert written == FULL_PROPERTIES
    assert type(written["ratio"]) is float and type(written["colour"]) is str


def test_every_field_reads_back_as_it_was_written():
    codec = RowCodec(Row)
    values = codec.read(FULL_PROPERTIES)
    assert values == dataclasses.asdict(FULL) | {"words": ("a", "b"), "colour": Colour.BLUE}
    assert type(values["ratio"]) is float and values["colour"] is Colour.BLUE and type(values["blob"]) is bytes
    assert Row(**values) == dataclasses.replace(FULL, ratio=2.0)


def test_an_enum_is_stored_as_its_text_given_as_a_member_or_as_text():
    kind = enum_kind(Colour)
    assert kind.write("c", Colour.RED) == {"c": "red"}
    assert kind.write("c", "blue") == {"c": "blue"}
    assert kind.read({"c": "red"}, "c") is Colour.RED


def test_absent_properties_read_back_as_the_fields_defaults_and_optionals_as_none():
    codec = RowCodec(Row)
    assert codec.read(REQUIRED) == {
        "name": "web",
        "count": 3,
        "ratio": 2.0,
        "at": T,
        "blob": b"\x00\x01",
        "colour": Colour.BLUE,
        "doc": {"b": 1, "a": 2},
        "items": ["x", "y"],
        "words": ("a", "b"),
        "gone": None,
        "flag": False,
        "note": None,
        "limit": None,
        "size": 5,
        "tags": [],
    }
    # `stored`: only what the row holds, and None for the optional field without a default
    assert codec.stored(REQUIRED) == {
        "name": "web",
        "count": 3,
        "ratio": 2.0,
        "at": T,
        "blob": b"\x00\x01",
        "colour": Colour.BLUE,
        "doc": {"b": 1, "a": 2},
        "items": ["x", "y"],
        "words": ("a", "b"),
        "gone": None,
    }


def test_a_row_without_a_required_field_names_it():
    codec = RowCodec(Row)
    entity = {k: v for k, v in REQUIRED.items() if k != "count"} | {"RowKey": "w.0000.web"}
    with pytest.raises(KeyError, match=r"stored row 'w.0000.web' has no 'count'"):
        codec.read(entity)
    with pytest.raises(KeyError, match=r"stored row 'w.0000.web' has no 'count'"):
        codec.stored(entity)


def test_none_and_the_default_are_left_out_of_an_unmerged_row():
    row = dataclasses.replace(FULL, gone=None, note=None, limit=None, tags=[])
    assert RowCodec(Row).write(row) == {
        k: v for k, v in FULL_PROPERTIES.items() if k not in ("gone", "note", "limit", "tags", "tags_chunks")
    }


def test_skipped_fields_are_neither_written_nor_read():
    codec = RowCodec(Row, skip=["name", "size"])
    assert codec.write(FULL) == {k: v for k, v in FULL_PROPERTIES.items() if k not in ("name", "size")}
    assert [f.name for f in codec.fields] == [f.name for f in dataclasses.fields(Row) if f.name not in ("name", "size")]
    assert "name" not in codec.read(FULL_PROPERTIES)


def test_a_kind_given_for_a_field_replaces_its_types():
    as_text = Kind(lambda n, v: {n: f"#{v}"}, lambda e, n: int(e[n][1:]))
    codec = RowCodec(Row, kinds={"count": as_text})
    assert codec.write(FULL) == FULL_PROPERTIES | {"count": "#3"}
    assert codec.read(FULL_PROPERTIES | {"count": "#4"})["count"] == 4


def test_a_kind_or_a_once_for_no_field_is_refused():
    with pytest.raises(AssertionError):
        RowCodec(Row, kinds={"nope": PLAIN})
    with pytest.raises(AssertionError):
        RowCodec(Row, once={"nope": "flag"})


@dataclass
class Pair:
    a: str = ""
    b: bool = False


def test_once_may_hold_back_every_field_until_its_trigger_is_set():
    codec = RowCodec(Pair, once={"a": "b", "b": "b"})
    assert codec.write(Pair("x", False)) == {}
    assert codec.write(Pair("x", True)) == {"a": "x", "b": True}


@dataclass
class Text:
    note: str | None = None
    count: int = 0


def test_a_merged_row_clears_an_optional_text_with_the_empty_text_and_reads_it_back_as_none():
    merged = RowCodec(Text, merged=True)
    assert merged.write(Text(None, 2)) == {"note": "", "count": 2}
    assert merged.read({"note": "", "count": 2}) == {"note": None, "count": 2}
    assert merged.write(Text("n", 2)) == {"note": "n", "count": 2}


def test_a_row_is_not_merged_unless_asked():
    plain = RowCodec(Text)
    assert plain.write(Text(None, 2)) == {"count": 2}
    assert plain.read({"note": "", "count": 2}) == {"note": "", "count": 2}


@dataclass
class MergedNumber:
    limit: int | None = None


def test_a_merged_row_refuses_an_optional_field_that_is_not_text():
    with pytest.raises(TypeError) as raised:
        RowCodec(MergedNumber, merged=True)
    assert str(raised.value) == "MergedNumber.limit: a merged row can clear only an optional text (written as '')"


@dataclass
class TwoTypes:
    x: int | str | None = None


@dataclass
class Odd:
    x: set[str]


@dataclass
class Plain:
    x: complex  # a class, not an enum


def test_a_field_with_no_stored_form_is_refused_with_what_to_do():
    with pytest.raises(TypeError) as raised:
        RowCodec(TwoTypes)
    assert str(raised.value) == "TwoTypes.x: int | str | None has no stored form (one type, or one type or None)"
    with pytest.raises(TypeError) as raised:
        RowCodec(Odd)
    assert str(raised.value) == "Odd.x: set[str] has no stored form; add a Kind for it to table_store/codec.py"
    with pytest.raises(TypeError) as raised:
        RowCodec(Plain)
    assert (
        str(raised.value) == "Plain.x: <class 'complex'> has no stored form; add a Kind for it to table_store/codec.py"
    )
