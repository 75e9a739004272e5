"""Scaled out: two replicas of a service share its consumer group and its outbox relay election.

Replicas join and leave while events flow (a rolling deploy); every event is still applied exactly once.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from shared.background import running
from tests.conftest import eventually
from tests.messaging.harness import (
    backbone,
    cancelled_event,
    create_test_service,
    effects,
    publish,
)


async def _applied(engine, events) -> dict[str, int]:
    async with engine.connect() as conn:
        rows = await conn.execute(sa.select(effects.c.event_id, sa.func.count()).group_by(effects.c.event_id)
                                  .where(effects.c.event_id.in_([e.id for e in events])))
        return dict(rows.all())


async def test_replicas_joining_and_leaving_apply_every_event_once(settings):
    schema, engine = await create_test_service(settings.database_url)
    group = f"g-{uuid.uuid4().hex[:8]}"
    waves = [[cancelled_event(f"wave {w} #{i}") for i in range(40)] for w in range(3)]

    async def all_applied(events):
        async def check():
            return len(await _applied(engine, events)) == len(events)
        await eventually(check, timeout=120)

    async with running(*backbone(settings, schema, engine, group)):  # replica A
        await publish(engine, *waves[0])
        async with running(*backbone(settings, schema, engine, group)):  # replica B joins: a rebalance
            await publish(engine, *waves[1])
            await all_applied(waves[0] + waves[1])
        await publish(engine, *waves[2])  # B has left: A takes its partitions back (and the relay, if B led)
        await all_applied(waves[0] + waves[1] + waves[2])
    counts = await _applied(engine, [e for wave in waves for e in wave])
    assert set(counts.values()) == {1}, {k: v for k, v in counts.items() if v != 1}
