"""Writing events: in the caller's transaction, beside the state change they describe."""

from __future__ import annotations

import uuid
import weakref

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from shared.events import CloudEvent
from shared.messaging.tables import outbox

_NOTIFIED = "cb_outbox_notified_transactions"


def notify_channel(schema: str) -> str:
    return f"cb_outbox_{schema}"


async def add_event(session: AsyncSession, event: CloudEvent) -> None:
    """Stage an event; it is published only if and when the surrounding transaction commits."""
    await add_events(session, [event])


async def add_events(session: AsyncSession, events: list[CloudEvent]) -> None:
    """Stage several events with one multi-row insert (what bulk writers such as an order sync page use)."""
    if not events:
        return
    rows = [{"id": uuid.UUID(e.id), "topic": e.type, "key": e.key, "event": e.model_dump(mode="json")} for e in events]
    await session.execute(outbox.insert(), rows)
    await _notify_relay_once(session)


async def _notify_relay_once(session: AsyncSession) -> None:
    """One NOTIFY per transaction wakes the relay at commit (it is transactional) instead of at its next poll."""
    transaction = session.sync_session.get_transaction()
    notified = session.info.setdefault(_NOTIFIED, weakref.WeakSet())
    if transaction is None or transaction in notified:
        return
    notified.add(transaction)
    await session.execute(sa.text("SELECT pg_notify('cb_outbox_' || current_schema(), '')"))
