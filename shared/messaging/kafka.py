"""aiokafka clients configured the one way that works against both Apache Kafka and the dev broker (Tansu)."""

from __future__ import annotations

import asyncio
import contextlib

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from shared.settings import Settings

log = structlog.get_logger(__name__)


def make_producer(settings: Settings) -> AIOKafkaProducer:
    # No idempotent producer: Tansu rejects it, and the outbox + inbox make delivery effectively-once anyway.
    return AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        acks="all",
        linger_ms=0,
        request_timeout_ms=10_000,
        max_batch_size=256 * 1024,
        enable_idempotence=False,
    )


def make_consumer(settings: Settings, group_id: str, topics: list[str]) -> AIOKafkaConsumer:
    # Tansu holds JoinGroup for session_timeout/2: keep the session short and the request timeout above it.
    return AIOKafkaConsumer(
        *topics,
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=settings.kafka_session_timeout_ms,
        heartbeat_interval_ms=settings.kafka_heartbeat_interval_ms,
        request_timeout_ms=max(40_000, settings.kafka_session_timeout_ms + 5_000),
        max_poll_records=500,
        fetch_max_wait_ms=settings.kafka_fetch_max_wait_ms,
    )


async def ensure_topics(settings: Settings, topics: list[str]) -> None:
    """Create missing topics with our partition count (auto-created ones get the broker's default)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers, request_timeout_ms=10_000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in topics if t not in existing]
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):  # another replica won the race
                await admin.create_topics([NewTopic(t, settings.kafka_topic_partitions, 1) for t in missing])
            log.info("kafka.topics_created", topics=missing)
    finally:
        await admin.close()


async def broker_reachable(settings: Settings, wait_s: float = 2.0) -> bool:
    """Readiness probe: can we open a TCP connection to any bootstrap server?"""
    for server in settings.kafka_bootstrap_servers.split(","):
        host, _, port = server.strip().rpartition(":")
        try:
            async with asyncio.timeout(wait_s):
                _, writer = await asyncio.open_connection(host or "127.0.0.1", int(port))
        except (OSError, TimeoutError, ValueError):
            continue
        writer.close()
        return True
    return False
