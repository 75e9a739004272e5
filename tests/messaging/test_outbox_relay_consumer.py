"""The event backbone against the real embedded Postgres and Tansu broker: outbox → relay → Kafka → runner."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid

import pytest
import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.partitioner import DefaultPartitioner

from shared.background import running
from shared.db import session_factory
from shared.devstack.infra import TansuBroker
from shared.events import dlq_topic
from shared.messaging.consumer import ConsumerRunner
from shared.messaging.dlq import read_dead_letters
from shared.messaging.failures import TransientError
from shared.messaging.kafka import ensure_topics
from shared.messaging.relay import OutboxRelay
from shared.messaging.tables import outbox
from tests.conftest import eventually
from tests.messaging.harness import (
    TOPIC,
    backbone,
    cancelled_event,
    create_test_service,
    effect_count,
    publish,
    record_effect,
)


async def test_committed_event_is_delivered_exactly_once(settings):
    schema, engine = await create_test_service(settings.database_url)
    event = cancelled_event()
    await publish(engine, event)
    async with running(*backbone(settings, schema, engine)):
        async def applied():
            return await effect_count(engine, event.id) == 1
        await eventually(applied)
        marker = cancelled_event("marker")
        await publish(engine, marker)
        async def marker_applied():
            return await effect_count(engine, marker.id) == 1
        await eventually(marker_applied)
    assert await effect_count(engine, event.id) == 1
    async with engine.connect() as conn:
        published = await conn.scalar(sa.select(outbox.c.published_at).where(outbox.c.id == uuid.UUID(event.id)))
    assert published is not None


async def test_event_of_rolled_back_transaction_is_never_delivered(settings):
    schema, engine = await create_test_service(settings.database_url)
    ghost, marker = cancelled_event("ghost"), cancelled_event("marker")
    await publish(engine, ghost, commit=False)
    async with running(*backbone(settings, schema, engine)):
        await publish(engine, marker)
        async def marker_applied():
            return await effect_count(engine, marker.id) == 1
        await eventually(marker_applied)
    assert await effect_count(engine, ghost.id) == 0
    async with engine.connect() as conn:
        assert await conn.scalar(sa.select(sa.func.count()).select_from(outbox)) == 1


async def test_events_wait_in_outbox_while_broker_is_down_and_flow_after_restart(settings, tmp_path):
    """The relay keeps events (with failed attempts counted) while the broker is down and delivers them after.

    The dev broker keeps nothing across a restart (offsets start again at 0, group state is gone), so the
    consumer side is started afresh after it, as every service would be on a dev-stack restart; with a
    real Kafka the running consumer simply carries on.
    """
    own_broker = TansuBroker(log_path=tmp_path / "tansu.log")
    own_broker.start()
    settings = settings.model_copy(update={"kafka_bootstrap_servers": own_broker.bootstrap_servers})
    schema, engine = await create_test_service(settings.database_url)
    relay, consumer = backbone(settings, schema, engine, group="outage")
    try:
        async with running(relay):
            first = cancelled_event("before outage")
            async with running(consumer):
                await publish(engine, first)
                async def first_applied():
                    return await effect_count(engine, first.id) == 1
                await eventually(first_applied)

            own_broker.stop()
            during = [cancelled_event(f"outage {i}") for i in range(5)]
            await publish(engine, *during)

            async def relay_has_failed_attempts():
                async with engine.connect() as conn:
                    return await conn.scalar(sa.select(sa.func.count()).select_from(outbox).where(
                        outbox.c.published_at.is_(None), outbox.c.attempts > 0)) == 5
            await eventually(relay_has_failed_attempts, timeout=40)

            own_broker.start()
            consumer_after = ConsumerRunner(settings, group_id="outage", handlers={TOPIC: record_effect},
                                            sessions=session_factory(engine), retry_backoff_s=0.05)
            async with running(consumer_after.run()):
                for event in during:
                    async def applied(event=event):
                        return await effect_count(engine, event.id) == 1
                    await eventually(applied, timeout=60)
        assert await effect_count(engine, first.id) == 1
    finally:
        own_broker.stop()


async def _committed_offset(settings, group: str) -> int:
    """Sum of the group's committed offsets on TOPIC (asked as a non-member, so no rebalance is caused)."""
    probe = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap_servers, group_id=group,
                             enable_auto_commit=False)
    await probe.start()
    try:
        parts = probe.partitions_for_topic(TOPIC) or range(settings.kafka_topic_partitions)
        committed = [await probe.committed(TopicPartition(TOPIC, p)) for p in parts]
    finally:
        await probe.stop()
    return sum(c or 0 for c in committed)


