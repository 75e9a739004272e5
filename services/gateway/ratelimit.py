"""Per-client rate limit (moving window, `limits` library); shared across replicas with a redis:// storage."""

from __future__ import annotations

import math
import time

from limits import parse
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string


class RateLimiter:
    def __init__(self, limit: str, storage_uri: str) -> None:
        self._item = parse(limit)
        uri = storage_uri if storage_uri.startswith("async+") else f"async+{storage_uri}"
        self._limiter = MovingWindowRateLimiter(storage_from_string(uri))

    async def acquire(self, key: str) -> int | None:
        """None when the request may pass; otherwise the seconds to wait (for `Retry-After`)."""
        if await self._limiter.hit(self._item, key):
            return None
        stats = await self._limiter.get_window_stats(self._item, key)
        return max(1, math.ceil(stats.reset_time - time.time()))
