"""Events the orders service reacts to: connections coming and going, shipments booked and confirmed."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.orders import repository as repo
from services.orders.events import stage
from services.orders.snapshots import snapshot
from shared.events import CloudEvent
from shared.events.payloads import (
    ConnectionConnected,
    ConnectionDisconnected,
    ConnectionNeedsReauth,
    OrderFulfilled,
    OrderUpdated,
    ShipmentBooked,
    ShipmentCancelled,
)
from shared.statuses import ConnectionStatus, OrderShipmentStatus, OrderStatus


async def connection_connected(session: AsyncSession, event: CloudEvent, payload: ConnectionConnected) -> None:
    """A shop to sync from now on (its first sync is due immediately and starts from `connected_at`), unless a
    newer event came first."""
    await repo.apply_connection_event(session, {
        "id": payload.connection_id, "merchant_id": payload.merchant_id, "marketplace": payload.marketplace,
        "shop_id": payload.shop_id, "shop_name": payload.shop_name, "status": ConnectionStatus.ACTIVE,
        "connected_at": payload.connected_at or event.time}, event.aggregate_version)


async def connection_disconnected(session: AsyncSession, event: CloudEvent, payload: ConnectionDisconnected) -> None:
    """Syncing stops; the orders already downloaded stay. Remembered even when it overtakes `connected`."""
    await repo.apply_connection_event(session, _connection(payload, ConnectionStatus.DISCONNECTED), event.aggregate_version)


async def connection_needs_reauth(session: AsyncSession, event: CloudEvent, payload: ConnectionNeedsReauth) -> None:
    await repo.apply_connection_event(session, _connection(payload, ConnectionStatus.NEEDS_REAUTH), event.aggregate_version)


def _connection(payload: ConnectionDisconnected | ConnectionNeedsReauth, status: ConnectionStatus) -> dict:
    return {"id": payload.connection_id, "merchant_id": payload.merchant_id, "marketplace": payload.marketplace,
            "status": status}


async def shipment_booked(session: AsyncSession, event: CloudEvent, payload: ShipmentBooked) -> None:
    if await repo.get_order(session, payload.order_id, None) is not None:
        await repo.apply_shipment_event(session, {
            "shipment_id": payload.shipment_id, "order_id": payload.order_id, "carrier": payload.carrier,
            "tracking_number": payload.tracking_number, "status": OrderShipmentStatus.BOOKED}, event.aggregate_version)


async def shipment_cancelled(session: AsyncSession, event: CloudEvent, payload: ShipmentCancelled) -> None:
    """Fulfilment withdrew a shipment (its order was cancelled before the tracking was pushed): the order
    reads with it as cancelled, and it no longer stands in the way of a cancellation."""
    if await repo.get_order(session, payload.order_id, None) is not None:
        await repo.apply_shipment_event(session, {"shipment_id": payload.shipment_id, "order_id": payload.order_id,
                                                  "status": OrderShipmentStatus.CANCELLED}, event.aggregate_version)


async def order_fulfilled(session: AsyncSession, event: CloudEvent, payload: OrderFulfilled) -> None:
    """The marketplace confirmed the tracking: the order is shipped (once fully shipped)."""
    row = await repo.get_order(session, payload.order_id, None)
    if row is None:
        return
    await repo.apply_shipment_event(session, {"shipment_id": payload.shipment_id, "order_id": payload.order_id,
                                              "status": OrderShipmentStatus.CONFIRMED}, event.aggregate_version)
    if not payload.fully_shipped or row.status != OrderStatus.PAID:
        return
    await repo.update_order(session, row.id, {"status": OrderStatus.SHIPPED}, None)
    row = await repo.get_order(session, row.id, None)
    lines = (await repo.lines_of(session, [row.id]))[row.id]
    await stage(session, row, snapshot(row, lines, OrderUpdated))


HANDLERS = {
    "connection.connected": connection_connected,
    "connection.disconnected": connection_disconnected,
    "connection.needs_reauth": connection_needs_reauth,
    "shipment.booked": shipment_booked,
    "shipment.cancelled": shipment_cancelled,
    "order.fulfilled": order_fulfilled,
}
