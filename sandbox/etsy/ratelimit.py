"""Per-application rate limiting as Etsy documents it.

Etsy meters each app (keystring) with a per-second allowance (QPS) and a rolling 24-hour
allowance (QPD) and reports both in `x-limit-*` / `x-remaining-*` headers; exceeding either
answers 429 with `retry-after`. A token bucket gives the QPS part, a deque of request times
the sliding 24 h window.
"""

from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass, field

DAY_S = 86_400


@dataclass
class _Bucket:
    tokens: float
    last: float
    day: deque[float] = field(default_factory=deque)


@dataclass
class Verdict:
    allowed: bool
    headers: dict[str, str]
    retry_after: int = 0


class RateLimiter:
    def __init__(self) -> None:
        self._buckets: dict[str, _Bucket] = {}

    def reset(self) -> None:
        self._buckets.clear()

    def check(self, key: str, per_second: float, per_day: int) -> Verdict:
        now = time.monotonic()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(tokens=per_second, last=now)
        bucket.tokens = min(per_second, bucket.tokens + (now - bucket.last) * per_second)
        bucket.last = now
        while bucket.day and bucket.day[0] <= now - DAY_S:
            bucket.day.popleft()

        retry_after = 0
        if len(bucket.day) >= per_day:
            retry_after = max(1, math.ceil(bucket.day[0] + DAY_S - now))
        elif bucket.tokens < 1:
            retry_after = max(1, math.ceil((1 - bucket.tokens) / per_second))
        else:
            bucket.tokens -= 1
            bucket.day.append(now)

        headers = {
            "x-limit-per-second": str(int(per_second)),
            "x-remaining-this-second": str(max(0, math.floor(bucket.tokens))),
            "x-limit-per-day": str(per_day),
            "x-remaining-today": str(max(0, per_day - len(bucket.day))),
        }
        if retry_after:
            headers["retry-after"] = str(retry_after)
        return Verdict(allowed=retry_after == 0, headers=headers, retry_after=retry_after)
