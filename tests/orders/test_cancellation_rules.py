"""When a merchant's cancellation may go to the marketplace (an orders use case since cancellation moved to orders)."""

from __future__ import annotations

from services.orders.rules import cancellation_refusal
from shared.statuses import OrderStatus


def test_a_paid_order_without_shipments_may_be_cancelled():
    assert cancellation_refusal(OrderStatus.PAID, has_shipments=False) is None


def test_an_order_with_a_shipment_can_no_longer_be_cancelled():
    assert cancellation_refusal(OrderStatus.PAID, has_shipments=True) == "has_shipments"
    assert cancellation_refusal(OrderStatus.SHIPPED, has_shipments=True) == "has_shipments"


def test_cancelling_a_cancelled_order_is_answered_as_done_whatever_its_shipments():
    assert cancellation_refusal(OrderStatus.CANCELLED, has_shipments=False) == "already_cancelled"
    assert cancellation_refusal(OrderStatus.CANCELLED, has_shipments=True) == "already_cancelled"


def test_a_shipped_order_without_our_shipments_is_left_to_the_marketplace_to_refuse():
    """Shipped elsewhere (no shipment booked here): the marketplace's answer is the clear error."""
    assert cancellation_refusal(OrderStatus.SHIPPED, has_shipments=False) is None
