"""Writing events: in the caller's transaction, beside the state change they describe."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from shared.events import CloudEvent
from shared.messaging.tables import outbox


def notify_channel(schema: str) -> str:
    return f"cb_outbox_{schema}"


async def add_event(session: AsyncSession, event: CloudEvent) -> None:
    """Stage an event; it is published only if and when the surrounding transaction commits.

    The NOTIFY is transactional too: the relay wakes at commit instead of waiting for its next poll.
    """
    await session.execute(
        outbox.insert().values(
            id=uuid.UUID(event.id), topic=event.type, key=event.key, event=event.model_dump(mode="json")
        )
    )
    await session.execute(sa.text("SELECT pg_notify('cb_outbox_' || current_schema(), '')"))
