"""A release-level move of promote's own routing records on a real Azurite (shared/adapters/routing/local.py
`LocalBatch.apply`): a write refused with a 409 or 412 the Tables SDK does not map to ResourceExistsError or
ResourceModifiedError (an error code it does not know) is read again and retried; any other refusal fails
the move."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError

from shared.adapters.routing.local import LocalBatch, LocalRouter
from shared.application.bootstrap import Stack
from shared.application.config import ROUTING_TABLE


class RefusesFirstWrite:
    """A routing table whose first write of the shares record is refused, not applied, with `status`."""

    def __init__(self, inner, status: int):
        self.inner, self.status, self.refused = inner, status, 0

    def _refuse(self) -> None:
        if not self.refused:
            self.refused += 1
            error = HttpResponseError(message=f"refused\nErrorCode:SomethingNew{self.status}")
            error.status_code = self.status
            raise error

    def create_entity(self, *args, **kwargs):
        self._refuse()
        return self.inner.create_entity(*args, **kwargs)

    def update_entity(self, *args, **kwargs):
        self._refuse()
        return self.inner.update_entity(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self.inner, name)


@pytest.mark.parametrize("status", [409, 412])
def test_a_write_refused_with_an_unmapped_409_or_412_is_read_again_and_written(settings, release_name, status):
    table = Stack(settings).table(ROUTING_TABLE)
    refusing = RefusesFirstWrite(table, status)
    made = LocalBatch(refusing, release_name).apply({"a": 10, "b": 100})  # type: ignore[arg-type]
    assert refusing.refused == 1
    assert {w: [str(c) for c in changes] for w, changes in made.items()} == {
        "a": [f"local routing record {release_name}/a: traffic_percent 0 -> 10"],
        "b": [f"local routing record {release_name}/b: traffic_percent 0 -> 100"],
    }
    assert LocalBatch(table, release_name).live() == {"a": 10, "b": 100}


def test_a_write_refused_with_another_status_fails_the_move_and_writes_nothing(settings, release_name):
    table = Stack(settings).table(ROUTING_TABLE)
    refusing = RefusesFirstWrite(table, 400)
    with pytest.raises(HttpResponseError) as error:
        LocalBatch(refusing, release_name).apply({"a": 10})  # type: ignore[arg-type]
    assert error.value.status_code == 400 and refusing.refused == 1
    assert LocalBatch(table, release_name).live() == {}
    assert LocalRouter(table, release_name, "a").read() == 0
