"""Events the orders service reacts to: connections coming and going, shipments booked and confirmed."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.orders import repository as repo
from services.orders.ingest import SOURCE
from services.orders.snapshots import snapshot
from shared.events import CloudEvent, make_event
from shared.events.payloads import (
    ConnectionConnected,
    ConnectionDisconnected,
    ConnectionNeedsReauth,
    OrderFulfilled,
    OrderUpdated,
    ShipmentBooked,
)
from shared.messaging.outbox import add_event


async def connection_connected(session: AsyncSession, event: CloudEvent, payload: ConnectionConnected) -> None:
    """A shop to sync from now on (its first sync is due immediately, and starts from `connected_at`)."""
    await repo.upsert_connection(session, {
        "id": payload.connection_id, "merchant_id": payload.merchant_id, "marketplace": payload.marketplace,
        "shop_id": payload.shop_id, "shop_name": payload.shop_name, "status": "active",
        "connected_at": payload.connected_at or event.time})


async def connection_disconnected(session: AsyncSession, _event: CloudEvent, payload: ConnectionDisconnected) -> None:
    """Syncing stops; the orders already downloaded stay."""
    await repo.set_connection_status(session, payload.connection_id, "disconnected")


async def connection_needs_reauth(session: AsyncSession, _event: CloudEvent, payload: ConnectionNeedsReauth) -> None:
    await repo.set_connection_status(session, payload.connection_id, "needs_reauth")


async def shipment_booked(session: AsyncSession, _event: CloudEvent, payload: ShipmentBooked) -> None:
    if await repo.get_order(session, payload.order_id, None) is not None:
        await repo.add_shipment(session, {"shipment_id": payload.shipment_id, "order_id": payload.order_id,
                                          "carrier": payload.carrier, "tracking_number": payload.tracking_number,
                                          "status": "booked"})


async def order_fulfilled(session: AsyncSession, _event: CloudEvent, payload: OrderFulfilled) -> None:
    """The marketplace confirmed the tracking: the order is shipped (once fully shipped)."""
    await repo.confirm_shipment(session, payload.shipment_id)
    row = await repo.get_order(session, payload.order_id, None)
    if row is None or not payload.fully_shipped or row.status != "paid":
        return
    await repo.update_order(session, row.id, {"status": "shipped"}, None)
    row = await repo.get_order(session, row.id, None)
    lines = (await repo.lines_of(session, [row.id]))[row.id]
    await add_event(session, make_event(SOURCE, snapshot(row, lines, OrderUpdated), subject=str(row.id),
                                        tenant_id=str(row.merchant_id)))


HANDLERS = {
    "connection.connected": connection_connected,
    "connection.disconnected": connection_disconnected,
    "connection.needs_reauth": connection_needs_reauth,
    "shipment.booked": shipment_booked,
    "order.fulfilled": order_fulfilled,
}
