"""Postgres advisory locks: how names become keys, and whether anyone holds one.

Replicas coordinate through them (one migrator, one outbox relay, one sync per connection), so a lock
held by a process that died is released with its connection and nothing has to clean up after it.
"""

from __future__ import annotations

import zlib

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

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
