"""Events the fulfilment service reacts to: which orders exist and can still be shipped."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.fulfilment import repository as repo
from shared.events import CloudEvent
from shared.events.payloads import OrderCancelled, OrderPaid


async def order_paid(session: AsyncSession, _event: CloudEvent, payload: OrderPaid) -> None:
    await repo.upsert_order(session, {
        "order_id": payload.order_id, "merchant_id": payload.merchant_id, "connection_id": payload.connection_id,
        "marketplace": payload.marketplace, "external_id": payload.external_id, "status": "paid",
        "lines": [{"external_id": line.external_id, "quantity": line.quantity} for line in payload.lines]})


async def order_cancelled(session: AsyncSession, _event: CloudEvent, payload: OrderCancelled) -> None:
    await repo.set_order_status(session, payload.order_id, "cancelled")


HANDLERS = {"order.paid": order_paid, "order.cancelled": order_cancelled}
