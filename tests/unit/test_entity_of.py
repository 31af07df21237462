"""table_store/query.entity_of converts the service's JSON as the SDK's own converter does (only its timestamp
parsing is faster): every kind of property, annotated or not, and the metadata, compared with the SDK's."""

from __future__ import annotations

import math

import pytest
from azure.data.tables._deserialize import _convert_to_entity

from shared.adapters.table_store.query import entity_of

ELEMENTS = [
    {
        "odata.etag": "W/\"datetime'2026-12-07T19%3A00%3A01.1234567Z'\"",
        "odata.metadata": "https://account/$metadata#t/@Element",
        "PartitionKey": "p",
        "RowKey": "r",
        "Timestamp": "2026-12-07T19:00:01.1234567Z",
        "small": 1,
        "flag": True,
        "ratio": 2.5,
        "text": "x",
        "big@odata.type": "Edm.Int64",
        "big": "12345678901",
        "nan@odata.type": "Edm.Double",
        "nan": "NaN",
        "at@odata.type": "Edm.DateTime",
        "at": "2026-01-01T00:00:00Z",
        "bytes@odata.type": "Edm.Binary",
        "bytes": "AAE=",
        "id@odata.type": "Edm.Guid",
        "id": "c9da6455-213d-42c9-9a79-3e9149a57833",
        "nothing": None,
        "unannotated_big": 3000000000,
    },
    {"PartitionKey": "p", "RowKey": "r", "Timestamp": "2026-12-07T19:00:01Z"},  # no etag: made from the timestamp
    {"only": "selected"},  # a $select without the keys
    # an annotation after its value, a large whole number annotated, an annotation without a value
    {
        "n": 5000000000,
        "n@odata.type": "Edm.Int64",
        "s@odata.type": "Edm.String",
        "s": "x",
        "gone@odata.type": "Edm.Guid",
    },
]


@pytest.mark.parametrize("element", ELEMENTS, ids=["every-kind", "no-etag", "selected", "annotations"])
def test_an_entity_is_the_one_the_sdk_makes(element):
    sdk, ours = _convert_to_entity(dict(element)), entity_of(dict(element))
    assert set(ours) == set(sdk)
    for name, value in sdk.items():
        if isinstance(value, float) and math.isnan(value):
            assert math.isnan(ours[name])
        else:
            assert (ours[name], type(ours[name])) == (value, type(value)), name
    assert ours.metadata == sdk.metadata
    assert type(ours.metadata["timestamp"]) is type(sdk.metadata["timestamp"])
    if "Timestamp" in element:
        assert ours.metadata["timestamp"].tables_service_value == element["Timestamp"]
