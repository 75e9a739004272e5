"""Booking a shipment: validate it against the order, store it and `shipment.booked` in one transaction.

The order's projection row is locked (`SELECT … FOR UPDATE`) for the whole booking, so two bookings of one
order, or a booking and the application of `order.cancelled`, take turns: each sees what the other committed. Quantities are
summed per order line across the request's lines and the shipments already booked.
"""

from __future__ import annotations

import hashlib
import json
import uuid

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.fulfilment import repository as repo
from services.fulfilment.errors import (
    IdempotencyKeyReused,
    InvalidShipmentLine,
    OrderCancelled,
    OrderNotFound,
    ShipmentNotFound,
)
from services.fulfilment.rules import can_book, line_error
from services.fulfilment.schemas import ShipmentIn
from shared.events import make_event
from shared.events.payloads import ShipmentBooked
from shared.messaging.outbox import add_event
from shared.statuses import ShipmentStatus
from shared.web.identity import Identity

SOURCE = "channelbridge/fulfilment"


async def book_shipment(session: AsyncSession, identity: Identity, order_id: uuid.UUID, body: ShipmentIn,
                        idempotency_key: str | None) -> tuple[object, bool]:
    """Returns (shipment row, created). A repeated Idempotency-Key returns the first shipment unchanged,
    provided it comes with the same order and body; reused for anything else it is IdempotencyKeyReused."""
    order = await repo.get_order(session, order_id, identity.merchant_id, for_update=True)
    if order is None:
        raise OrderNotFound(f"order {order_id} not found")
    fingerprint = request_fingerprint(order_id, body)
    if idempotency_key:
        existing = await repo.shipment_by_idempotency_key(session, order.merchant_id, idempotency_key)
        if existing is not None:
            return _same_request(existing, order_id, fingerprint), False
    if not can_book(order.status):
        raise OrderCancelled("the order is cancelled and cannot be shipped")
    ordered = {line["external_id"]: line["quantity"] for line in order.lines}
    if error := line_error(ordered, body.lines, await repo.shipped_quantities(session, order_id, ordered)):
        raise InvalidShipmentLine(*error)

    shipment_id = uuid.uuid4()
    lines = [line.model_dump() for line in body.lines]
    try:
        async with session.begin_nested():
            await repo.insert_shipment(session, {
                "id": shipment_id, "order_id": order_id, "merchant_id": order.merchant_id, "carrier": body.carrier,
                "tracking_number": body.tracking_number, "lines": lines, "note": body.note, "status": ShipmentStatus.PENDING,
                "idempotency_key": idempotency_key, "idempotency_fingerprint": fingerprint if idempotency_key else None,
                "last_error": None, "version": 1})
    except IntegrityError:  # the same Idempotency-Key raced us (from a booking of another order: ours is locked)
        existing = await repo.shipment_by_idempotency_key(session, order.merchant_id, idempotency_key)
        return _same_request(existing, order_id, fingerprint), False
    await add_event(session, make_event(SOURCE, ShipmentBooked(
        shipment_id=shipment_id, order_id=order_id, merchant_id=order.merchant_id, carrier=body.carrier,
        tracking_number=body.tracking_number, lines=body.lines,
    ), subject=str(order_id), tenant_id=str(order.merchant_id), aggregate_version=1))
    await session.commit()
    return await repo.get_shipment(session, shipment_id, None), True


async def get_shipment_of(session: AsyncSession, shipment_id: uuid.UUID, merchant_id: uuid.UUID | None):
    """The merchant's shipment (None: any merchant's)."""
    row = await repo.get_shipment(session, shipment_id, merchant_id)
    if row is None:
        raise ShipmentNotFound(f"shipment {shipment_id} not found")
    return row


def request_fingerprint(order_id: uuid.UUID, body: ShipmentIn) -> str:
    """SHA-256 of the route and the validated body in canonical JSON: key order, spacing and defaults
    left out or spelled out do not make two requests different."""
    canonical = json.dumps({"route": f"POST /v1/orders/{order_id}/shipments", "body": body.model_dump(mode="json")},
                           sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _same_request(existing, order_id: uuid.UUID, fingerprint: str):
    """The shipment a key already made, if this request is the one that made it.

    Shipments booked before fingerprints were stored are matched on the order alone."""
    same = (existing.idempotency_fingerprint == fingerprint if existing.idempotency_fingerprint is not None
            else existing.order_id == order_id)
    if not same:
        raise IdempotencyKeyReused("already used for another request (another order or body); "
                                   "send a new key for a new shipment")
    return existing
