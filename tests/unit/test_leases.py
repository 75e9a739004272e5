"""The lease heartbeat renews while the work runs and stops with it."""

from __future__ import annotations

import asyncio

from shared.leases import kept_alive
from tests.conftest import eventually


async def test_lease_is_renewed_while_the_block_runs_and_never_after_it():
    renewals: list[int] = []
    renewed = asyncio.Event()

    async def renew() -> bool:
        renewals.append(1)
        if len(renewals) == 3:
            renewed.set()
        return True

    async with kept_alive(renew, lease_s=0.06, what="test"):
        await renewed.wait()  # work longer than two leases: the heartbeat kept renewing
    after_exit = len(renewals)
    for _ in range(5):
        await asyncio.sleep(0.03)
    assert after_exit == 3 and len(renewals) == after_exit


async def test_heartbeat_survives_a_failed_renewal_and_stops_once_the_lease_is_lost():
    outcomes = iter([RuntimeError("database restarting"), True, False])
    calls: list[object] = []

    async def renew() -> bool:
        outcome = next(outcomes)
        calls.append(outcome)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    async with kept_alive(renew, lease_s=0.03, what="test"):
        async def lost():
            return len(calls) == 3
        await eventually(lost, timeout=5, interval=0.01)
        for _ in range(5):
            await asyncio.sleep(0.02)
    assert len(calls) == 3  # no renewal after the lease was reported lost (next() would have raised)
