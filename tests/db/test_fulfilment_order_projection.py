"""Fulfilment's `order.paid` BatchHandler against the migrated fulfilment schema of the test stack."""

from __future__ import annotations

import uuid
from decimal import Decimal

import sqlalchemy as sa

from services.fulfilment.consumers import order_cancelled, order_snapshots
from services.fulfilment.models import orders, shipments
from shared.db import create_engine_for_schema, session_factory
from shared.events import make_event
from shared.events.payloads import Address, Buyer, OrderCancelled, OrderLine, OrderPaid
from shared.messaging.tables import outbox


def _paid(order_id: uuid.UUID, *quantities: int, version: int | None = None):
    payload = OrderPaid(
        order_id=order_id, merchant_id=uuid.uuid4(), connection_id=uuid.uuid4(), marketplace="etsy",
        external_id=str(order_id.int % 10**9), status="paid", buyer=Buyer(email="b@example.com"),
        shipping_address=Address(), billing_address=Address(), billing_copied_from_shipping=True, total=Decimal("9.50"),
        currency="EUR",
        lines=[OrderLine(external_id=f"line-{i}", title="Mug", quantity=q, unit_price=Decimal("9.50"))
               for i, q in enumerate(quantities)])
    return make_event("test", payload, subject=str(order_id), tenant_id=str(payload.merchant_id),
                      aggregate_version=version), payload


async def test_a_batch_of_paid_orders_is_one_upsert_where_the_later_event_of_an_order_wins(stack, settings):
    engine = create_engine_for_schema(settings.database_url, "fulfilment", pool_size=1)
    first, second = uuid.uuid4(), uuid.uuid4()
    try:
        async with session_factory(engine)() as session, session.begin():
            await order_snapshots(session, [_paid(first, 1), _paid(second, 2, 3), _paid(first, 4)])
        async with engine.connect() as conn:
            rows = dict((await conn.execute(
                sa.select(orders.c.order_id, orders.c.lines).where(orders.c.order_id.in_([first, second])))).all())
    finally:
        await engine.dispose()
    assert rows == {
        first: [{"external_id": "line-0", "quantity": 4}],
        second: [{"external_id": "line-0", "quantity": 2}, {"external_id": "line-1", "quantity": 3}],
    }


async def test_in_one_batch_the_newest_version_of_an_order_wins_and_an_unversioned_event_cannot_undo_it(stack, settings):
    engine = create_engine_for_schema(settings.database_url, "fulfilment", pool_size=1)
    order_id = uuid.uuid4()
    try:
        async with session_factory(engine)() as session, session.begin():
            await order_snapshots(session, [_paid(order_id, 1, version=1), _paid(order_id, 5, version=3),
                                            _paid(order_id, 2, version=2)])
        async with session_factory(engine)() as session, session.begin():
            await order_snapshots(session, [_paid(order_id, 7)])  # published before versions existed
        async with engine.connect() as conn:
            row = (await conn.execute(sa.select(orders).where(orders.c.order_id == order_id))).one()
    finally:
        await engine.dispose()
    assert (row.lines, row.version) == ([{"external_id": "line-0", "quantity": 5}], 3)


async def test_order_cancelled_withdraws_the_shipments_not_pushed_yet_and_says_so(stack, settings):
    """A shipment booked while the orders service was cancelling at the marketplace is withdrawn with
    `shipment.cancelled` (the next version of that shipment); one whose tracking already reached the
    marketplace is history and stays."""
    engine = create_engine_for_schema(settings.database_url, "fulfilment", pool_size=1)
    order_id = uuid.uuid4()
    event, paid = _paid(order_id, 2, version=1)
    pending, pushed = uuid.uuid4(), uuid.uuid4()
    try:
        async with session_factory(engine)() as session, session.begin():
            await order_snapshots(session, [(event, paid)])
            await session.execute(shipments.insert(), [
                {"id": shipment_id, "order_id": order_id, "merchant_id": paid.merchant_id, "carrier": "UPS",
                 "tracking_number": f"1Z-{status}", "status": status}
                for shipment_id, status in ((pending, "pending"), (pushed, "pushed"))])
        cancelled = OrderCancelled(order_id=order_id, merchant_id=paid.merchant_id, connection_id=paid.connection_id,
                                   marketplace="etsy", external_id=paid.external_id, reason="buyer asked")
        async with session_factory(engine)() as session, session.begin():
            await order_cancelled(session, make_event("test", cancelled, subject=str(order_id),
                                                      tenant_id=str(paid.merchant_id), aggregate_version=2), cancelled)
        async with engine.connect() as conn:
            states = {row.id: (row.status, row.version) for row in (await conn.execute(
                sa.select(shipments).where(shipments.c.order_id == order_id))).all()}
            staged = (await conn.execute(sa.select(outbox.c.topic, outbox.c.event).where(
                outbox.c.topic == "shipment.cancelled", outbox.c.key == str(order_id)))).all()
    finally:
        await engine.dispose()
    assert states == {pending: ("cancelled", 2), pushed: ("pushed", 1)}
    assert [(e["data"]["shipment_id"], e["aggregateversion"]) for _, e in staged] == [(str(pending), 2)]
