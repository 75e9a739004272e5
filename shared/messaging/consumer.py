"""The consumer runner: Kafka → handler → inbox, effectively once.

For each polled batch it opens one transaction, records the event ids in the inbox (`ON CONFLICT DO
NOTHING` tells which are new), runs the handlers of the new ones, and commits; only then does it commit
the Kafka offsets. A crash before the offset commit redelivers the batch and the inbox skips what was
done. A handler takes one event at a time; one wrapped in `BatchHandler` takes all new events of its
topic from the fetch at once, so it can apply them with one statement. If the batch transaction fails,
the runner falls back to one event at a time so one poison message cannot hold back the rest: an event
that is not a valid envelope goes to `<topic>.dlq` at once, one whose handler keeps failing goes there
after `max_attempts`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import sqlalchemy as sa
import structlog
from aiokafka import ConsumerRecord
from aiokafka.errors import CommitFailedError, KafkaError
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.events import CloudEvent, EventError, dlq_topic, parse_event
from shared.messaging.kafka import ensure_topics, make_consumer, make_producer
from shared.metrics import EVENTS_CONSUMED, EVENTS_DEAD_LETTERED
from shared.settings import Settings

log = structlog.get_logger(__name__)

Handler = Callable[[AsyncSession, CloudEvent, BaseModel], Awaitable[None]]
Received = tuple[CloudEvent, BaseModel]


@dataclass(frozen=True)
class BatchHandler:
    """A handler that takes every new event of its topic in a fetch (up to 500, in partition order) at once.

    It runs in the same transaction as the inbox rows, like a per-event handler; if it fails, the runner
    retries the events one at a time (a list of one), so one bad event cannot hold back the others.
    """

    apply: Callable[[AsyncSession, list[Received]], Awaitable[None]]


# One statement with constant text for any batch size (a multi-row VALUES would be compiled anew per size).
_RECORD_INBOX = sa.text("""
    INSERT INTO inbox (consumer, event_id, topic)
    SELECT :consumer, e.event_id, e.topic FROM unnest(CAST(:event_ids AS text[]), CAST(:topics AS text[])) AS e(event_id, topic)
    ON CONFLICT DO NOTHING RETURNING event_id
