"""Per-client rate limit (sliding window counter, `limits` library); shared across replicas with a redis:// storage.

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


class RateLimiter:
    def __init__(self, limit: str, storage_uri: str) -> None:
        self._item = parse(limit)
        uri = storage_uri if storage_uri.startswith("async+") else f"async+{storage_uri}"
        self._limiter = SlidingWindowCounterRateLimiter(storage_from_string(uri))

    async def acquire(self, key: str) -> int | None:
        """None when the request may pass; otherwise the seconds to wait (for `Retry-After`)."""
        if await self._limiter.hit(self._item, key):
            return None
        stats = await self._limiter.get_window_stats(self._item, key)
        return max(1, math.ceil(stats.reset_time - time.time()))
