"""Events the fulfilment service reacts to: which orders exist and can still be shipped.

The orders service versions each order's events (`aggregateversion`); they arrive on three topics in any
order, so the projection applies only newer versions and remembers a cancellation that overtakes the
`order.paid` it cancels.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.fulfilment import repository as repo
from services.fulfilment.service import SOURCE
from shared.events import CloudEvent, make_event
from shared.events.payloads import OrderCancelled, OrderSnapshot, ShipmentCancelled
from shared.messaging.consumer import BatchHandler, Received
from shared.messaging.outbox import add_event

WITHDRAWN = "the order was cancelled before its tracking reached the marketplace"


async def order_snapshots(session: AsyncSession, received: list[Received]) -> None:
    """Batched: an order sync brings paid orders in bursts of a page, and the projection takes them in one upsert."""
    await repo.upsert_orders(session, [_order_row(event, payload) for event, payload in received])


def _order_row(event: CloudEvent, payload: OrderSnapshot) -> dict:
    return {"order_id": payload.order_id, "merchant_id": payload.merchant_id, "connection_id": payload.connection_id,
            "marketplace": payload.marketplace, "external_id": payload.external_id, "status": payload.status,
            "lines": [{"external_id": line.external_id, "quantity": line.quantity} for line in payload.lines],
            "version": event.aggregate_version}


async def order_cancelled(session: AsyncSession, event: CloudEvent, payload: OrderCancelled) -> None:
    """The order can no longer be shipped, and a shipment booked while its cancellation was under way at the
    marketplace is withdrawn (`shipment.cancelled`) before its tracking is pushed.

    The orders service decides a cancellation under its own order lock and sees only the shipments
    `shipment.booked` has told it of; a booking that lands in between is caught here. Recording the
    cancellation takes this service's order row lock first, so a booking either committed before (and is
    withdrawn now) or waits and is refused.
    """
    await repo.record_cancellation(session, {
        "order_id": payload.order_id, "merchant_id": payload.merchant_id, "connection_id": payload.connection_id,
        "marketplace": payload.marketplace, "external_id": payload.external_id}, event.aggregate_version)
    for shipment in await repo.withdraw_unpushed_shipments(session, payload.order_id, WITHDRAWN):
        await add_event(session, make_event(SOURCE, ShipmentCancelled(
            shipment_id=shipment.id, order_id=payload.order_id, merchant_id=shipment.merchant_id, reason=WITHDRAWN,
        ), subject=str(payload.order_id), tenant_id=str(shipment.merchant_id), aggregate_version=shipment.version))


HANDLERS = {
    "order.paid": BatchHandler(order_snapshots),
    "order.updated": BatchHandler(order_snapshots),
    "order.cancelled": order_cancelled,
}
