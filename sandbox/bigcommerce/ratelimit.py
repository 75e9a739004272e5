"""Per-store request quota as BigCommerce documents it (api-rate-limits.mdx).

All apps of one store share one quota that refreshes every window (30 s; 150 requests on
Standard/Plus, 450 on Pro). Every response carries the four `X-Rate-Limit-*` headers; once the
quota is spent the store gets 429 until the window resets. A fixed window per store, started by
the first request, reproduces exactly what the headers describe.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass


@dataclass
class _Window:
    started: float
    used: int = 0


@dataclass
class Verdict:
    allowed: bool
    headers: dict[str, str]


class StoreQuota:
    def __init__(self) -> None:
        self._windows: dict[str, _Window] = {}

    def take(self, store_hash: str, quota: int, window_ms: int, *, consume: bool = True) -> Verdict:
        """Spend one request of the store's quota (or just report it when `consume` is False)."""
        now = time.monotonic()
        window_s = window_ms / 1000
        window = self._windows.get(store_hash)
        if window is None or now >= window.started + window_s:
            window = self._windows[store_hash] = _Window(started=now)
        allowed = window.used < quota
        if consume and allowed:
            window.used += 1
        reset_ms = max(1, math.ceil((window.started + window_s - now) * 1000))
        headers = {
            "X-Rate-Limit-Time-Window-Ms": str(window_ms),
            "X-Rate-Limit-Time-Reset-Ms": str(reset_ms),
            "X-Rate-Limit-Requests-Quota": str(quota),
            "X-Rate-Limit-Requests-Left": str(max(0, quota - window.used)),
        }
        return Verdict(allowed=allowed or not consume, headers=headers)