async def _topic_end_offset(settings) -> int:
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap_servers)
    await consumer.start()
    try:
        parts = [TopicPartition(TOPIC, p) for p in consumer.partitions_for_topic(TOPIC) or range(settings.kafka_topic_partitions)]
        ends = await consumer.end_offsets(parts)
    finally:
        await consumer.stop()
    return sum(ends.values())


async def test_consumer_killed_after_effect_before_offset_commit_applies_nothing_twice(settings):
    schema, engine = await create_test_service(settings.database_url)
    group = f"crash-{uuid.uuid4().hex[:8]}"
    await ensure_topics(settings, [TOPIC, dlq_topic(TOPIC)])
    start_offset = await _committed_offset(settings, group)
    event = cancelled_event("crash")

    env = {**os.environ, "CB_DATABASE_URL": settings.database_url,
           "CB_KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers, "CB_LOG_LEVEL": "WARNING"}
    async with running(OutboxRelay(settings, schema, idle_poll_s=0.2).run()):
        await publish(engine, event)
        proc = subprocess.Popen([sys.executable, "-m", "tests.messaging.crashing_consumer", schema, group], env=env)
        try:
            code = await asyncio.to_thread(proc.wait, 90)
        finally:
            proc.kill()
        assert code == 17, "the consumer should have died right after its effect"
        assert await effect_count(engine, event.id) == 1
        assert await _committed_offset(settings, group) == start_offset, "offset must not have been committed"

        # A new member of the same group gets the same message again and must skip it.
        runner = ConsumerRunner(settings, group_id=group, handlers={TOPIC: record_effect},
                                sessions=session_factory(engine))
        async with running(runner.run()):
            end = await _topic_end_offset(settings)
            async def caught_up():
                return await _committed_offset(settings, group) >= end
            await eventually(caught_up, timeout=60)
    assert await effect_count(engine, event.id) == 1


async def test_malformed_message_goes_to_dlq_and_next_message_is_processed(settings):
    schema, engine = await create_test_service(settings.database_url)
    await ensure_topics(settings, [TOPIC, dlq_topic(TOPIC)])
    poison_key = f"poison-{uuid.uuid4().hex}".encode()
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers)
    await producer.start()
    try:
        # Same key as nothing else, but sent before the good event on every partition it could share.
        await producer.send_and_wait(TOPIC, b'{"specversion": "1.0", "id": "x", "type": "order.cancelled"}',
                                     key=poison_key)
        await producer.send_and_wait(TOPIC, b"\xff not json", key=poison_key)
    finally:
        await producer.stop()
    good = cancelled_event("after poison")
    await publish(engine, good)

    dlq = AIOKafkaConsumer(dlq_topic(TOPIC), bootstrap_servers=settings.kafka_bootstrap_servers,
                           auto_offset_reset="earliest", group_id=None)
    async with running(*backbone(settings, schema, engine)):
        async def good_applied():
            return await effect_count(engine, good.id) == 1
        await eventually(good_applied)
        await dlq.start()
        try:
            reasons = []
            async def poison_dead_lettered():
                batch = await dlq.getmany(timeout_ms=200)
                reasons.extend(dict(r.headers)["cb-dlq-reason"].decode() for rs in batch.values() for r in rs
                               if r.key == poison_key)
                return len(reasons) >= 2
            await eventually(poison_dead_lettered)
        finally:
            await dlq.stop()
    assert any(r == "invalid CloudEvent envelope: source: Field required" for r in reasons), reasons
    assert any("invalid CloudEvent envelope" in r for r in reasons), reasons


