"""One aggregate's events on different topics, delivered inverted, through the running services' consumers.

Each event is published to its topic as the relay would, and the next one only after the service's inbox
shows the first was processed, so the inversion is certain. Projections must end in the newest state.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

import httpx
import sqlalchemy as sa

from services.fulfilment.models import orders as fulfilment_orders
from services.orders.models import connections as orders_connections
from shared.db import create_engine_for_schema
from shared.events import CloudEvent, make_event
from shared.events.payloads import (
    Address,
    Buyer,
    ConnectionConnected,
    ConnectionDisconnected,
    OrderCancelled,
    OrderLine,
    OrderPaid,
    OrderUpdated,
)
from shared.messaging.kafka import make_producer
from shared.messaging.tables import inbox
from tests.conftest import eventually
from tests.e2e.world import Merchant


async def _deliver(settings, service: str, event: CloudEvent) -> None:
    """Publish like the relay does, then wait until `service`'s consumer has recorded the event in its inbox."""
    producer = make_producer(settings)
    await producer.start()
    try:
        await producer.send_and_wait(event.type, event.model_dump_json().encode(), key=event.key.encode())
    finally:
        await producer.stop()
    engine = create_engine_for_schema(settings.database_url, service, pool_size=1)

    async def processed():
        async with engine.connect() as conn:
            return await conn.scalar(sa.select(sa.func.count()).select_from(inbox).where(
                inbox.c.consumer == service, inbox.c.event_id == event.id)) == 1
    try:
        await eventually(processed, timeout=60)
    finally:
        await engine.dispose()


async def _row(settings, service: str, table: sa.Table, key: sa.Column, value):
    engine = create_engine_for_schema(settings.database_url, service, pool_size=1)
    try:
        async with engine.connect() as conn:
            return (await conn.execute(sa.select(table).where(key == value))).one_or_none()
    finally:
        await engine.dispose()


def _order_event(model, order_id: uuid.UUID, merchant_id: uuid.UUID, version: int, quantity: int = 1,
                 status: str = "paid"):
    common = {"order_id": order_id, "merchant_id": merchant_id, "connection_id": uuid.UUID(int=order_id.int ^ 1),
              "marketplace": "etsy", "external_id": str(order_id.int % 10**9)}
    if model is OrderCancelled:
        payload = OrderCancelled(**common, reason="buyer asked")
    else:
        payload = model(**common, status=status, buyer=Buyer(email="b@example.com"), shipping_address=Address(),
                        billing_address=Address(), billing_copied_from_shipping=True, total=Decimal("9.50"),
                        currency="EUR", lines=[OrderLine(external_id="line-0", title="Mug", quantity=quantity,
                                                         unit_price=Decimal("9.50"))])
    return make_event("test", payload, subject=str(order_id), tenant_id=str(merchant_id), aggregate_version=version)


async def test_cancelled_before_paid_stays_cancelled_and_cannot_be_shipped(stack, settings):
    async with httpx.AsyncClient(base_url=stack.url("gateway"), timeout=30.0) as gateway:
        merchant = await Merchant.create(gateway)
        order_id, merchant_id = uuid.uuid4(), uuid.UUID(merchant.id)
        await _deliver(settings, "fulfilment", _order_event(OrderCancelled, order_id, merchant_id, version=2))
        await _deliver(settings, "fulfilment", _order_event(OrderPaid, order_id, merchant_id, version=1))

        row = await _row(settings, "fulfilment", fulfilment_orders, fulfilment_orders.c.order_id, order_id)
        assert (row.status, row.version) == ("cancelled", 2)
        refused = await gateway.post(f"/v1/orders/{order_id}/shipments", headers=merchant.headers,
                                     json={"carrier": "UPS", "tracking_number": "1Z"})
        assert refused.status_code == 409 and refused.json()["type"].endswith("/order-cancelled"), refused.text


async def test_stale_order_updated_after_a_newer_one_is_ignored(stack, settings):
    order_id, merchant_id = uuid.uuid4(), uuid.uuid4()
    await _deliver(settings, "fulfilment", _order_event(OrderPaid, order_id, merchant_id, version=1, quantity=2))
    await _deliver(settings, "fulfilment", _order_event(OrderUpdated, order_id, merchant_id, version=3, status="shipped"))
    await _deliver(settings, "fulfilment", _order_event(OrderUpdated, order_id, merchant_id, version=2, status="paid"))

    row = await _row(settings, "fulfilment", fulfilment_orders, fulfilment_orders.c.order_id, order_id)
    # Lines stay those of the first snapshot (what was ordered); status and version follow the newest event.
    assert (row.lines, row.version, row.status) == ([{"external_id": "line-0", "quantity": 2}], 3, "shipped")


async def test_disconnected_before_connected_stays_disconnected(stack, settings):
    connection_id, merchant_id = uuid.uuid4(), uuid.uuid4()
    common = {"connection_id": connection_id, "merchant_id": merchant_id, "marketplace": "etsy"}
    disconnected = make_event("test", ConnectionDisconnected(**common), subject=str(connection_id),
                              tenant_id=str(merchant_id), aggregate_version=2)
    connected = make_event("test", ConnectionConnected(**common, shop_id="42", shop_name="Late Shop"),
                           subject=str(connection_id), tenant_id=str(merchant_id), aggregate_version=1)
    await _deliver(settings, "orders", disconnected)
    await _deliver(settings, "orders", connected)

    row = await _row(settings, "orders", orders_connections, orders_connections.c.id, connection_id)
    assert (row.status, row.version) == ("disconnected", 2)
