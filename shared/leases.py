"""Short leases on claimed work, renewed while the work runs.

A worker claims a row by pushing its due time a lease ahead (`next_attempt_at = now() + lease`). If the
worker dies, the row is due again when the lease runs out, so the lease bounds how long a crash delays
the work; if the work outlives the lease, another worker would take it too. A short lease renewed by a
heartbeat gives both: interrupted work resumes within seconds, long work is never taken twice.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import structlog

log = structlog.get_logger(__name__)


@contextlib.asynccontextmanager
async def kept_alive(renew: Callable[[], Awaitable[bool]], *, lease_s: float, what: str) -> AsyncIterator[None]:
    """Call `renew` every third of `lease_s` while the block runs.

    `renew` extends the lease and says whether it still held it. The heartbeat is cancelled and awaited
    before the block's exit goes on, so whatever the caller records next (done, retry at a later time) is
    never overwritten by a renewal still in flight.
    """
    async def heartbeat() -> None:
        while True:
            await asyncio.sleep(lease_s / 3)
            try:
                if not await renew():
                    log.warning("lease.lost", what=what)
                    return
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database may be back before the lease runs out
                log.warning("lease.renew_failed", what=what, error=repr(exc))

    task = asyncio.create_task(heartbeat())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
