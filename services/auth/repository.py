"""SQL for the auth tables. Functions take the caller's session; the use case decides when to commit."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.auth.models import api_clients, merchants, signing_keys
from shared.db import locks
from shared.web.pagination import Cursor

# Everything about a client except its secret hash, which never leaves the service.
_CLIENT_COLUMNS = (api_clients.c.id, api_clients.c.client_id, api_clients.c.name, api_clients.c.merchant_id,
                   api_clients.c.scopes, api_clients.c.created_at, api_clients.c.disabled_at)


async def lock_for_transaction(session: AsyncSession, name: str) -> None:
    """Serialise `name` across replicas until this transaction ends."""
    await locks.lock_for_transaction(session, locks.advisory_key(name))


def _after(table: sa.Table, cursor: Cursor | None):
    if cursor is None:
        return sa.true()
    return sa.tuple_(table.c.created_at, table.c.id) > sa.tuple_(sa.literal(cursor.at), sa.literal(cursor.id))


# --- merchants ---

async def insert_merchant(session: AsyncSession, name: str) -> RowMapping:
    stmt = sa.insert(merchants).values(id=uuid.uuid4(), name=name).returning(*merchants.c)
    return (await session.execute(stmt)).mappings().one()


async def get_merchant(session: AsyncSession, merchant_id: uuid.UUID) -> RowMapping | None:
    stmt = sa.select(merchants).where(merchants.c.id == merchant_id)
    return (await session.execute(stmt)).mappings().one_or_none()


async def list_merchants(session: AsyncSession, cursor: Cursor | None, limit: int) -> Sequence[RowMapping]:
    """Up to `limit + 1` merchants after `cursor`, oldest first (the extra row says another page exists)."""
    stmt = (sa.select(merchants).where(_after(merchants, cursor))
            .order_by(merchants.c.created_at, merchants.c.id).limit(limit + 1))
    return (await session.execute(stmt)).mappings().all()


# --- API clients ---

async def insert_client(session: AsyncSession, *, client_id: str, name: str, merchant_id: uuid.UUID | None,
                        secret_hash: str, scopes: Sequence[str]) -> RowMapping:
    stmt = (sa.insert(api_clients)
            .values(id=uuid.uuid4(), client_id=client_id, name=name, merchant_id=merchant_id,
                    secret_hash=secret_hash, scopes=list(scopes))
            .returning(*_CLIENT_COLUMNS))
    return (await session.execute(stmt)).mappings().one()


async def get_client_credentials(session: AsyncSession, client_id: str) -> RowMapping | None:
    """The client with its secret hash: only for authenticating it."""
    stmt = sa.select(*_CLIENT_COLUMNS, api_clients.c.secret_hash).where(api_clients.c.client_id == client_id)
    return (await session.execute(stmt)).mappings().one_or_none()


async def list_clients(session: AsyncSession, merchant_id: uuid.UUID | None, cursor: Cursor | None,
                       limit: int) -> Sequence[RowMapping]:
    """Up to `limit + 1` clients after `cursor`, oldest first, optionally of one merchant."""
    stmt = sa.select(*_CLIENT_COLUMNS).where(_after(api_clients, cursor))
    if merchant_id is not None:
        stmt = stmt.where(api_clients.c.merchant_id == merchant_id)
    stmt = stmt.order_by(api_clients.c.created_at, api_clients.c.id).limit(limit + 1)
    return (await session.execute(stmt)).mappings().all()


async def disable_client(session: AsyncSession, id_: uuid.UUID) -> bool:
    """Mark the client disabled (keeping the first time it was); False if there is no such client."""
    stmt = (sa.update(api_clients).where(api_clients.c.id == id_)
            .values(disabled_at=sa.func.coalesce(api_clients.c.disabled_at, sa.func.now()))
            .returning(api_clients.c.id))
    return (await session.execute(stmt)).first() is not None


async def update_client_credentials(session: AsyncSession, id_: uuid.UUID, *, secret_hash: str | None = None,
                                    scopes: Sequence[str] | None = None) -> None:
    values: dict = {}
    if secret_hash is not None:
        values["secret_hash"] = secret_hash
    if scopes is not None:
        values["scopes"] = list(scopes)
    if values:
        await session.execute(sa.update(api_clients).where(api_clients.c.id == id_).values(**values))


# --- signing keys ---

async def newest_active_signing_key(session: AsyncSession) -> RowMapping | None:
    stmt = (sa.select(signing_keys).where(signing_keys.c.retired_at.is_(None))
            .order_by(signing_keys.c.created_at.desc()).limit(1))
    return (await session.execute(stmt)).mappings().first()


async def insert_signing_key(session: AsyncSession, *, kid: str, sealed_private_jwk: str, public_jwk: dict) -> None:
    await session.execute(sa.insert(signing_keys).values(kid=kid, private_jwk=sealed_private_jwk,
                                                         public_jwk=public_jwk))


async def published_public_keys(session: AsyncSession, retired_after: datetime) -> Sequence[RowMapping]:
    """Public JWKs of active keys and of keys retired after `retired_after`, newest first."""
    stmt = (sa.select(signing_keys.c.kid, signing_keys.c.public_jwk)
            .where(sa.or_(signing_keys.c.retired_at.is_(None), signing_keys.c.retired_at > retired_after))
            .order_by(signing_keys.c.created_at.desc()))
    return (await session.execute(stmt)).mappings().all()
