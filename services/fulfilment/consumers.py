"""Events the fulfilment service reacts to: which orders exist and can still be shipped."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.fulfilment import repository as repo
from shared.events import CloudEvent
from shared.events.payloads import OrderCancelled, OrderPaid
from shared.messaging.consumer import BatchHandler, Received


async def orders_paid(session: AsyncSession, received: list[Received]) -> None:
    """Batched: an order sync brings paid orders in bursts of a page, and the projection takes them in one upsert."""
    await repo.upsert_orders(session, [_order_row(payload) for _event, payload in received])


def _order_row(payload: OrderPaid) -> dict:
    return {"order_id": payload.order_id, "merchant_id": payload.merchant_id, "connection_id": payload.connection_id,
            "marketplace": payload.marketplace, "external_id": payload.external_id, "status": "paid",
            "lines": [{"external_id": line.external_id, "quantity": line.quantity} for line in payload.lines]}


async def order_cancelled(session: AsyncSession, _event: CloudEvent, payload: OrderCancelled) -> None:
    await repo.set_order_status(session, payload.order_id, "cancelled")


HANDLERS = {"order.paid": BatchHandler(orders_paid), "order.cancelled": order_cancelled}
