"""Booking a shipment: validate it against the order, store it and `shipment.booked` in one transaction."""

from __future__ import annotations

import uuid

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.fulfilment import repository as repo
from services.fulfilment.schemas import ShipmentIn
from shared.events import make_event
from shared.events.payloads import ShipmentBooked
from shared.messaging.outbox import add_event
from shared.web.identity import Identity
from shared.web.problems import Problem

SOURCE = "channelbridge/fulfilment"


async def book_shipment(session: AsyncSession, identity: Identity, order_id: uuid.UUID, body: ShipmentIn,
                        idempotency_key: str | None) -> tuple[object, bool]:
    """Returns (shipment row, created). A repeated Idempotency-Key returns the first shipment unchanged."""
    order = await repo.get_order(session, order_id, identity.merchant_id)
    if order is None:
        raise Problem(404, f"order {order_id} not found", type_="not-found")
    if idempotency_key:
        existing = await repo.shipment_by_idempotency_key(session, order.merchant_id, idempotency_key)
        if existing is not None:
            return existing, False
    if order.status == "cancelled":
        raise Problem(409, "the order is cancelled and cannot be shipped", type_="order-cancelled")
    _check_lines(order, body, await repo.shipped_quantities(session, order_id))

    shipment_id = uuid.uuid4()
    lines = [line.model_dump() for line in body.lines]
    try:
        async with session.begin_nested():
            await repo.insert_shipment(session, {
                "id": shipment_id, "order_id": order_id, "merchant_id": order.merchant_id, "carrier": body.carrier,
                "tracking_number": body.tracking_number, "lines": lines, "note": body.note, "status": "pending",
                "idempotency_key": idempotency_key, "last_error": None})
    except IntegrityError:  # the same Idempotency-Key raced us
        return await repo.shipment_by_idempotency_key(session, order.merchant_id, idempotency_key), False
    await add_event(session, make_event(SOURCE, ShipmentBooked(
        shipment_id=shipment_id, order_id=order_id, merchant_id=order.merchant_id, carrier=body.carrier,
        tracking_number=body.tracking_number, lines=body.lines,
    ), subject=str(order_id), tenant_id=str(order.merchant_id)))
    await session.commit()
    return await repo.get_shipment(session, shipment_id, None), True


def _check_lines(order, body: ShipmentIn, shipped: dict[str, int]) -> None:
    ordered = {line["external_id"]: line["quantity"] for line in order.lines}
    for i, line in enumerate(body.lines):
        if line.order_line_external_id not in ordered:
            raise Problem(422, f"lines.{i}.order_line_external_id: no such line on this order",
                          type_="validation-error")
        left = ordered[line.order_line_external_id] - shipped.get(line.order_line_external_id, 0)
        if line.quantity > left:
            raise Problem(422, f"lines.{i}.quantity: only {left} left to ship", type_="validation-error")
