"""The order status machine: which reported marketplace states import an order and where a held one moves."""

from __future__ import annotations

import pytest

from services.orders.rules import archive_status, first_status, next_status
from shared.statuses import OrderStatus

PAID, SHIPPED, CANCELLED = OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.CANCELLED


@pytest.mark.parametrize(("reported", "expected"), [
    ("paid", PAID), ("unpaid", None), ("shipped", None), ("cancelled", None),
])
def test_only_an_order_first_seen_paid_is_imported_by_the_live_sync(reported, expected):
    assert next_status(None, reported) is expected
    assert first_status(reported, archive=False) is expected


@pytest.mark.parametrize(("held", "reported", "expected"), [
    (PAID, "paid", PAID), (PAID, "shipped", SHIPPED), (PAID, "cancelled", CANCELLED), (PAID, "unpaid", PAID),
    (SHIPPED, "paid", SHIPPED), (SHIPPED, "shipped", SHIPPED), (SHIPPED, "cancelled", CANCELLED),
    (SHIPPED, "unpaid", SHIPPED),
    (CANCELLED, "paid", CANCELLED), (CANCELLED, "shipped", SHIPPED), (CANCELLED, "cancelled", CANCELLED),
    (CANCELLED, "unpaid", CANCELLED),
])
def test_a_held_order_follows_the_marketplace_but_never_back_to_paid(held, reported, expected):
    assert next_status(held, reported) is expected


def test_a_payment_reversal_changes_nothing_we_hold():
    for held in OrderStatus:
        assert next_status(held, "unpaid") is held


@pytest.mark.parametrize(("reported", "expected"), [
    ("shipped", SHIPPED), ("paid", None), ("unpaid", None), ("cancelled", None),
])
def test_an_archive_import_takes_only_orders_already_shipped(reported, expected):
    """Paid-and-unshipped orders are live work: the live pass imports them as `order.paid`."""
    assert archive_status(reported) is expected
    assert first_status(reported, archive=True) is expected


def test_statuses_are_members_so_events_and_rows_carry_the_enum():
    assert isinstance(next_status(None, "paid"), OrderStatus)
    assert isinstance(next_status(PAID, "shipped"), OrderStatus)
