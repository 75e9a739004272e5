"""Pools do not ping on checkout (see shared.db.engine): after a database restart one statement fails, and the
next one gets a fresh connection. A server of its own, so the session's shared one is never restarted."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from shared.db import create_engine_for_schema
from shared.devstack.infra import EmbeddedPostgres


async def test_pool_recovers_after_a_database_restart(tmp_path):
    server = EmbeddedPostgres(tmp_path / "pg", keep=True)
    url = server.start()
    engine = create_engine_for_schema(url, "public", pool_size=2)
    try:
        async with engine.connect() as conn:
            assert await conn.scalar(text("SELECT 1")) == 1  # a pooled connection now exists
        server.stop()
        assert server.start() == url
        with pytest.raises(DBAPIError) as failed:
            async with engine.connect() as conn:
                await conn.scalar(text("SELECT 1"))
        assert failed.value.connection_invalidated
        async with engine.connect() as conn:
            assert await conn.scalar(text("SELECT 1")) == 1
    finally:
        await engine.dispose()
        server.stop()
