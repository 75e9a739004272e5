"""Keeping a service's outbox and inbox in shape: backlog gauges, and pruning rows past their retention.

Every replica refreshes the gauges (any of them can be scraped); one at a time prunes (an advisory lock), in
batches of `messaging_prune_batch` rows each in its own short transaction, so a prune never holds a lock that
writers or the relay would wait on for long. Unpublished and parked outbox rows are never pruned.
"""

from __future__ import annotations

import asyncio

import sqlalchemy as sa
import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.db.locks import advisory_key, holding_lock
from shared.metrics import MESSAGING_PRUNED, OUTBOX_BACKLOG, OUTBOX_OLDEST_UNSENT_AGE, OUTBOX_PARKED
from shared.settings import Settings

log = structlog.get_logger(__name__)

_OUTBOX_STATE = sa.text("""
    SELECT count(*) FILTER (WHERE parked_at IS NULL) AS backlog,
           coalesce(extract(epoch FROM now() - min(created_at) FILTER (WHERE parked_at IS NULL)), 0) AS oldest_s,
           count(*) FILTER (WHERE parked_at IS NOT NULL) AS parked
    FROM outbox WHERE published_at IS NULL
""")
_PRUNE_OUTBOX = sa.text("""
    DELETE FROM outbox WHERE seq IN (
        SELECT seq FROM outbox WHERE published_at < now() - make_interval(secs => :retention_s)
        ORDER BY seq LIMIT :batch)
""")
_PRUNE_INBOX = sa.text("""
    DELETE FROM inbox WHERE (consumer, event_id) IN (
        SELECT consumer, event_id FROM inbox WHERE processed_at < now() - make_interval(secs => :retention_s)
        LIMIT :batch)
""")


class MessagingMaintenance:
    def __init__(self, settings: Settings, schema: str, engine: AsyncEngine, *, gauge_interval_s: float = 10.0) -> None:
        self._settings = settings
        self._schema = schema
        self._engine = engine
        self._gauge_interval_s = gauge_interval_s

    async def run(self) -> None:
        """Run until cancelled: gauges every `gauge_interval_s`, a prune every `messaging_prune_interval_s`."""
        prune_every = max(1, round(self._settings.messaging_prune_interval_s / self._gauge_interval_s))
        tick = 0
        while True:
            try:
                await self.refresh_gauges()
                if tick % prune_every == 0:
                    await self.prune()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database may be restarting: next tick
                log.warning("messaging.maintenance_failed", schema=self._schema, error=repr(exc))
            tick += 1
            await asyncio.sleep(min(self._gauge_interval_s, self._settings.messaging_prune_interval_s))

    async def refresh_gauges(self) -> None:
        async with self._engine.connect() as conn:
            state = (await conn.execute(_OUTBOX_STATE)).one()
        OUTBOX_BACKLOG.labels(self._schema).set(state.backlog)
        OUTBOX_OLDEST_UNSENT_AGE.labels(self._schema).set(float(state.oldest_s))
        OUTBOX_PARKED.labels(self._schema).set(state.parked)

    async def prune(self) -> dict[str, int]:
        """Delete published outbox rows and inbox rows past their retention; rows deleted per table
        (nothing if another replica is pruning this schema now)."""
        deleted = {"outbox": 0, "inbox": 0}
        async with (self._engine.connect() as conn,
                    holding_lock(conn, advisory_key(f"prune:{self._schema}"), wait=False) as held):
            if not held:
                return deleted
            for table, statement, hours in (
                ("outbox", _PRUNE_OUTBOX, self._settings.outbox_retention_hours),
                ("inbox", _PRUNE_INBOX, self._settings.inbox_retention_hours),
            ):
                while True:
                    result = await conn.execute(statement, {"retention_s": hours * 3600,
                                                            "batch": self._settings.messaging_prune_batch})
                    await conn.commit()
                    deleted[table] += result.rowcount
                    MESSAGING_PRUNED.labels(self._schema, table).inc(result.rowcount)
                    if result.rowcount < self._settings.messaging_prune_batch:
                        break
        if any(deleted.values()):
            log.info("messaging.pruned", schema=self._schema, **deleted)
        return deleted
