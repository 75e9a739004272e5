"""Background loops stop when cancelled, even when the cancel lands as their wait ends (CPython gh-86296)."""

from __future__ import annotations

import asyncio

import pytest

from shared.background import StuckTask, running
from shared.wakeup import wait_for_wakeup


async def test_wakeup_reports_whether_the_event_was_set_in_time():
    event = asyncio.Event()
    assert await wait_for_wakeup(event, 0.01) is False
    asyncio.get_running_loop().call_later(0.01, event.set)
    assert await wait_for_wakeup(event, 5) is True


async def test_a_cancel_that_lands_as_the_wakeup_arrives_stops_the_loop():
    """With asyncio.wait_for on 3.11 this loop swallowed the cancel and ran on: a shutdown that never ended."""
    event = asyncio.Event()
    waits = 0

    async def loop_until_cancelled():
        nonlocal waits
        while True:
            waits += 1
            await wait_for_wakeup(event, 5)
            event.clear()

    task = asyncio.create_task(loop_until_cancelled())
    await asyncio.sleep(0)  # the loop is waiting now
    event.set()
    task.cancel()  # in the same loop iteration as the wake-up
    with pytest.raises(asyncio.CancelledError):  # a lost cancel would end in TimeoutError instead
        async with asyncio.timeout(2):
            await task
    assert waits == 1


async def test_running_cancels_its_loops_at_the_end_of_the_block():
    started = asyncio.Event()

    async def forever():
        started.set()
        await asyncio.Event().wait()

    async def fails():
        raise RuntimeError("a loop's own error is its own to log")

    async with running(forever(), fails()) as tasks:
        await started.wait()
    assert tasks[0].cancelled()
    assert isinstance(tasks[1].exception(), RuntimeError)


async def test_a_loop_that_ignores_its_cancel_is_named_instead_of_hanging_the_shutdown():
    release = asyncio.Event()

    async def deaf_loop():
        while not release.is_set():
            try:
                await asyncio.sleep(0.01)
            except asyncio.CancelledError:
                continue  # the bug this guards against: a cancel that is lost

    with pytest.raises(StuckTask, match="deaf_loop"):
        async with running(deaf_loop(), stop_timeout_s=0.2):
            await asyncio.sleep(0.05)  # it is looping now (a task cancelled before its first step never runs)
    release.set()
