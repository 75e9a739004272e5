"""Background loops that live exactly as long as a block: a service's lifespan, a test, a bench phase."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from typing import Any


class StuckTask(RuntimeError):
    """A background loop ignored its cancel: shutting down would hang on it."""


@asynccontextmanager
async def running(*coros: Coroutine[Any, Any, Any], stop_timeout_s: float = 30.0) -> AsyncIterator[list[asyncio.Task]]:
    """Run `coros` as tasks for the block; on exit cancel them and wait until every one has stopped.

    Errors of the loops are theirs to log (they run until cancelled); a loop still running `stop_timeout_s`
    after its cancel raises StuckTask naming it, so a lost cancel fails loudly instead of hanging shutdown.
    """
    tasks = [asyncio.create_task(coro) for coro in coros]
    try:
        yield tasks
    finally:
        for task in tasks:
            task.cancel()
        if tasks:
            _, stuck = await asyncio.wait(tasks, timeout=stop_timeout_s)
            for task in tasks:
                if task.done() and not task.cancelled():
                    task.exception()  # retrieved, so asyncio does not report it as never retrieved
            if stuck:
                names = ", ".join(task.get_coro().__qualname__ for task in stuck)
                raise StuckTask(f"still running {stop_timeout_s}s after cancel: {names}")
