"""A database outage in the middle of a stream of orders dead-letters nothing and applies every effect once.

Its own PostgreSQL (stopped and started by the test) and its own broker, so the session's servers are untouched.
The consumer runs fulfilment's real `order.paid` BatchHandler, plus a per-event handler whose effects table
has no unique constraint, so an effect applied twice would show as two rows.
"""

from __future__ import annotations

import asyncio
import uuid

import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from services.fulfilment.consumers import HANDLERS as FULFILMENT_HANDLERS
from services.fulfilment.main import SPEC as FULFILMENT
from services.fulfilment.models import orders
from shared.background import running
from shared.db import create_engine_for_schema, migrate_to_head, session_factory
from shared.devstack.infra import EmbeddedPostgres, TansuBroker
from shared.events import dlq_topic
from shared.messaging.consumer import ConsumerRunner
from shared.messaging.kafka import ensure_topics
from tests.conftest import eventually
from tests.db.test_fulfilment_order_projection import _paid
from tests.messaging.harness import TOPIC, cancelled_event, effects, effects_metadata, record_effect

OUTAGE_S = 10.0
ORDERS = 150


async def _dead_letters(bootstrap: str, topics: list[str]) -> int:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        parts = [TopicPartition(dlq_topic(t), p) for t in topics for p in consumer.partitions_for_topic(dlq_topic(t)) or ()]
        return sum((await consumer.end_offsets(parts)).values()) if parts else 0
    finally:
        await consumer.stop()


async def test_postgres_down_for_ten_seconds_mid_stream_dead_letters_nothing_and_applies_each_event_once(
        settings, tmp_path):
    server = EmbeddedPostgres(tmp_path / "pg", keep=True)
    broker = TansuBroker(log_path=tmp_path / "tansu.log")
    database_url = server.start()
    broker.start()
    settings = settings.model_copy(update={"database_url": database_url,
                                           "kafka_bootstrap_servers": broker.bootstrap_servers,
                                           "service_name": "fulfilment"})
    engine = create_engine_for_schema(database_url, "fulfilment", pool_size=4)
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap_servers, acks="all")
    try:
        await migrate_to_head(engine, FULFILMENT.migrations_dir, "fulfilment", FULFILMENT.metadata)
        async with engine.begin() as conn:
            await conn.run_sync(effects_metadata.create_all)
        topics = ["order.paid", TOPIC]
        await ensure_topics(settings, [t for topic in topics for t in (topic, dlq_topic(topic))])
        paid = [_paid(uuid.uuid4(), 1)[0] for _ in range(ORDERS)]
        cancelled = [cancelled_event(f"outage {i}") for i in range(ORDERS)]
        runner = ConsumerRunner(settings, group_id="fulfilment",
                                handlers={"order.paid": FULFILMENT_HANDLERS["order.paid"], TOPIC: record_effect},
                                sessions=session_factory(engine), max_backoff_s=1.0)
        await producer.start()

        async def stream(start: int, end: int) -> None:
            for paid_event, cancelled_event_ in zip(paid[start:end], cancelled[start:end], strict=True):
                await producer.send_and_wait("order.paid", paid_event.model_dump_json().encode(),
                                             key=paid_event.key.encode())
                await producer.send_and_wait(TOPIC, cancelled_event_.model_dump_json().encode(),
                                             key=cancelled_event_.key.encode())

        async def stored_orders() -> int:
            async with engine.connect() as conn:
                return await conn.scalar(sa.select(sa.func.count()).select_from(orders))

        async with running(runner.run()):
            await stream(0, 50)
            await eventually(lambda: _at_least(stored_orders, 1), timeout=60)  # mid-stream: consuming
            await asyncio.to_thread(server.stop)
            await stream(50, 120)
            await asyncio.sleep(OUTAGE_S)  # the outage itself: its length is the point of the test
            assert await asyncio.to_thread(server.start) == database_url
            await stream(120, ORDERS)

            async def all_applied():
                return await stored_orders() == ORDERS and await _effect_rows(engine) == ORDERS
            await eventually(all_applied, timeout=90)

        async with engine.connect() as conn:
            per_event = dict((await conn.execute(
                sa.select(effects.c.event_id, sa.func.count()).group_by(effects.c.event_id))).all())
        assert per_event == {e.id: 1 for e in cancelled}
        assert await _dead_letters(broker.bootstrap_servers, topics) == 0
    finally:
        await producer.stop()
        await engine.dispose()
        broker.stop()
        server.stop()


async def _at_least(count, n: int) -> bool:
    return await count() >= n


async def _effect_rows(engine) -> int:
    async with engine.connect() as conn:
        return await conn.scalar(sa.select(sa.func.count()).select_from(effects))
