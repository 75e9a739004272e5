"""The outbox relay: publishes committed events to Kafka in commit order and marks them published.

One relay per service schema is active at a time (a Postgres advisory lock elects it), so events of one
key are never published out of order by two replicas. While the broker is down the relay keeps the
events and retries with exponential backoff; the events of a batch that the broker did take are marked
published, the others are sent again (the consumers' inbox absorbs any duplicate).

An event the broker refuses for what it is (too large, an invalid topic, a policy: `refused_by_broker`)
would otherwise be retried forever at the head of the outbox, holding back every later event of the
service. After `outbox_park_after_attempts` tries it is parked (`parked_at`), logged and counted, and the
relay goes on; `channelbridge outbox parked|retry` lists and releases parked events.
"""

from __future__ import annotations

import asyncio
import contextlib
import json

import asyncpg
import structlog
from aiokafka.errors import BrokerResponseError, KafkaError, MessageSizeTooLargeError, RecordTooLargeError
from sqlalchemy.engine import make_url

from shared.db.locks import advisory_key, try_lock_asyncpg
from shared.events.registry import all_topics
from shared.messaging.kafka import ensure_topics, make_producer
from shared.messaging.outbox import notify_channel
from shared.metrics import OUTBOX_FAILURES, OUTBOX_PARKED_TOTAL, OUTBOX_PENDING, OUTBOX_PUBLISHED
from shared.settings import Settings
from shared.wakeup import wait_for_wakeup

log = structlog.get_logger(__name__)

_FETCH = """
SELECT id, topic, key, event FROM outbox
WHERE published_at IS NULL AND parked_at IS NULL ORDER BY seq LIMIT $1
"""
# Marks a sent batch and fetches the next in one round trip. The SELECT sees the snapshot from before the
# UPDATE, so it leaves out the just-marked ids explicitly.
_MARK_PUBLISHED_AND_FETCH = """
WITH marked AS (
    UPDATE outbox SET published_at = now(), attempts = attempts + 1 WHERE id = ANY($1::uuid[])
)
SELECT id, topic, key, event FROM outbox
WHERE published_at IS NULL AND parked_at IS NULL AND NOT id = ANY($1::uuid[]) ORDER BY seq LIMIT $2
"""
_MARK_FAILED = "UPDATE outbox SET attempts = attempts + 1, last_error = $2 WHERE id = ANY($1::uuid[])"
_MARK_PUBLISHED = "UPDATE outbox SET published_at = now(), attempts = attempts + 1 WHERE id = ANY($1::uuid[])"
_MARK_REFUSED = """
UPDATE outbox SET attempts = attempts + 1, last_error = $2,
                  parked_at = CASE WHEN attempts + 1 >= $3 THEN now() END
WHERE id = $1 RETURNING parked_at IS NOT NULL AS parked, topic
"""


def refused_by_broker(exc: BaseException) -> bool:
    """The broker (or the client, before sending) rejects this event itself: trying again will not help.

    Anything else (connection refused, timeouts, leader elections, an unknown partition after a restart)
    is the broker's passing trouble and is retried for as long as it lasts.
    """
    if isinstance(exc, MessageSizeTooLargeError | RecordTooLargeError):
        return True
    if isinstance(exc, KafkaError):
        return isinstance(exc, BrokerResponseError) and not exc.retriable
    return not isinstance(exc, OSError | TimeoutError)


def asyncpg_dsn(database_url: str) -> str:
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


