"""SQL for connections, pending OAuth authorizations and sealed tokens; the use case decides when to commit."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.auth.models import connection_settings_audit, connection_tokens, connections, oauth_states
from shared.statuses import ConnectionStatus
from shared.web.pagination import Cursor

# --- connections ---


async def insert_connection(session: AsyncSession, *, id_: uuid.UUID, merchant_id: uuid.UUID,
                            marketplace: str) -> RowMapping:
    stmt = (sa.insert(connections)
            .values(id=id_, merchant_id=merchant_id, marketplace=marketplace, status=ConnectionStatus.PENDING)
            .returning(*connections.c))
    return (await session.execute(stmt)).mappings().one()


async def get_connection(session: AsyncSession, connection_id: uuid.UUID, *,
                         for_update: bool = False) -> RowMapping | None:
    stmt = sa.select(connections).where(connections.c.id == connection_id)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).mappings().one_or_none()


async def live_connection_of_shop(session: AsyncSession, *, merchant_id: uuid.UUID, marketplace: str,
                                  shop_id: str) -> RowMapping | None:
    """The merchant's not-disconnected connection to this shop, locked (there is at most one)."""
    stmt = (sa.select(connections)
            .where(connections.c.merchant_id == merchant_id, connections.c.marketplace == marketplace,
                   connections.c.shop_id == shop_id, connections.c.status != ConnectionStatus.DISCONNECTED)
            .with_for_update())
    return (await session.execute(stmt)).mappings().one_or_none()


async def list_connections(session: AsyncSession, merchant_id: uuid.UUID | None, cursor: Cursor | None,
                           limit: int) -> Sequence[RowMapping]:
    """Up to `limit + 1` connections after `cursor`, oldest first, optionally of one merchant."""
    stmt = sa.select(connections)
    if cursor is not None:
        stmt = stmt.where(sa.tuple_(connections.c.created_at, connections.c.id)
                          > sa.tuple_(sa.literal(cursor.at), sa.literal(cursor.id)))
    if merchant_id is not None:
        stmt = stmt.where(connections.c.merchant_id == merchant_id)
    stmt = stmt.order_by(connections.c.created_at, connections.c.id).limit(limit + 1)
    return (await session.execute(stmt)).mappings().all()


async def update_connection(session: AsyncSession, connection_id: uuid.UUID, **values) -> None:
    await session.execute(sa.update(connections).where(connections.c.id == connection_id)
                          .values(**values, updated_at=sa.func.now()))


# --- pending authorizations ---


async def insert_oauth_state(session: AsyncSession, *, state_hash: str, connection_id: uuid.UUID,
                             sealed_code_verifier: str, redirect_uri: str, expires_at: datetime) -> None:
    await session.execute(sa.insert(oauth_states).values(
        state_hash=state_hash, connection_id=connection_id, code_verifier=sealed_code_verifier,
        redirect_uri=redirect_uri, expires_at=expires_at))


async def get_oauth_state(session: AsyncSession, state_hash: str, *, for_update: bool = False) -> RowMapping | None:
    stmt = sa.select(oauth_states).where(oauth_states.c.state_hash == state_hash)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).mappings().one_or_none()


async def mark_oauth_state_used(session: AsyncSession, state_hash: str) -> None:
    await session.execute(sa.update(oauth_states).where(oauth_states.c.state_hash == state_hash)
                          .values(used_at=sa.func.now()))


# --- tokens ---


async def get_tokens(session: AsyncSession, connection_id: uuid.UUID, *, for_update: bool = False) -> RowMapping | None:
    stmt = sa.select(connection_tokens).where(connection_tokens.c.connection_id == connection_id)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).mappings().one_or_none()


async def store_tokens(session: AsyncSession, connection_id: uuid.UUID, *, sealed_access_token: str,
                       sealed_refresh_token: str | None, expires_at: datetime | None,
                       sealed_signing_secret: str | None = None) -> None:
    """The pair from an authorization: a first grant, or a re-authorization replacing a dead one."""
    stmt = insert(connection_tokens).values(connection_id=connection_id, access_token=sealed_access_token,
                                            refresh_token=sealed_refresh_token, expires_at=expires_at,
                                            signing_secret=sealed_signing_secret)
    await session.execute(stmt.on_conflict_do_update(
        index_elements=[connection_tokens.c.connection_id],
        set_={"access_token": stmt.excluded.access_token, "refresh_token": stmt.excluded.refresh_token,
              "expires_at": stmt.excluded.expires_at, "refreshed_at": None,
              "signing_secret": stmt.excluded.signing_secret,
              "version": connection_tokens.c.version + 1}))


async def replace_refreshed_tokens(session: AsyncSession, connection_id: uuid.UUID, *, sealed_access_token: str,
                                   sealed_refresh_token: str, expires_at: datetime, refreshed_at: datetime) -> int:
    """Store a refresh's pair (the caller holds the row lock); returns the new version."""
    stmt = (sa.update(connection_tokens).where(connection_tokens.c.connection_id == connection_id)
            .values(access_token=sealed_access_token, refresh_token=sealed_refresh_token, expires_at=expires_at,
                    refreshed_at=refreshed_at, version=connection_tokens.c.version + 1)
            .returning(connection_tokens.c.version))
    return (await session.execute(stmt)).scalar_one()


async def delete_tokens(session: AsyncSession, connection_id: uuid.UUID) -> None:
    await session.execute(sa.delete(connection_tokens).where(connection_tokens.c.connection_id == connection_id))


async def note_pending_failure(session: AsyncSession, connection_id: uuid.UUID, reason: str) -> None:
    """Record why an authorization did not complete, on a connection that is still pending."""
    await session.execute(sa.update(connections)
                          .where(connections.c.id == connection_id, connections.c.status == ConnectionStatus.PENDING)
                          .values(status_reason=reason, updated_at=sa.func.now()))


async def add_settings_audit(session: AsyncSession, connection_id: uuid.UUID, changed_by: str,
                             changed: dict[str, tuple]) -> None:
    await session.execute(connection_settings_audit.insert(), [
        {"connection_id": connection_id, "changed_by": changed_by, "setting": name, "old_value": old, "new_value": new}
        for name, (old, new) in changed.items()])


async def settings_audit(session: AsyncSession, connection_id: uuid.UUID) -> list[RowMapping]:
    stmt = (sa.select(connection_settings_audit).where(connection_settings_audit.c.connection_id == connection_id)
            .order_by(connection_settings_audit.c.id))
    return list((await session.execute(stmt)).mappings())
