"""Dead letters: reading `<topic>.dlq` and replaying its messages onto the original topic.

Replay publishes the message exactly as it was received (same key, so the same partition and order relative to
its aggregate; the original headers minus the `cb-dlq-*` ones). Every consumer group of the topic sees it again,
and their inbox makes that harmless: a group that had applied the event skips it, the one that dead-lettered
it applies it now. Replaying the same letter twice is therefore safe too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from shared.events import dlq_topic
from shared.messaging.kafka import make_producer
from shared.settings import Settings

_DLQ_HEADER_PREFIX = "cb-dlq-"


@dataclass(frozen=True)
class DeadLetter:
    topic: str  # the original topic
    partition: int  # position in `<topic>.dlq`
    offset: int
    key: bytes | None
    value: bytes
    headers: tuple[tuple[str, bytes], ...]

    @property
    def event_id(self) -> str:
        """The CloudEvent id (from the relay's `ce_id` header or the body), else the DLQ position."""
        header = self.header("ce_id")
        if header:
            return header
        try:
            body = json.loads(self.value)
        except ValueError:
            body = None
        if isinstance(body, dict) and isinstance(body.get("id"), str) and body["id"]:
            return body["id"]
        return f"{self.partition}:{self.offset}"

    def header(self, name: str) -> str | None:
        value = next((v for k, v in self.headers if k == name), None)
        return value.decode(errors="replace") if value is not None else None

    def summary(self) -> dict:
        return {"topic": self.topic, "id": self.event_id, "dlq_position": f"{self.partition}:{self.offset}",
                "consumer": self.header("cb-dlq-consumer"), "source": self.header("cb-dlq-source"),
                "reason": self.header("cb-dlq-reason")}


async def read_dead_letters(settings: Settings, topic: str) -> list[DeadLetter]:
    """Every message now in `<topic>.dlq`, oldest first per partition (read without a group: nothing is committed)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap_servers, enable_auto_commit=False,
                                auto_offset_reset="earliest")
    await consumer.start()
    try:
        partitions = consumer.partitions_for_topic(dlq_topic(topic))
        if not partitions:
            return []  # no such DLQ topic: nothing was ever dead-lettered (and asking must not create it)
        tps = [TopicPartition(dlq_topic(topic), p) for p in sorted(partitions)]
        ends = await consumer.end_offsets(tps)
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        letters: list[DeadLetter] = []
        remaining = {tp for tp in tps if ends[tp] > await consumer.position(tp)}
        while remaining:
            batches = await consumer.getmany(*remaining, timeout_ms=1000)
            for tp, records in batches.items():
                for record in records:
                    if record.offset < ends[tp]:
                        letters.append(DeadLetter(topic, tp.partition, record.offset, record.key, record.value,
                                                  tuple(record.headers or ())))
                if await consumer.position(tp) >= ends[tp]:
                    remaining.discard(tp)
        return letters
    finally:
        await consumer.stop()


async def replay(settings: Settings, topic: str, event_ids: set[str] | None) -> list[DeadLetter]:
    """Publish the dead letters of `topic` (all, or those with the given ids) to `topic` again; returns them."""
    letters = [letter for letter in await read_dead_letters(settings, topic)
               if event_ids is None or letter.event_id in event_ids]
    if not letters:
        return []
    producer: AIOKafkaProducer = make_producer(settings)
    await producer.start()
    try:
        for letter in letters:
            headers = [(k, v) for k, v in letter.headers if not k.startswith(_DLQ_HEADER_PREFIX)]
            headers.append(("cb-replayed-from", f"{dlq_topic(topic)}/{letter.partition}/{letter.offset}".encode()))
            await producer.send_and_wait(topic, letter.value, key=letter.key, headers=headers)
    finally:
        await producer.stop()
    return letters
