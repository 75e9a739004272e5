"""A marketplace app's rate budget shared by every process that spends it.

Marketplaces meter per application (BigCommerce: per store), not per process: with a token bucket in each
replica, N replicas would spend N times the allowance and earn 429s. So the bucket lives in Postgres, one
row per budget key in the `ratelimit` schema, and taking a token is one atomic statement that refills the
row from the time elapsed (the database's clock, the same for every replica) and takes one token, with
no read-modify-write in Python. A taker that finds the bucket empty still takes its token, leaving the
balance negative: that is its place in the queue, and it sleeps until the token is due. Waiters are
served in order without polling, and a cancelled waiter's token is simply not used (the safe side).

With `CB_MARKETPLACE_RATE_STORAGE=redis://…` the same bucket lives in Redis (a Lua script does the same
refill-and-take atomically, on Redis's clock), for deployments that would rather not spend a database
round trip per marketplace call. `memory` keeps a bucket per process (single-process tools, tests).

Why not the `limits` library (which the gateway uses): it has no Postgres storage, and its windows answer
yes/no, so waiting for the next slot would mean polling. Postgres is already every service's database.
"""

from __future__ import annotations

import asyncio
import weakref
from pathlib import Path
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.db import create_engine_for_schema
from shared.db.migrations import migrate_to_head
from shared.marketplaces.base import TransientMarketplaceError

SCHEMA = "ratelimit"
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")
MIGRATIONS = Path(__file__).with_name("budget_migrations")

metadata = sa.MetaData()

budgets = sa.Table(
    "budgets", metadata,
    sa.Column("key", sa.Text, primary_key=True, comment="marketplace:app (or store) the budget meters"),
    sa.Column("tokens", sa.Double, nullable=False, comment="negative: tokens already promised to waiters"),
    sa.Column("refilled_at", sa.DateTime(timezone=True), nullable=False),
    comment="Token buckets of marketplace apps, shared by every replica",
)

# Refill by the elapsed time (capped at the burst), then take one token; the result says how long to wait.
_TAKE = sa.text("""
INSERT INTO budgets AS b (key, tokens, refilled_at)
VALUES (:key, CAST(:burst AS double precision) - 1, clock_timestamp())
ON CONFLICT (key) DO UPDATE SET
    tokens = LEAST(CAST(:burst AS double precision),
                   b.tokens + CAST(:rate AS double precision)
                   * GREATEST(0, EXTRACT(EPOCH FROM clock_timestamp() - b.refilled_at))::double precision) - 1,
    refilled_at = clock_timestamp()
RETURNING tokens
""")


class RateBudget(Protocol):
    async def acquire(self) -> None: ...


class BudgetStore:
    """The `ratelimit` schema of one database, as seen from one event loop; created on first use."""

    def __init__(self, database_url: str) -> None:
        self._engine: AsyncEngine = create_engine_for_schema(database_url, SCHEMA, pool_size=2)
        self._migrated = False
        self._migrating = asyncio.Lock()

    async def take(self, key: str, rate_per_second: float, burst: float) -> float:
        """Take one token of `key`'s bucket → seconds until it may be used (0: now)."""
        try:
            if not self._migrated:
                async with self._migrating:
                    if not self._migrated:
                        await migrate_to_head(self._engine, MIGRATIONS, SCHEMA, metadata)
                        self._migrated = True
            async with self._engine.begin() as conn:
                tokens = (await conn.execute(_TAKE, {"key": key, "rate": rate_per_second, "burst": burst})).scalar_one()
        except (OSError, sa.exc.SQLAlchemyError) as exc:
            raise TransientMarketplaceError(f"the shared rate budget is unavailable: {exc!r}") from exc
        return 0.0 if tokens >= 0 else -tokens / rate_per_second

    async def dispose(self) -> None:
        await self._engine.dispose()


# The same refill-and-take as _TAKE; the balance travels as a string (Redis truncates Lua numbers to integers).
_REDIS_TAKE = """
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local row = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens, at = tonumber(row[1]) or burst, tonumber(row[2]) or now
tokens = math.min(burst, tokens + rate * math.max(0, now - at)) - 1
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('EXPIRE', KEYS[1], 86400)
return tostring(tokens)
"""


class RedisBudgetStore:
    """The buckets as Redis hashes `cb:ratelimit:<key>`, for `CB_MARKETPLACE_RATE_STORAGE=redis://…`."""

    def __init__(self, uri: str) -> None:
        import redis.asyncio as redis  # only deployments that configure Redis need the client

        self._errors = (OSError, redis.RedisError)
        self._client = redis.from_url(uri)
        self._take = self._client.register_script(_REDIS_TAKE)

    async def take(self, key: str, rate_per_second: float, burst: float) -> float:
        try:
            tokens = float(await self._take(keys=[f"cb:ratelimit:{key}"], args=[rate_per_second, burst]))
        except self._errors as exc:
            raise TransientMarketplaceError(f"the shared rate budget is unavailable: {exc!r}") from exc
        return 0.0 if tokens >= 0 else -tokens / rate_per_second

    async def dispose(self) -> None:
        await self._client.aclose()


_stores: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, BudgetStore | RedisBudgetStore]] = \
    weakref.WeakKeyDictionary()


def budget_store(uri: str) -> BudgetStore | RedisBudgetStore:
    """One store per storage URI (a database URL or redis://…) and event loop: a connection pool belongs to
    the loop that made it."""
    per_loop = _stores.setdefault(asyncio.get_running_loop(), {})
    store = per_loop.get(uri)
    if store is None:
        store = per_loop[uri] = RedisBudgetStore(uri) if uri.startswith(REDIS_SCHEMES) else BudgetStore(uri)
    return store


class SharedBudget:
    """A token bucket of `rate_per_second` with a burst of one second's worth, kept in Postgres or Redis."""

    def __init__(self, storage_uri: str, key: str, rate_per_second: float) -> None:
        self._storage_uri = storage_uri
        self.key = key
        self.rate_per_second = rate_per_second

    async def acquire(self) -> None:
        wait_s = await budget_store(self._storage_uri).take(self.key, self.rate_per_second,
                                                            burst=max(1.0, self.rate_per_second))
        if wait_s > 0:
            await asyncio.sleep(wait_s)
