"""Writing events: in the caller's transaction, beside the state change they describe."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from shared.events import CloudEvent
from shared.messaging.tables import outbox


def notify_channel(schema: str) -> str:
    """The channel the outbox trigger notifies at commit (see `shared.messaging.tables`)."""
    return f"cb_outbox_{schema}"


async def add_event(session: AsyncSession, event: CloudEvent) -> None:
    """Stage an event; it is published only if and when the surrounding transaction commits."""
    await add_events(session, [event])


async def add_events(session: AsyncSession, events: list[CloudEvent]) -> None:
    """Stage several events with one multi-row insert (what bulk writers such as an order sync page use)."""
    if not events:
        return
    rows = [{"id": uuid.UUID(e.id), "topic": e.type, "key": e.key, "event": e.model_dump(mode="json")} for e in events]
    await session.execute(outbox.insert(), rows)  # its statement trigger wakes the relay at commit