class OutboxRelay:
    def __init__(
        self,
        settings: Settings,
        schema: str,
        *,
        idle_poll_s: float = 1.0,
        max_backoff_s: float = 10.0,
    ) -> None:
        self._settings = settings
        self._schema = schema
        self._idle_poll_s = idle_poll_s
        self._max_backoff_s = max_backoff_s
        self._wakeup = asyncio.Event()

    async def run(self) -> None:
        """Run until cancelled: wait for leadership, then publish; reconnect after any database failure."""
        while True:
            try:
                await self._run_as_leader()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox.relay_crashed", schema=self._schema)
                await asyncio.sleep(1.0)

    async def _run_as_leader(self) -> None:
        conn = await asyncpg.connect(
            asyncpg_dsn(self._settings.database_url), server_settings={"search_path": self._schema}
        )
        try:
            # Another replica relays; poll for its lock (an Event cannot tell us when another process lets go).
            lock = advisory_key(f"relay:{self._schema}")
            while not await try_lock_asyncpg(conn, lock):  # noqa: ASYNC110
                await asyncio.sleep(2.0)
            await conn.add_listener(notify_channel(self._schema), lambda *_: self._wakeup.set())
            log.info("outbox.relay_leader", schema=self._schema)
            await self._publish_loop(conn)
        finally:
            with contextlib.suppress(Exception):
                await asyncio.shield(conn.close(timeout=2))

    async def _publish_loop(self, conn: asyncpg.Connection) -> None:
        producer = None
        backoff = 0.1
        batch_size = self._settings.outbox_batch_size
        rows = await conn.fetch(_FETCH, batch_size)
        try:
            while True:
                OUTBOX_PENDING.labels(self._schema).set(len(rows))
                if not rows:
                    self._wakeup.clear()
                    await wait_for_wakeup(self._wakeup, self._idle_poll_s)
                    rows = await conn.fetch(_FETCH, batch_size)
                    continue
                per_event = True
                try:
                    if producer is None:
                        producer = await self._start_producer()
                    async with asyncio.timeout(30):
                        failures = await self._send(producer, rows)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    # Not an answer about any one event (no producer, the batch timed out): never a reason to park.
                    failures, per_event = {row["id"]: exc for row in rows}, False
                if failures:
                    broker_trouble = await self._record_failures(conn, rows, failures, per_event=per_event)
                    if broker_trouble and producer is not None:
                        with contextlib.suppress(Exception):  # start over with a fresh producer
                            await producer.stop()
                        producer = None
                    if broker_trouble or len(failures) == len(rows):  # nothing went out: do not spin
                        log.warning("outbox.publish_failed", schema=self._schema, events=len(failures),
                                    error=repr(next(iter(failures.values()))), retry_in_s=backoff)
                        await asyncio.sleep(backoff)
                        backoff = min(backoff * 2, self._max_backoff_s)
                    rows = await conn.fetch(_FETCH, batch_size)
                    continue
                OUTBOX_PUBLISHED.labels(self._schema).inc(len(rows))
                backoff = 0.1
                rows = await conn.fetch(_MARK_PUBLISHED_AND_FETCH, [r["id"] for r in rows], batch_size)
        finally:
            if producer is not None:
                with contextlib.suppress(Exception):
                    await producer.stop()

    async def _record_failures(self, conn: asyncpg.Connection, rows, failures: dict, *, per_event: bool) -> bool:
        """Mark what was sent, count a try on what was not, park what the broker keeps refusing; True if any
        failure was the broker's passing trouble rather than a refusal of the event."""
        OUTBOX_FAILURES.labels(self._schema).inc()
        sent = [row["id"] for row in rows if row["id"] not in failures]
        if sent:
            await conn.execute(_MARK_PUBLISHED, sent)
            OUTBOX_PUBLISHED.labels(self._schema).inc(len(sent))
        passing = {event_id: exc for event_id, exc in failures.items() if not (per_event and refused_by_broker(exc))}
        if passing:
            await conn.execute(_MARK_FAILED, list(passing), repr(next(iter(passing.values())))[:500])
        park_after = self._settings.outbox_park_after_attempts
        for event_id, exc in failures.items():
            if event_id in passing:
                continue
            parked, topic = await conn.fetchrow(_MARK_REFUSED, event_id, repr(exc)[:500], park_after)
            if parked:
                OUTBOX_PARKED_TOTAL.labels(self._schema, topic).inc()
                log.error("outbox.event_parked", schema=self._schema, event_id=str(event_id), topic=topic,
                          error=repr(exc), hint="channelbridge outbox parked|retry")
            else:
                log.warning("outbox.event_refused", schema=self._schema, event_id=str(event_id), topic=topic,
                            error=repr(exc))
        return bool(passing)

    async def _start_producer(self):
        # (Re)creating topics first matters after a dev-broker restart, where auto-created topics break.
        await ensure_topics(self._settings, all_topics())
        producer = make_producer(self._settings)
        try:
            await producer.start()
        except Exception:
            with contextlib.suppress(Exception):
                await producer.stop()
            raise
        return producer

    @staticmethod
    async def _send(producer, rows) -> dict:
        """Send a batch; the rows that failed, each with its error (an empty dict when all were acknowledged)."""
        futures = {}
        failures = {}
        for row in rows:
            # asyncpg hands jsonb back as text: publish it as stored, no re-serialisation.
            event = row["event"]
            value = event.encode() if isinstance(event, str) else json.dumps(event).encode()
            headers = [("ce_id", str(row["id"]).encode()), ("ce_type", row["topic"].encode()),
                       ("content-type", b"application/cloudevents+json")]
            try:
                futures[row["id"]] = await producer.send(row["topic"], value, key=row["key"].encode(), headers=headers)
            except KafkaError as exc:  # refused before it left (too large for the producer), or no metadata
                failures[row["id"]] = exc
        results = await asyncio.gather(*futures.values(), return_exceptions=True)
        for event_id, result in zip(futures, results, strict=True):
            if isinstance(result, BaseException):
                failures[event_id] = result
        return failures
