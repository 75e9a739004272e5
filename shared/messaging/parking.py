"""Parked outbox events: the ones the relay gave up on after the broker kept refusing them (see relay.py)."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.messaging.outbox import notify_channel
from shared.messaging.tables import outbox


async def parked_events(engine: AsyncEngine) -> list[dict]:
    query = (sa.select(outbox.c.id, outbox.c.topic, outbox.c.key, outbox.c.created_at, outbox.c.parked_at,
                       outbox.c.attempts, outbox.c.last_error,
                       sa.func.octet_length(sa.cast(outbox.c.event, sa.Text)).label("size_bytes"))
             .where(outbox.c.published_at.is_(None), outbox.c.parked_at.is_not(None)).order_by(outbox.c.seq))
    async with engine.connect() as conn:
        return [dict(row._mapping) for row in await conn.execute(query)]


async def release_parked(engine: AsyncEngine, schema: str, event_ids: list[uuid.UUID] | None) -> list[uuid.UUID]:
    """Put parked events back in the relay's queue (all, or those ids) with a fresh count of attempts."""
    where = [outbox.c.published_at.is_(None), outbox.c.parked_at.is_not(None)]
    if event_ids is not None:
        where.append(outbox.c.id.in_(event_ids))
    async with engine.begin() as conn:
        released = await conn.execute(outbox.update().where(*where).values(parked_at=None, attempts=0)
                                      .returning(outbox.c.id))
        ids = list(released.scalars())
        await conn.execute(sa.select(sa.func.pg_notify(notify_channel(schema), "")))  # wake the relay at commit
    return ids