""")


@dataclass(frozen=True)
class _Parsed:
    record: ConsumerRecord
    event: CloudEvent
    payload: BaseModel


class ConsumerRunner:
    def __init__(
        self,
        settings: Settings,
        *,
        group_id: str,
        handlers: dict[str, Handler | BatchHandler],
        sessions: async_sessionmaker[AsyncSession],
        max_attempts: int | None = None,
        retry_backoff_s: float = 0.2,
        after_effect: Callable[[list[CloudEvent]], None] | None = None,
    ) -> None:
        """`after_effect` runs after the effect commits and before the offsets do (metrics, crash tests)."""
        self._settings = settings
        self._group_id = group_id
        self._handlers = handlers
        self._sessions = sessions
        self._max_attempts = max_attempts or settings.consumer_max_attempts
        self._retry_backoff_s = retry_backoff_s
        self._after_effect = after_effect
        self._service = settings.service_name

    @property
    def topics(self) -> list[str]:
        return sorted(self._handlers)

    async def run(self) -> None:
        if not self._handlers:
            log.info("consumer.no_handlers", group=self._group_id)
            return
        while True:
            try:
                await self._consume()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("consumer.crashed", group=self._group_id)
                await asyncio.sleep(1.0)

    async def _consume(self) -> None:
        await ensure_topics(self._settings, [t for topic in self.topics for t in (topic, dlq_topic(topic))])
        consumer = make_consumer(self._settings, self._group_id, self.topics)
        producer = make_producer(self._settings)
        await consumer.start()
        try:
            await producer.start()
            log.info("consumer.started", group=self._group_id, topics=self.topics)
            while True:
                batches = await consumer.getmany(timeout_ms=500, max_records=500)
                records = [r for recs in batches.values() for r in recs]
                if not records:
                    continue
                await self._process(records, producer)
                offsets = {tp: recs[-1].offset + 1 for tp, recs in batches.items()}
                try:
                    async with asyncio.timeout(15):
                        await consumer.commit(offsets)
                except (CommitFailedError, KafkaError, TimeoutError) as exc:
                    # A rebalance took the partitions: the next owner re-reads and the inbox dedupes.
                    log.warning("consumer.commit_failed", group=self._group_id, error=repr(exc))
        finally:
            with contextlib.suppress(Exception):
                await producer.stop()
            with contextlib.suppress(Exception):
                await consumer.stop()

    async def _process(self, records: list[ConsumerRecord], producer) -> None:
        parsed: list[_Parsed] = []
        for record in records:
            try:
                event, payload = parse_event(record.value)
                if event.type != record.topic:
                    raise EventError(f"type: event of type {event.type!r} on topic {record.topic!r}")
            except EventError as exc:
                await self._dead_letter(producer, record, str(exc))
                continue
            parsed.append(_Parsed(record, event, payload))
        if not parsed:
            return
        try:
            await self._apply(parsed)
        except Exception as exc:
            log.warning("consumer.batch_failed", group=self._group_id, size=len(parsed), error=repr(exc))
            for item in parsed:
                await self._apply_one_with_retries(item, producer)

    async def _apply(self, items: list[_Parsed]) -> None:
        async with self._sessions() as session, session.begin():
            inserted = await session.execute(_RECORD_INBOX, {
                "consumer": self._group_id,
                "event_ids": [i.event.id for i in items], "topics": [i.record.topic for i in items],
            })
            new_ids = set(inserted.scalars())
            done: set[str] = set()
            batched: dict[str, list[Received]] = {}
            for item in items:
                if item.event.id not in new_ids or item.event.id in done:
                    continue  # already processed: a redelivery or a duplicate publish
                done.add(item.event.id)
                handler = self._handlers[item.record.topic]
                if isinstance(handler, BatchHandler):
                    batched.setdefault(item.record.topic, []).append((item.event, item.payload))
                else:
                    await handler(session, item.event, item.payload)
            for topic, received in batched.items():
                await self._handlers[topic].apply(session, received)
        for item in items:
            outcome = "applied" if item.event.id in new_ids else "duplicate"
            EVENTS_CONSUMED.labels(self._service, item.record.topic, outcome).inc()
        if self._after_effect is not None:
            self._after_effect([i.event for i in items if i.event.id in new_ids])

    async def _apply_one_with_retries(self, item: _Parsed, producer) -> None:
        for attempt in range(1, self._max_attempts + 1):
            try:
                await self._apply([item])
                return
            except Exception as exc:
                log.warning("consumer.handler_failed", group=self._group_id, event_id=item.event.id,
                            topic=item.record.topic, attempt=attempt, error=repr(exc))
                error = exc
                await asyncio.sleep(self._retry_backoff_s * attempt)
        await self._dead_letter(producer, item.record, f"handler failed {self._max_attempts} times: {error!r}")

    async def _dead_letter(self, producer, record: ConsumerRecord, reason: str) -> None:
        headers = [
            *(record.headers or ()),
            ("cb-dlq-reason", reason[:1000].encode()),
            ("cb-dlq-consumer", self._group_id.encode()),
            ("cb-dlq-source", f"{record.topic}/{record.partition}/{record.offset}".encode()),
        ]
        # Awaited before the offset commit, so a dead letter is never lost between the two topics.
        await (await producer.send(dlq_topic(record.topic), record.value, key=record.key, headers=headers))
        EVENTS_DEAD_LETTERED.labels(self._service, record.topic).inc()
        EVENTS_CONSUMED.labels(self._service, record.topic, "dead_lettered").inc()
        log.error("consumer.dead_lettered", group=self._group_id, topic=record.topic,
                  offset=record.offset, reason=reason)
