"""Per-key order end to end: events of one aggregate are applied in the order their transactions wrote them.

Writers of one aggregate take turns (in the services a row lock on the aggregate makes them), writers of
different aggregates run concurrently, every event in its own transaction, while the relay publishes in
batches of whatever has committed.
"""

from __future__ import annotations

import asyncio
import uuid

import sqlalchemy as sa

from shared.background import running
from tests.conftest import eventually
from tests.messaging.harness import backbone, cancelled_event, create_test_service, effects, publish

KEYS, PER_KEY = 4, 40


async def test_events_of_one_key_are_applied_in_the_order_they_were_written(settings):
    schema, engine = await create_test_service(settings.database_url)
    streams = {uuid.uuid4(): [] for _ in range(KEYS)}
    for order_id, events in streams.items():
        events.extend(cancelled_event(str(n), order_id=order_id) for n in range(PER_KEY))
    position = {e.id: (order_id, n) for order_id, events in streams.items() for n, e in enumerate(events)}

    async def write(events) -> None:
        for event in events:
            await publish(engine, event)

    async with running(*backbone(settings, schema, engine)):
        await asyncio.gather(*(write(events) for events in streams.values()))

        async def all_applied():
            async with engine.connect() as conn:
                count = await conn.scalar(sa.select(sa.func.count()).select_from(effects)
                                          .where(effects.c.event_id.in_(list(position))))
            return count == KEYS * PER_KEY
        await eventually(all_applied, timeout=60)

    async with engine.connect() as conn:
        applied = (await conn.execute(sa.select(effects.c.event_id).where(effects.c.event_id.in_(list(position)))
                                      .order_by(effects.c.n))).scalars().all()
    for order_id in streams:
        sequence = [position[event_id][1] for event_id in applied if position[event_id][0] == order_id]
        assert sequence == list(range(PER_KEY)), (order_id, sequence)
