"""A throw-away 'service' for messaging tests: its own schema with outbox, inbox and an effects table.

The effects table has no unique constraint on purpose: an effect applied twice shows up as two rows.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from shared.db import create_engine_for_schema, session_factory
from shared.events import make_event
from shared.events.payloads import OrderCancelled
from shared.messaging.consumer import ConsumerRunner
from shared.messaging.outbox import add_event
from shared.messaging.relay import OutboxRelay
from shared.messaging.tables import metadata as messaging_metadata

effects_metadata = sa.MetaData()
effects = sa.Table(
    "effects", effects_metadata,
    sa.Column("n", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("event_id", sa.Text, nullable=False),
)

TOPIC = "order.cancelled"


async def create_test_service(database_url: str, schema: str | None = None) -> tuple[str, AsyncEngine]:
    schema = schema or f"t_{uuid.uuid4().hex[:10]}"
    engine = create_engine_for_schema(database_url, schema, pool_size=4)
    async with engine.begin() as conn:
        await conn.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        await conn.run_sync(messaging_metadata.create_all)
        await conn.run_sync(effects_metadata.create_all)
    return schema, engine


def cancelled_event(reason: str = "test", *, order_id: uuid.UUID | None = None):
    """An `order.cancelled` event; its key is the order id, so events of one `order_id` share a partition."""
    payload = OrderCancelled(order_id=order_id or uuid.uuid4(), merchant_id=uuid.uuid4(), connection_id=uuid.uuid4(),
                             marketplace="etsy", external_id="1", reason=reason)
    return make_event("test", payload, subject=str(payload.order_id), tenant_id=str(payload.merchant_id))


async def record_effect(session: AsyncSession, event, _payload) -> None:
    await session.execute(effects.insert().values(event_id=event.id))


async def publish(engine: AsyncEngine, *events, commit: bool = True) -> None:
    async with session_factory(engine)() as session:
        for event in events:
            await add_event(session, event)
        if commit:
            await session.commit()
        else:
            await session.rollback()


async def effect_count(engine: AsyncEngine, event_id: str) -> int:
    async with engine.connect() as conn:
        return await conn.scalar(sa.select(sa.func.count()).select_from(effects).where(effects.c.event_id == event_id))


def backbone(settings, schema, engine, group=None, **runner_kw):
    """A relay and a runner recording effects for the service in `schema`, with test-speed polling and backoff."""
    group = group or f"g-{uuid.uuid4().hex[:8]}"
    relay = OutboxRelay(settings, schema, idle_poll_s=0.2, max_backoff_s=1.0)
    runner = ConsumerRunner(settings, group_id=group, handlers={TOPIC: record_effect},
                            sessions=session_factory(engine), retry_backoff_s=0.05, **runner_kw)
    return relay.run(), runner.run()
