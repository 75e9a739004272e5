"""Raw baselines: the least work that moves the same messages and rows, measured in the same run.

The Kafka clients get the settings the backbone's clients use (the producer is `make_producer`'s, the
consumer has the same fetch settings), so a ratio measures the backbone's machinery, not a client setting.
Everything the raw paths would not do themselves (building the events, serialising the JSON) happens
before the clock.
The consumer uses the runner's fetch_max_wait_ms (Settings.kafka_fetch_max_wait_ms): Tansu holds each Fetch
for about half of it even when data is waiting, so both sides must have the same value for a fair ratio.
The raw pair keeps its producer and consumer on one event loop, as before (it is the floor, not a service).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Sequence

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from bench.workload import RawMessage, chunks, deal, paced
from shared.messaging.kafka import make_producer
from shared.messaging.relay import asyncpg_dsn
from shared.settings import Settings


def _consumer(settings: Settings) -> AIOKafkaConsumer:
    # No group: partitions are assigned by hand, so there is no join to wait for and nothing to commit.
    return AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap_servers, group_id=None,
                            enable_auto_commit=False, auto_offset_reset="earliest", max_poll_records=500,
                            fetch_max_wait_ms=settings.kafka_fetch_max_wait_ms)


async def _create_topic(settings: Settings, topic: str) -> list[TopicPartition]:
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers, request_timeout_ms=10_000)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, settings.kafka_topic_partitions, 1)])
    finally:
        await admin.close()
    return [TopicPartition(topic, p) for p in range(settings.kafka_topic_partitions)]


class _KafkaPair:
    """A started producer and a consumer reading every partition of a fresh topic, warmed up end to end."""

    def __init__(self, settings: Settings, topic: str) -> None:
        self.settings, self.topic = settings, topic
        self.producer, self.consumer = make_producer(settings), _consumer(settings)
        self.received: dict[str, float] = {}  # message id -> time.monotonic() when getmany returned it
        self._waiting: set[str] = set()
        self._done = asyncio.Event()

    async def __aenter__(self) -> _KafkaPair:
        partitions = await _create_topic(self.settings, self.topic)
        await self.producer.start()
        await self.consumer.start()
        self.consumer.assign(partitions)
        await self.consumer.seek_to_beginning(*partitions)
        self._task = asyncio.create_task(self._consume())
        await self.send_and_expect([b"warm-up-%d" % p for p in range(self.settings.kafka_topic_partitions)])
        return self

    async def __aexit__(self, *exc) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        await self.producer.stop()
        await self.consumer.stop()

    async def send_and_expect(self, keys: list[bytes]) -> None:
        ids = [k.decode() for k in keys]
        self.expect(ids)
        for key in keys:
            await self.producer.send(self.topic, b"{}", key=key, headers=[("ce_id", key)])
        await self.wait(limit_s=60)

    def expect(self, ids: Sequence[str]) -> None:
        self._waiting = set(ids) - self.received.keys()
        self._done.clear()

    async def wait(self, limit_s: float) -> None:
        if self._waiting:
            async with asyncio.timeout(limit_s):
                await self._done.wait()

    async def _consume(self) -> None:
        while True:
            batches = await self.consumer.getmany(timeout_ms=500, max_records=500)
            now = time.monotonic()
            for records in batches.values():
                for record in records:
                    msg_id = dict(record.headers)["ce_id"].decode()
                    self.received.setdefault(msg_id, now)
                    self._waiting.discard(msg_id)
            if not self._waiting:
                self._done.set()

    async def send(self, msg: RawMessage) -> asyncio.Future:
        return await self.producer.send(self.topic, msg.value, key=msg.key, headers=msg.headers)


async def kafka_throughput(settings: Settings, messages: list[RawMessage]) -> dict:
    """(a) Plain aiokafka: time from the first send to the last message received by the consumer."""
    async with _KafkaPair(settings, "bench.raw.throughput") as pair:
        pair.expect([m.id for m in messages])
        t0 = time.monotonic()
        acks = [await pair.send(m) for m in messages]
        await asyncio.gather(*acks)
        acked = time.monotonic() - t0
        await pair.wait(limit_s=120)
        elapsed = max(pair.received[m.id] for m in messages) - t0
    return {"events": len(messages), "seconds": elapsed, "rate": len(messages) / elapsed, "all_acked_s": acked}


async def kafka_latency(settings: Settings, messages: list[RawMessage], rate: float, per_tick: int) -> dict:
    """Plain aiokafka at a fixed pace: each message's latency is send call → returned by getmany."""
    sent: dict[str, float] = {}
    acks: list[asyncio.Future] = []
    async with _KafkaPair(settings, "bench.raw.latency") as pair:
        pair.expect([m.id for m in messages])

        async def send(msg: RawMessage) -> None:
            sent[msg.id] = time.monotonic()
            acks.append(await pair.send(msg))

        await asyncio.gather(*await paced(messages, rate, per_tick, send))
        await asyncio.gather(*acks)
        await pair.wait(limit_s=60)
        latencies = [pair.received[m.id] - sent[m.id] for m in messages]
        span = max(sent.values()) - min(sent.values())
    return {"events": len(messages), "latencies_s": latencies, "achieved_rate": (len(messages) - 1) / span}


_RAW_TABLE = """
CREATE TABLE raw_rows (id uuid PRIMARY KEY, topic text NOT NULL, key text NOT NULL, event jsonb NOT NULL)
"""
_RAW_INSERT = "INSERT INTO raw_rows (id, topic, key, event) VALUES ($1, $2, $3, $4)"


async def postgres_throughput(settings: Settings, messages: list[RawMessage], *, writers: int, per_tx: int) -> dict:
    """(b) Plain asyncpg: the same rows, `per_tx` per transaction with executemany, `writers` connections."""
    dsn = asyncpg_dsn(settings.database_url)
    setup = await asyncpg.connect(dsn)
    try:
        await setup.execute("CREATE SCHEMA bench_raw")
        await setup.execute(f"SET search_path = bench_raw; {_RAW_TABLE}")
    finally:
        await setup.close()
    conns = [await asyncpg.connect(dsn, server_settings={"search_path": "bench_raw"}) for _ in range(writers)]
    try:
        for i, conn in enumerate(conns):  # warm-up: connection, statement cache, table files
            await conn.execute(_RAW_INSERT, *_warmup_row(i))

        async def write(conn: asyncpg.Connection, batches: list) -> None:
            for batch in batches:
                async with conn.transaction():
                    await conn.executemany(_RAW_INSERT, batch)

        batches = [[m.row for m in batch] for batch in chunks(messages, per_tx)]
        t0 = time.monotonic()
        await asyncio.gather(*(write(c, b) for c, b in zip(conns, deal(batches, writers), strict=True)))
        elapsed = time.monotonic() - t0
        count = await conns[0].fetchval("SELECT count(*) FROM raw_rows")
    finally:
        for conn in conns:
            await conn.close()
    assert count == len(messages) + writers, count
    return {"events": len(messages), "seconds": elapsed, "rate": len(messages) / elapsed}


def _warmup_row(i: int) -> tuple:
    return uuid.uuid4(), "warm-up", str(i), "{}"
