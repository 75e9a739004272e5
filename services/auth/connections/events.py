"""The connection events auth publishes, staged in the outbox of the transaction that changes the status."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.auth.models import connections
from shared.db.versions import next_version
from shared.events import make_event
from shared.events.payloads import ConnectionConnected, ConnectionDisconnected, ConnectionNeedsReauth
from shared.messaging.outbox import add_event

SOURCE = "channelbridge/auth"


async def _stage(session: AsyncSession, connection: RowMapping, payload: BaseModel) -> None:
    # Keyed (subject) by connection id so one connection's events stay in order on one partition; versioned
    # because they use three topics, where nothing keeps `disconnected` behind `connected`.
    version = await next_version(session, connections, connections.c.id, connection["id"])
    await add_event(session, make_event(SOURCE, payload, subject=str(connection["id"]),
                                        tenant_id=str(connection["merchant_id"]), aggregate_version=version))


async def connected(session: AsyncSession, connection: RowMapping, *, shop_id: str, shop_name: str | None,
                    connected_at: datetime) -> None:
    await _stage(session, connection, ConnectionConnected(
        connection_id=connection["id"], merchant_id=connection["merchant_id"],
        marketplace=connection["marketplace"], shop_id=shop_id, shop_name=shop_name, connected_at=connected_at))


async def disconnected(session: AsyncSession, connection: RowMapping) -> None:
    await _stage(session, connection, ConnectionDisconnected(
        connection_id=connection["id"], merchant_id=connection["merchant_id"],
        marketplace=connection["marketplace"]))


async def needs_reauth(session: AsyncSession, connection: RowMapping, reason: str) -> None:
    await _stage(session, connection, ConnectionNeedsReauth(
        connection_id=connection["id"], merchant_id=connection["merchant_id"],
        marketplace=connection["marketplace"], reason=reason))
