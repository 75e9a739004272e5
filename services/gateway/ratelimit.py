"""Rate limits (sliding window counter, `limits` library); shared across replicas with a redis:// storage.

Two uses: the request limit per API client (or per caller address on public routes), and the failed
client-authentication limit per client id at the token endpoint.

Sliding window counter, not moving window: the moving window keeps one timestamp per hit (a client at its
100/second limit holds 100 of them) and, in limits' async memory storage, trims them through a worker
thread after every hit, which measured about a third of the gateway's CPU per proxied request. The counter
keeps two numbers per client and weights the previous window by how much of it still overlaps.
"""

from __future__ import annotations

import math
import time

from limits import parse
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.storage import storage_from_string


def _storage(storage_uri: str):
    return storage_from_string(storage_uri if storage_uri.startswith("async+") else f"async+{storage_uri}")


class RateLimiter:
    def __init__(self, limit: str, storage_uri: str, *, storage=None) -> None:
        self._item = parse(limit)
        self.storage = storage or _storage(storage_uri)
        self._limiter = SlidingWindowCounterRateLimiter(self.storage)

    async def _retry_after(self, key: str) -> int:
        stats = await self._limiter.get_window_stats(self._item, key)
        return max(1, math.ceil(stats.reset_time - time.time()))

    async def acquire(self, key: str) -> int | None:
        """None when the request may pass; otherwise the seconds to wait (for `Retry-After`)."""
        if await self._limiter.hit(self._item, key):
            return None
        return await self._retry_after(key)

    async def exhausted(self, key: str) -> int | None:
        """Like `acquire` but without counting: the seconds to wait if `key` has no hits left, else None."""
        if await self._limiter.test(self._item, key):
            return None
        return await self._retry_after(key)

    async def record(self, key: str) -> None:
        await self._limiter.hit(self._item, key)

    async def storage_ok(self) -> bool:
        try:
            return bool(await self.storage.check())
        except Exception:
            return False
