"""Events the fulfilment service reacts to: which orders exist and can still be shipped.

The orders service versions each order's events (`aggregateversion`); they arrive on three topics in any
order, so the projection applies only newer versions and remembers a cancellation that overtakes the
`order.paid` it cancels.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.fulfilment import repository as repo
from shared.events import CloudEvent
from shared.events.payloads import OrderCancelled, OrderSnapshot
from shared.messaging.consumer import BatchHandler, Received


async def order_snapshots(session: AsyncSession, received: list[Received]) -> None:
    """Batched: an order sync brings paid orders in bursts of a page, and the projection takes them in one upsert."""
    await repo.upsert_orders(session, [_order_row(event, payload) for event, payload in received])


def _order_row(event: CloudEvent, payload: OrderSnapshot) -> dict:
    return {"order_id": payload.order_id, "merchant_id": payload.merchant_id, "connection_id": payload.connection_id,
            "marketplace": payload.marketplace, "external_id": payload.external_id, "status": payload.status,
            "lines": [{"external_id": line.external_id, "quantity": line.quantity} for line in payload.lines],
            "version": event.aggregate_version}


async def order_cancelled(session: AsyncSession, event: CloudEvent, payload: OrderCancelled) -> None:
    await repo.record_cancellation(session, {
        "order_id": payload.order_id, "merchant_id": payload.merchant_id, "connection_id": payload.connection_id,
        "marketplace": payload.marketplace, "external_id": payload.external_id}, event.aggregate_version)


HANDLERS = {
    "order.paid": BatchHandler(order_snapshots),
    "order.updated": BatchHandler(order_snapshots),
    "order.cancelled": order_cancelled,
}