@pytest.mark.parametrize("failures", [1, 10])
async def test_failing_handler_is_retried_then_dead_lettered_without_blocking(settings, failures):
    schema, engine = await create_test_service(settings.database_url)
    flaky = cancelled_event("flaky")
    attempts = {"n": 0}

    async def flaky_handler(session, event, payload):
        if event.id == flaky.id and attempts["n"] < failures:
            attempts["n"] += 1
            raise RuntimeError("downstream hiccup")
        await record_effect(session, event, payload)

    after = cancelled_event("after flaky")
    await publish(engine, flaky, after)
    runner = ConsumerRunner(settings, group_id=f"g-{uuid.uuid4().hex[:8]}", handlers={TOPIC: flaky_handler},
                            sessions=session_factory(engine), max_attempts=3, retry_backoff_s=0.01)
    async with running(OutboxRelay(settings, schema, idle_poll_s=0.2).run(), runner.run()):
        async def settled():
            # The retries run in partition order, so `after` may be applied just before or after `flaky`.
            return await effect_count(engine, after.id) == 1 and (
                failures > 1 or await effect_count(engine, flaky.id) == 1)
        await eventually(settled)
    # One failure is absorbed by a retry; ten exceed max_attempts and the event is dead-lettered, not applied.
    assert await effect_count(engine, flaky.id) == (1 if failures == 1 else 0)


async def test_transient_handler_failure_is_retried_past_max_attempts_and_never_dead_lettered(settings):
    """Ten transient failures against max_attempts=3: the partition waits and retries; nothing goes to the DLQ."""
    schema, engine = await create_test_service(settings.database_url)
    await ensure_topics(settings, [TOPIC, dlq_topic(TOPIC)])
    slow = cancelled_event("downstream down")
    attempts = {"n": 0}

    async def handler(session, event, payload):
        if event.id == slow.id and attempts["n"] < 10:
            attempts["n"] += 1
            raise TransientError("downstream unavailable")
        await record_effect(session, event, payload)

    group = f"g-{uuid.uuid4().hex[:8]}"
    await publish(engine, slow)
    runner = ConsumerRunner(settings, group_id=group, handlers={TOPIC: handler}, sessions=session_factory(engine),
                            max_attempts=3, retry_backoff_s=0.01, max_backoff_s=0.1)
    async with running(OutboxRelay(settings, schema, idle_poll_s=0.2).run(), runner.run()):
        async def applied():
            return await effect_count(engine, slow.id) == 1
        await eventually(applied, timeout=60)
    assert attempts["n"] == 10
    assert [d for d in await read_dead_letters(settings, TOPIC) if d.event_id == slow.id] == []


def _partition_of(key: str, partitions: int) -> int:
    """Where the producer's default partitioner puts a key (the same murmur2 as Kafka's Java client)."""
    return DefaultPartitioner()(key.encode(), list(range(partitions)), list(range(partitions)))


async def test_transient_failure_pauses_only_its_partition_and_keeps_its_order(settings):
    """An event that keeps failing transiently holds back the events after it on its partition, not others."""
    schema, engine = await create_test_service(settings.database_url)
    await ensure_topics(settings, [TOPIC, dlq_topic(TOPIC)])
    partitions = settings.kafka_topic_partitions
    stuck = cancelled_event("stuck")
    other_key = next(k for k in (uuid.uuid4() for _ in range(100))
                     if _partition_of(str(k), partitions) != _partition_of(stuck.key, partitions))
    behind = cancelled_event("behind the stuck one", order_id=uuid.UUID(stuck.key))  # same key, same partition
    elsewhere = cancelled_event("on another partition", order_id=other_key)
    downstream_up = {"yes": False}

    async def handler(session, event, payload):
        if event.id == stuck.id and not downstream_up["yes"]:
            raise TransientError("downstream unavailable")
        await record_effect(session, event, payload)

    await publish(engine, stuck, behind, elsewhere)  # one transaction: the same fetch for all three
    runner = ConsumerRunner(settings, group_id=f"g-{uuid.uuid4().hex[:8]}", handlers={TOPIC: handler},
                            sessions=session_factory(engine), retry_backoff_s=0.05, max_backoff_s=0.2)
    async with running(OutboxRelay(settings, schema, idle_poll_s=0.2).run(), runner.run()):
        async def elsewhere_applied():
            return await effect_count(engine, elsewhere.id) == 1
        await eventually(elsewhere_applied, timeout=60)
        assert await effect_count(engine, behind.id) == 0, "an event overtook the stuck one on its partition"
        downstream_up["yes"] = True

        async def all_applied():
            return all([await effect_count(engine, e.id) == 1 for e in (stuck, behind, elsewhere)])
        await eventually(all_applied, timeout=60)
    dead = {d.event_id for d in await read_dead_letters(settings, TOPIC)}
    assert not dead & {stuck.id, behind.id, elsewhere.id}
