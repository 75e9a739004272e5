"""`shared.db.locks.holding_lock`: the one way a process holds a named advisory lock across commits."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from shared.db.engine import service_engine
from shared.db.locks import advisory_key, advisory_lock_held, holding_lock


async def test_a_held_lock_turns_others_away_and_a_failed_block_still_releases_it_with_its_own_error(settings):
    engine = service_engine(settings, "public")
    key = advisory_key(f"test:{uuid.uuid4()}")
    try:
        async with engine.connect() as holder, engine.connect() as other, engine.connect() as observer:
            with pytest.raises(DBAPIError, match="division by zero"):
                async with holding_lock(holder, key, wait=False) as held:
                    assert held
                    async with holding_lock(other, key, wait=False) as also:
                        assert not also  # no waiting behind the holder
                    assert await advisory_lock_held(observer, key)
                    await holder.execute(text("SELECT 1 / 0"))  # the block fails mid-transaction
            assert not await advisory_lock_held(observer, key)
            async with holding_lock(other, key, wait=False) as now:
                assert now
    finally:
        await engine.dispose()
