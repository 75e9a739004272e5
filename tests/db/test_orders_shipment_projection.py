"""The orders service's projection of fulfilment's shipments, fed inverted through its own handlers."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

from services.orders import repository as repo
from services.orders.consumers import order_fulfilled, shipment_booked
from shared.db import create_engine_for_schema, session_factory
from shared.events import make_event
from shared.events.payloads import OrderFulfilled, ShipmentBooked


async def test_order_fulfilled_before_shipment_booked_ends_confirmed_with_its_tracking(stack, settings):
    engine = create_engine_for_schema(settings.database_url, "orders", pool_size=1)
    sessions = session_factory(engine)
    order_id, merchant_id, shipment_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    booked = ShipmentBooked(shipment_id=shipment_id, order_id=order_id, merchant_id=merchant_id, carrier="UPS",
                            tracking_number="1Z999")
    fulfilled = OrderFulfilled(order_id=order_id, merchant_id=merchant_id, shipment_id=shipment_id,
                               marketplace="etsy", fully_shipped=False)
    try:
        async with sessions() as session, session.begin():
            await repo.insert_order(session, {
                "id": order_id, "merchant_id": merchant_id, "connection_id": uuid.uuid4(), "marketplace": "etsy",
                "external_id": str(order_id.int % 10**9), "status": "paid", "buyer": {}, "shipping_address": {},
                "billing_address": {}, "billing_copied_from_shipping": True, "total": Decimal("1"),
                "currency": "EUR", "marketplace_updated_at": datetime.now(UTC), "content_hash": "x"}, [])
        for payload, version in ((fulfilled, 2), (booked, 1)):
            async with sessions() as session, session.begin():
                event = make_event("test", payload, subject=str(order_id), tenant_id=str(merchant_id),
                                   aggregate_version=version)
                await (order_fulfilled if payload is fulfilled else shipment_booked)(session, event, payload)
        async with sessions() as session:
            [shipment] = (await repo.shipments_of(session, [order_id]))[order_id]
    finally:
        await engine.dispose()
    assert (shipment.status, shipment.carrier, shipment.tracking_number, shipment.version) == \
        ("confirmed", "UPS", "1Z999", 2)
