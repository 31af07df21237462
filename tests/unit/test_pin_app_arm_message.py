"""The text of an Azure SDK failure an operator reads (shared/adapters/routing/_arm.py): the SDK error's own
`message`, not Python's rendering of all its arguments; the error's type when it says nothing."""

from __future__ import annotations

import pytest
from azure.core.exceptions import ServiceRequestError

from shared.adapters.routing import _arm
from shared.domain.errors import RoutingError


def raised(exc: BaseException) -> str:
    with pytest.raises(RoutingError) as caught:
        with _arm.arm_errors("route table rt-1"):
            raise exc
    return str(caught.value)


def test_an_sdk_error_shows_its_message_not_all_its_arguments():
    exc = ServiceRequestError("connection reset by peer\nretrying", "while sending PUT")
    assert str(exc) == "('connection reset by peer\\nretrying', 'while sending PUT')"  # what Python would show
    assert raised(exc) == "route table rt-1: ServiceRequestError: connection reset by peer"


def test_an_sdk_error_without_a_message_shows_its_type():
    assert raised(ServiceRequestError("  ")) == "route table rt-1: ServiceRequestError: ServiceRequestError"
