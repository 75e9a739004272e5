"""Postgres advisory locks: how names become keys, taking and releasing them, and whether anyone holds one.

Replicas coordinate through them (one migrator, one outbox relay, one pruner, one sync per connection), so a
lock held by a process that died is released with its connection and nothing has to clean up after it. All
advisory-lock SQL of the project is in this module.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

_LOCK = text("SELECT pg_advisory_lock(:k)")
_TRY_LOCK = text("SELECT pg_try_advisory_lock(:k)")
_UNLOCK = text("SELECT pg_advisory_unlock(:k)")
_XACT_LOCK = text("SELECT pg_advisory_xact_lock(:k)")

# pg_locks shows a bigint key as two unsigned 32-bit halves: classid (high) and objid (low), objsubid 1.
_HELD = text("""
    SELECT EXISTS (SELECT 1 FROM pg_locks
                   WHERE locktype = 'advisory' AND granted AND objsubid = 1
                     AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
                     AND classid = ((CAST(:key AS bigint) >> 32) & 4294967295)::oid
                     AND objid = (CAST(:key AS bigint) & 4294967295)::oid)
""")


def advisory_key(name: str) -> int:
    """A stable signed 64-bit key for pg advisory locks."""
    return zlib.crc32(name.encode()) - 2**31


async def advisory_lock_held(session: AsyncSession, key: int) -> bool:
    """Whether any session of this database holds the lock now (seen from any replica)."""
    return bool(await session.scalar(_HELD, {"key": key}))


@asynccontextmanager
async def holding_lock(conn: AsyncConnection, key: int, *, wait: bool = True) -> AsyncIterator[bool]:
    """Hold the session-level lock `key` on `conn` for the block → whether it is held.

    `wait=False` does not queue behind another holder: the block runs with False and should do nothing. The
    lock outlives the block's commits; taking and releasing it each commit on `conn`, and what the block left
    uncommitted is rolled back before the release, so pass a connection dedicated to the lock or one the
    block commits itself. A block that fails still releases the lock, and its own error is the one raised.
    """
    if wait:
        await conn.execute(_LOCK, {"k": key})
        held = True
    else:
        held = bool(await conn.scalar(_TRY_LOCK, {"k": key}))
    await conn.commit()
    try:
        yield held
    finally:
        if held:
            await conn.rollback()  # a block that failed mid-statement left its transaction aborted
            await conn.execute(_UNLOCK, {"k": key})
            await conn.commit()


async def lock_for_transaction(session: AsyncSession, key: int) -> None:
    """Hold `key` until the session's transaction ends (waits for another holder)."""
    await session.execute(_XACT_LOCK, {"k": key})


async def try_lock_asyncpg(conn, key: int) -> bool:
    """`pg_try_advisory_lock` on a raw asyncpg connection (the outbox relay's LISTEN connection); released
    when the connection closes."""
    return bool(await conn.fetchval("SELECT pg_try_advisory_lock($1)", key))
