"""The order's domain rules, as pure functions: its status machine, what a re-seen order changes and when a
merchant's cancellation may go to the marketplace.

No I/O here: `ingest` loads and stores, these decide. Tested without servers in tests/orders/.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, Protocol

from shared.marketplaces.base import MarketplaceOrder, OrderState
from shared.statuses import OrderStatus

Change = Literal["updated", "cancelled", "unchanged", "stale"]
CancelRefusal = Literal["already_cancelled", "has_shipments"]


class HeldOrder(Protocol):
    """What we already hold of an order (an `orders` row)."""

    status: OrderStatus
    marketplace_updated_at: datetime
    content_hash: str


def next_status(current: OrderStatus | None, reported: OrderState) -> OrderStatus | None:
    """Our status after the marketplace reports `reported`; None = do not import (not a paid order)."""
    if reported == "cancelled":
        return OrderStatus.CANCELLED if current else None
    if reported == "shipped":
        return OrderStatus.SHIPPED if current else None
    if reported == "paid":
        return current if current in (OrderStatus.SHIPPED, OrderStatus.CANCELLED) else OrderStatus.PAID
    return current  # unpaid again (e.g. a payment reversal) changes nothing we already hold


def archive_status(reported: OrderState) -> OrderStatus | None:
    """An archive import brings history: orders already shipped. Paid-and-unshipped ones are live work
    that shipping platforms must see as `order.paid`, so the live pass imports those."""
    return OrderStatus.SHIPPED if reported == "shipped" else None


def first_status(reported: OrderState, *, archive: bool) -> OrderStatus | None:
    """The status of an order seen for the first time; None = not imported (never seen paid)."""
    return archive_status(reported) if archive else next_status(None, reported)


def change_on_resight(held: HeldOrder, order: MarketplaceOrder, order_hash: str, *,
                      archive: bool) -> tuple[Change, OrderStatus]:
    """What seeing a held order again does, and its status after.

    An archive import never rewrites what the live sync keeps current; a copy older than the one held is
    stale; equal status and content hash is nothing worth an event; a first move to cancelled is a
    cancellation (emitted once), any other difference an update."""
    if archive:
        return "unchanged", held.status
    if order.updated_at < held.marketplace_updated_at:
        return "stale", held.status
    status = next_status(held.status, order.state)
    if status == held.status and order_hash == held.content_hash:
        return "unchanged", status
    if status == OrderStatus.CANCELLED and held.status != OrderStatus.CANCELLED:
        return "cancelled", status
    return "updated", status


def cancellation_refusal(order_status: OrderStatus, has_shipments: bool) -> CancelRefusal | None:
    """Why the merchant's cancellation must not reach the marketplace, or None to go ahead.

    Cancelling twice is answered as done; an order whose shipment the orders service knows of (booked or
    confirmed) has left."""
    if order_status == OrderStatus.CANCELLED:
        return "already_cancelled"
    if has_shipments:
        return "has_shipments"
    return None
