"""Status columns stay `text` in the migrated schemas, read back as their StrEnum and refuse other values."""

from __future__ import annotations

import re
import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import StatementError

from services.fulfilment.models import orders, shipments
from shared.db import create_engine_for_schema
from shared.statuses import ConnectionStatus, OrderStatus, ShipmentStatus


async def test_the_migrated_connections_check_admits_exactly_the_connection_statuses(stack, settings):
    engine = create_engine_for_schema(settings.database_url, "auth", pool_size=1)
    try:
        async with engine.connect() as conn:
            definition = (await conn.execute(sa.text(
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'ck_connections_status'"
            ))).scalar_one()
    finally:
        await engine.dispose()
    assert set(re.findall(r"'([a-z_]+)'", definition)) == {status.value for status in ConnectionStatus}


async def test_a_shipment_status_reads_back_as_its_enum_and_a_typo_writes_nothing(stack, settings):
    engine = create_engine_for_schema(settings.database_url, "fulfilment", pool_size=1)
    order_id, merchant_id = uuid.uuid4(), uuid.uuid4()
    shipment = {"order_id": order_id, "merchant_id": merchant_id, "carrier": "DPD", "tracking_number": "T1"}
    try:
        async with engine.begin() as conn:
            await conn.execute(orders.insert().values(
                order_id=order_id, merchant_id=merchant_id, connection_id=uuid.uuid4(), marketplace="etsy",
                external_id="1", status="paid", lines=[]))
            await conn.execute(shipments.insert().values(id=uuid.uuid4(), status=ShipmentStatus.PENDING, **shipment))
        with pytest.raises(StatementError, match="'sent' is not a ShipmentStatus"):
            async with engine.begin() as conn:
                await conn.execute(shipments.insert().values(id=uuid.uuid4(), status="sent", **shipment))
        async with engine.connect() as conn:
            order_status = (await conn.execute(
                sa.select(orders.c.status).where(orders.c.order_id == order_id))).scalar_one()
            stored = (await conn.execute(sa.select(shipments.c.status).where(shipments.c.order_id == order_id))).all()
            raw = (await conn.execute(sa.text("SELECT status FROM shipments WHERE order_id = :id"),
                                      {"id": order_id})).scalars().all()
    finally:
        await engine.dispose()
    assert order_status is OrderStatus.PAID
    assert [row.status for row in stored] == [ShipmentStatus.PENDING] and type(stored[0].status) is ShipmentStatus
    assert raw == ["pending"]
