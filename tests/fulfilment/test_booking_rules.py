"""When an order can still take a shipment: a cancelled one takes none."""

from __future__ import annotations

import pytest

from services.fulfilment.rules import can_book
from shared.statuses import OrderStatus


@pytest.mark.parametrize(("status", "bookable"), [
    (OrderStatus.PAID, True), (OrderStatus.SHIPPED, True), (OrderStatus.CANCELLED, False),
])
def test_only_a_cancelled_order_refuses_a_shipment(status, bookable):
    assert can_book(status) is bookable
