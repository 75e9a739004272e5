"""Sleeping until poked or timed out, without losing a cancellation.

Python 3.11's `asyncio.wait_for` returns normally when its task is cancelled in the same loop iteration in
which the awaited thing finishes (CPython gh-86296, fixed in 3.12). The cancel is then lost, and a
background loop (relay, consumer runner, scheduler) runs on through shutdown while whoever cancelled it
waits forever. `asyncio.timeout` has no such flaw, so every deadline in the project uses it (ruff bans
`asyncio.wait_for`); this module holds the one wait every background loop shares.
"""

from __future__ import annotations

import asyncio


async def wait_for_wakeup(event: asyncio.Event, timeout_s: float) -> bool:
    """True if `event` is set within `timeout_s`, False when the time ran out."""
    try:
        async with asyncio.timeout(timeout_s):
            await event.wait()
    except TimeoutError:
        return False
    return True
