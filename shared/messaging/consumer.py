"""The consumer runner: Kafka → handler → inbox, effectively once.

For each polled batch it opens one transaction, records the event ids in the inbox (`ON CONFLICT DO
NOTHING` tells which are new), runs the handlers of the new ones, and commits; only then does it commit
the Kafka offsets. A crash before the offset commit redelivers the batch and the inbox skips what was
done. A handler takes one event at a time; one wrapped in `BatchHandler` takes all new events of its
topic from the fetch at once, so it can apply them with one statement. If the batch transaction fails,
the runner falls back to one event at a time so one poison message cannot hold back the rest: an event
that is not a valid envelope goes to `<topic>.dlq` at once, one whose handler keeps raising the same kind of
non-transient error goes there after `max_attempts`.

A transient failure (database down or failing over, a timeout, a lost connection: `shared.messaging.failures`)
dead-letters nothing: the partition is sought back to the first event not applied and paused with exponential
backoff, for as long as the failure lasts, while the other partitions go on. Offsets are committed only up
to the last applied event of each partition.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import sqlalchemy as sa
import structlog
from aiokafka import ConsumerRecord, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.events import CloudEvent, EventError, dlq_topic, parse_event
from shared.messaging.failures import is_transient
from shared.messaging.kafka import ensure_topics, make_consumer, make_producer
from shared.messaging.paused import PausedPartitions as _PausedPartitions
from shared.metrics import CONSUMER_TRANSIENT_FAILURES, EVENTS_CONSUMED, EVENTS_DEAD_LETTERED
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


def _position(record: ConsumerRecord) -> tuple[str, int, int]:
    return record.topic, record.partition, record.offset


@dataclass
class _Outcome:
    done: dict[TopicPartition, int] = field(default_factory=dict)  # next offset to commit
    stalled: dict[TopicPartition, int] = field(default_factory=dict)  # first offset not applied (transient failure)


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
        max_backoff_s: float | None = None,
        after_effect: Callable[[list[CloudEvent]], None] | None = None,
    ) -> None:
        """`after_effect` runs after the effect commits and before the offsets do (metrics, crash tests)."""
        self._settings = settings
        self._group_id = group_id
        self._handlers = handlers
        self._sessions = sessions
        self._max_attempts = max_attempts or settings.consumer_max_attempts
        self._retry_backoff_s = retry_backoff_s
        self._max_backoff_s = max_backoff_s if max_backoff_s is not None else settings.consumer_max_backoff_s
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
        paused = _PausedPartitions(consumer, self._service, self._retry_backoff_s, self._max_backoff_s)
        await consumer.start()
        try:
            await producer.start()
            log.info("consumer.started", group=self._group_id, topics=self.topics)
            while True:
                paused.resume_due()
                batches = await consumer.getmany(timeout_ms=paused.poll_timeout_ms(500), max_records=500)
                if not any(batches.values()):
                    continue
                outcome = await self._process(batches, producer)
                for tp, offset in outcome.stalled.items():
                    paused.stall(tp, offset)
                for tp in outcome.done.keys() - outcome.stalled.keys():
                    paused.recovered(tp)
                offsets = outcome.done  # a stalled partition's entry, if any, stops before the failed event
                if not offsets:
                    continue
                try:
                    async with asyncio.timeout(15):
                        await consumer.commit(offsets)
                except (CommitFailedError, KafkaError, TimeoutError) as exc:
                    # A rebalance took the partitions: the next owner re-reads and the inbox dedupes.
                    log.warning("consumer.commit_failed", group=self._group_id, error=repr(exc))
        finally:
            paused.clear()
            with contextlib.suppress(Exception):
                await producer.stop()
            with contextlib.suppress(Exception):
                await consumer.stop()

    async def _process(self, batches: dict[TopicPartition, list[ConsumerRecord]], producer) -> _Outcome:
        """Apply a fetch; say up to which offset each partition is done and where a transient failure stopped one."""
        outcome = _Outcome()
        invalid: list[tuple[ConsumerRecord, str]] = []
        parsed: list[_Parsed] = []
        for records in batches.values():
            for record in records:
                try:
                    event, payload = parse_event(record.value)
                    if event.type != record.topic:
                        raise EventError(f"type: event of type {event.type!r} on topic {record.topic!r}")
                except EventError as exc:
                    invalid.append((record, str(exc)))
                    continue
                parsed.append(_Parsed(record, event, payload))
        try:
            if parsed:
                await self._apply(parsed)
        except Exception as exc:
            # Nothing of the fetch was applied. One event at a time, each partition stops at its own first
            # event that fails transiently (a database outage stops them all, after one try each), and a
            # partition whose events apply goes on: one stuck aggregate does not hold back the others.
            log.warning("consumer.batch_failed", group=self._group_id, size=len(parsed), error=repr(exc),
                        transient=is_transient(exc))
            return await self._process_one_by_one(batches, producer, parsed, invalid)
        for record, reason in invalid:
            await self._dead_letter(producer, record, reason, cause="invalid")
        outcome.done = {tp: records[-1].offset + 1 for tp, records in batches.items() if records}
        return outcome

    async def _process_one_by_one(self, batches, producer, parsed: list[_Parsed],
                                  invalid: list[tuple[ConsumerRecord, str]]) -> _Outcome:
        """After a failed batch: each partition in order, so one bad event is dead-lettered alone and a transient
        failure stops its partition at that event (the commit never passes an event that was not applied)."""
        outcome = _Outcome()
        items = {_position(i.record): i for i in parsed}
        reasons = {_position(record): reason for record, reason in invalid}
        for tp, records in batches.items():
            for record in records:
                if _position(record) in reasons:
                    await self._dead_letter(producer, record, reasons[_position(record)], cause="invalid")
                elif not await self._apply_one_with_retries(items[_position(record)], producer):
                    outcome.stalled[tp] = record.offset
                    break
                outcome.done[tp] = record.offset + 1
        return outcome

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

    async def _apply_one_with_retries(self, item: _Parsed, producer) -> bool:
        """Apply one event; False if a transient failure stopped it (its partition waits and tries again later).

        Only consecutive non-transient failures count towards `max_attempts`; reaching it dead-letters the event.
        """
        record, event = item.record, item.event
        for attempt in range(1, self._max_attempts + 1):
            try:
                await self._apply([item])
                return True
            except Exception as exc:
                if is_transient(exc):
                    self._note_transient(exc, record)
                    return False
                log.warning("consumer.handler_failed", group=self._group_id, event_id=event.id,
                            topic=record.topic, attempt=attempt, error=repr(exc))
                error = exc
                if attempt < self._max_attempts:
                    await asyncio.sleep(self._retry_backoff_s * attempt)
        await self._dead_letter(producer, record, f"handler failed {self._max_attempts} times: {error!r}",
                                cause="handler")
        return True

    def _note_transient(self, exc: BaseException, record: ConsumerRecord) -> None:
        CONSUMER_TRANSIENT_FAILURES.labels(self._service).inc()
        log.warning("consumer.transient_failure", group=self._group_id, topic=record.topic,
                    partition=record.partition, offset=record.offset, error=repr(exc))

    async def _dead_letter(self, producer, record: ConsumerRecord, reason: str, *, cause: str) -> None:
        headers = [
            *(record.headers or ()),
            ("cb-dlq-reason", reason[:1000].encode()),
            ("cb-dlq-consumer", self._group_id.encode()),
            ("cb-dlq-source", f"{record.topic}/{record.partition}/{record.offset}".encode()),
        ]
        # Awaited before the offset commit, so a dead letter is never lost between the two topics.
        await (await producer.send(dlq_topic(record.topic), record.value, key=record.key, headers=headers))
        EVENTS_DEAD_LETTERED.labels(self._service, record.topic, cause).inc()
        EVENTS_CONSUMED.labels(self._service, record.topic, "dead_lettered").inc()
        log.error("consumer.dead_lettered", group=self._group_id, topic=record.topic,
                  offset=record.offset, reason=reason)
