"""Turning marketplace orders into canonical orders and events, idempotently.

Each order is upserted on (connection, external id) and its events are staged in the same transaction,
so seeing an order any number of times yields one order and one `order.paid`; later real changes
yield `order.updated`, a cancellation `order.cancelled`, and stale copies nothing. What else a new
order triggers (stock, confirmation mail, customer registration) is the connection's settings' call,
and an archive import triggers none of it: its orders are history and arrive as `order.imported`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from services.orders import repository as repo
from services.orders.events import stage
from services.orders.rules import change_on_resight, first_status
from services.orders.snapshots import line_values, new_order_id, order_values, snapshot
from shared.events.payloads import (
    CustomerRegistered,
    OrderCancelled,
    OrderConfirmationRequested,
    OrderImported,
    OrderPaid,
    OrderUpdated,
)
from shared.marketplaces.base import MarketplaceOrder

Outcome = Literal["created", "imported", "updated", "cancelled", "unchanged", "stale", "skipped"]


@dataclass(frozen=True)
class IngestPolicy:
    """The connection settings that decide what a newly seen order sets off."""

    archive: bool = False
    update_stock: bool = True
    send_confirmation: bool = False
    register_customers: bool = False


def live_policy(settings: dict) -> IngestPolicy:
    """The policy for orders the live sync (or a webhook) finds, from the connection's settings."""
    return IngestPolicy(update_stock=settings.get("update_stock_after_sale", True),
                        send_confirmation=settings.get("send_order_confirmation", False),
                        register_customers=settings.get("register_buyers_as_customers", False))


async def ingest_order(session: AsyncSession, connection, order: MarketplaceOrder,
                       policy: IngestPolicy = IngestPolicy()) -> Outcome:
    existing = await repo.order_by_external_id(session, connection.id, order.external_id)
    if existing is None:
        return await _create(session, connection, order, policy)
    values = order_values(order)
    change, status = change_on_resight(existing, order, values["content_hash"], archive=policy.archive)
    if change in ("unchanged", "stale"):
        return change
    await repo.update_order(session, existing.id, {**values, "status": status}, line_values(order))
    row = await repo.get_order(session, existing.id, None)
    if change == "cancelled":
        await stage(session, row, OrderCancelled(
            order_id=row.id, merchant_id=row.merchant_id, connection_id=row.connection_id,
            marketplace=row.marketplace, external_id=row.external_id, reason=order.marketplace_status or None))
        return "cancelled"
    await stage(session, row, await _snapshot(session, row, OrderUpdated))
    return "updated"


async def _create(session: AsyncSession, connection, order: MarketplaceOrder, policy: IngestPolicy) -> Outcome:
    status = first_status(order.state, archive=policy.archive)
    if status is None:
        return "skipped"  # never seen paid: unpaid, or shipped/cancelled before we ever saw it
    values = {"id": new_order_id(), "merchant_id": connection.merchant_id, "connection_id": connection.id,
              "marketplace": connection.marketplace, "external_id": order.external_id, "status": status,
              **order_values(order)}
    if not await repo.insert_order(session, values, line_values(order)):
        return "unchanged"  # a concurrent sync inserted it first and emitted its event
    row = await repo.get_order(session, values["id"], None)
    if policy.archive:
        await stage(session, row, await _snapshot(session, row, OrderImported))
        return "imported"
    await stage(session, row, await _snapshot(session, row, OrderPaid, update_stock=policy.update_stock))
    email = (order.buyer.email or "").strip().lower()
    if policy.send_confirmation and email:
        await stage(session, row, OrderConfirmationRequested(
            order_id=row.id, merchant_id=row.merchant_id, buyer_email=email, buyer_name=order.buyer.name))
    if policy.register_customers and email and await repo.add_customer(
            session, merchant_id=row.merchant_id, email=email, name=order.buyer.name, first_order_id=row.id):
        await stage(session, row, CustomerRegistered(
            merchant_id=row.merchant_id, email=email, name=order.buyer.name, first_order_id=row.id))
    return "created"


async def mark_cancelled(session: AsyncSession, order_id, reason: str | None) -> bool:
    """Cancelled at the marketplace on our request; False when it already was (no second event).

    Under the row lock, like `ingest_order`: a sync or webhook seeing the same cancellation waits, then
    finds it done."""
    row = await repo.get_order(session, order_id, None, for_update=True)
    if row is None or row.status == "cancelled":
        return False
    await repo.update_order(session, order_id, {"status": "cancelled"}, None)
    await stage(session, row, OrderCancelled(
        order_id=row.id, merchant_id=row.merchant_id, connection_id=row.connection_id,
        marketplace=row.marketplace, external_id=row.external_id, reason=reason))
    return True


async def _snapshot(session: AsyncSession, row, model, **extra):
    lines = (await repo.lines_of(session, [row.id]))[row.id]
    return snapshot(row, lines, model, **extra)
