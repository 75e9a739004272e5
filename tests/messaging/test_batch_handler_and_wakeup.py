"""BatchHandler delivery and the relay's wake-up at commit, against the real embedded Postgres and Tansu."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer

from shared.background import running
from shared.db import session_factory
from shared.events import dlq_topic
from shared.messaging.consumer import BatchHandler, ConsumerRunner
from shared.messaging.kafka import ensure_topics
from shared.messaging.relay import OutboxRelay
from shared.messaging.tables import inbox, outbox
from tests.conftest import eventually
from tests.messaging.harness import (
    TOPIC,
    cancelled_event,
    create_test_service,
    effect_count,
    effects,
    publish,
    record_effect,
)


async def _all_published(engine) -> bool:
    async with engine.connect() as conn:
        return await conn.scalar(sa.select(sa.func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))) == 0


async def _effects_of(engine, events) -> int:
    """Effect rows of these events only: a new group also reads what earlier tests put on the shared topic."""
    async with engine.connect() as conn:
        return await conn.scalar(sa.select(sa.func.count()).select_from(effects)
                                 .where(effects.c.event_id.in_([e.id for e in events])))


async def test_batch_handler_gets_the_new_events_of_a_fetch_together(settings):
    schema, engine = await create_test_service(settings.database_url)
    group = f"g-{uuid.uuid4().hex[:8]}"
    events = [cancelled_event(f"batch {i}") for i in range(30)]
    done_before = events[7]
    async with engine.begin() as conn:  # as if a previous run had applied it and crashed before the offset commit
        await conn.execute(inbox.insert().values(consumer=group, event_id=done_before.id, topic=TOPIC))
    calls: list[list[str]] = []

    async def record_all(session, received):
        calls.append([event.id for event, _ in received])
        await session.execute(effects.insert(), [{"event_id": event.id} for event, _ in received])

    await publish(engine, *events)
    async with running(OutboxRelay(settings, schema, idle_poll_s=0.2).run()):
        await eventually(lambda: _all_published(engine))  # everything is in the log before the consumer starts
        runner = ConsumerRunner(settings, group_id=group, handlers={TOPIC: BatchHandler(record_all)},
                                sessions=session_factory(engine))
        async with running(runner.run()):
            async def applied():
                return await _effects_of(engine, events) == len(events) - 1
            await eventually(applied, timeout=60)
    ours = {e.id for e in events}
    delivered = [event_id for call in calls for event_id in call if event_id in ours]
    assert sorted(delivered) == sorted(e.id for e in events if e is not done_before)
    assert sum(1 for call in calls if ours.intersection(call)) < len(delivered), \
        "a fetch's events should arrive in one call, not one by one"
    assert await effect_count(engine, done_before.id) == 0


async def test_failing_batch_is_retried_one_event_at_a_time_and_the_poison_one_dead_lettered(settings):
    schema, engine = await create_test_service(settings.database_url)
    await ensure_topics(settings, [TOPIC, dlq_topic(TOPIC)])
    events = [cancelled_event(f"batch {i}") for i in range(10)]
    poison = events[4]
    sizes: list[int] = []

    async def record_all(session, received):
        sizes.append(len(received))
        if any(event.id == poison.id for event, _ in received):
            raise RuntimeError("cannot apply this one")
        await session.execute(effects.insert(), [{"event_id": event.id} for event, _ in received])

    await publish(engine, *events)
    runner = ConsumerRunner(settings, group_id=f"g-{uuid.uuid4().hex[:8]}", handlers={TOPIC: BatchHandler(record_all)},
                            sessions=session_factory(engine), max_attempts=2, retry_backoff_s=0.01)
    dlq = AIOKafkaConsumer(dlq_topic(TOPIC), bootstrap_servers=settings.kafka_bootstrap_servers,
                           auto_offset_reset="earliest", group_id=None)
    async with running(OutboxRelay(settings, schema, idle_poll_s=0.2).run(), runner.run()):
        async def others_applied():
            return await _effects_of(engine, events) == len(events) - 1
        await eventually(others_applied, timeout=60)
        await dlq.start()
        try:
            dead: list[str] = []
            async def poison_dead_lettered():
                batch = await dlq.getmany(timeout_ms=200)
                dead.extend(dict(r.headers)["ce_id"].decode() for rs in batch.values() for r in rs)
                return poison.id in dead
            await eventually(poison_dead_lettered)
        finally:
            await dlq.stop()
    for event in events:
        assert await effect_count(engine, event.id) == (0 if event is poison else 1)
    assert 1 in sizes, "after a failed batch the events are applied one at a time"


async def test_relay_is_woken_by_the_commit_not_by_its_poll(settings):
    schema, engine = await create_test_service(settings.database_url)
    relay = OutboxRelay(settings, schema, idle_poll_s=3600)  # a poll would come far too late for this test
    runner = ConsumerRunner(settings, group_id=f"g-{uuid.uuid4().hex[:8]}", handlers={TOPIC: record_effect},
                            sessions=session_factory(engine))
    first, second = cancelled_event("first"), cancelled_event("second")
    async with running(relay.run(), runner.run()):
        await publish(engine, first)
        await eventually(lambda: _applied(engine, first.id), timeout=60)
        await eventually(lambda: _all_published(engine))  # the relay is idle now, waiting for a NOTIFY
        await publish(engine, second)
        await eventually(lambda: _applied(engine, second.id), timeout=20)


async def _applied(engine, event_id: str) -> bool:
    return await effect_count(engine, event_id) == 1
