"""Turning marketplace orders into canonical orders and events, idempotently.

Each order is upserted on (connection, external id) and its events are staged in the same transaction,
so seeing a receipt any number of times yields one order and one `order.paid`; later real changes
yield `order.updated`, a cancellation `order.cancelled`, and stale copies nothing.
"""

from __future__ import annotations

from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from services.orders import repository as repo
from services.orders.snapshots import line_values, new_order_id, next_status, order_values, snapshot
from shared.events import make_event
from shared.events.payloads import OrderCancelled, OrderPaid, OrderUpdated
from shared.marketplaces.base import MarketplaceOrder
from shared.messaging.outbox import add_event

Outcome = Literal["created", "updated", "cancelled", "unchanged", "stale", "skipped"]
SOURCE = "channelbridge/orders"


async def ingest_order(session: AsyncSession, connection, order: MarketplaceOrder) -> Outcome:
    existing = await repo.order_by_external_id(session, connection.id, order.external_id)
    status = next_status(existing.status if existing else None, order.state)
    if existing is None:
        if status is None:
            return "skipped"  # unpaid, or shipped/cancelled before we ever saw it paid
        values = {"id": new_order_id(), "merchant_id": connection.merchant_id, "connection_id": connection.id,
                  "marketplace": connection.marketplace, "external_id": order.external_id, "status": status,
                  **order_values(order)}
        if not await repo.insert_order(session, values, line_values(order)):
            return "unchanged"  # a concurrent sync inserted it first and emitted order.paid
        await _emit(session, values["id"], OrderPaid)
        return "created"

    if order.updated_at < existing.marketplace_updated_at:
        return "stale"
    values = order_values(order)
    if status == existing.status and values["content_hash"] == existing.content_hash:
        return "unchanged"
    await repo.update_order(session, existing.id, {**values, "status": status}, line_values(order))
    if status == "cancelled" and existing.status != "cancelled":
        row = await repo.get_order(session, existing.id, None)
        await add_event(session, make_event(SOURCE, OrderCancelled(
            order_id=row.id, merchant_id=row.merchant_id, connection_id=row.connection_id,
            marketplace=row.marketplace, external_id=row.external_id, reason=order.marketplace_status or None,
        ), subject=str(row.id), tenant_id=str(row.merchant_id)))
        return "cancelled"
    await _emit(session, existing.id, OrderUpdated)
    return "updated"


async def _emit(session: AsyncSession, order_id, model) -> None:
    row = await repo.get_order(session, order_id, None)
    lines = (await repo.lines_of(session, [order_id]))[order_id]
    payload = snapshot(row, lines, model)
    await add_event(session, make_event(SOURCE, payload, subject=str(order_id), tenant_id=str(row.merchant_id)))
