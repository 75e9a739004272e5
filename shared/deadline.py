"""The time budget of work someone is waiting for, carried in a context variable.

A service sets one per HTTP request (`CB_INTERACTIVE_DEADLINE_S`, below the gateway's upstream timeout), so
calls made while answering (marketplace calls above all) give up in time to answer with a clear error
instead of waiting on a 429 past the moment the gateway has already answered 504. Background work (sync,
consumers, pushes) runs outside any request and has no deadline: it keeps the long retry budget.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_deadline: ContextVar[float | None] = ContextVar("cb_deadline", default=None)


@contextmanager
def deadline_in(seconds: float | None) -> Iterator[None]:
    """Work inside the block should be done within `seconds` (None or 0: no deadline); a tighter enclosing
    deadline stays in force."""
    if not seconds or seconds <= 0:
        yield
        return
    new = time.monotonic() + seconds
    current = _deadline.get()
    token = _deadline.set(new if current is None else min(current, new))
    try:
        yield
    finally:
        _deadline.reset(token)


def time_left() -> float | None:
    """Seconds left before the current deadline (negative once passed); None when there is none."""
    deadline = _deadline.get()
    return None if deadline is None else deadline - time.monotonic()
