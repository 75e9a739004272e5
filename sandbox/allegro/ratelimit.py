"""Allegro's global limit: requests per minute per Client ID, shared by every seller of the app.

A sliding 60-second window of request times per client id, on the emulator's clock so tests can
advance past it. Over the limit Allegro answers 429 and blocks only that Client ID [issues
#8258, #9507]; it documents no rate-limit headers, so the only one sent is an optional
`Retry-After` (a setting).
"""

from __future__ import annotations

import math
from collections import deque

WINDOW_S = 60.0


def admit(windows: dict[str, deque[float]], client_id: str, limit: int, now: float) -> int:
    """Record one request; return 0 when admitted, else the seconds until a slot frees up."""
    window = windows.setdefault(client_id, deque())
    while window and window[0] <= now - WINDOW_S:
        window.popleft()
    if len(window) >= limit:
        return max(1, math.ceil(window[0] + WINDOW_S - now))
    window.append(now)
    return 0
