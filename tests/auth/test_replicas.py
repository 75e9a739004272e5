"""Start-up of several auth replicas on an empty database: one signing key, one bootstrap admin.

Runs its own auth processes on a database of their own, so an empty `auth` schema is guaranteed.
"""

from __future__ import annotations

import httpx
import pytest
import sqlalchemy as sa

from shared.db import create_engine_for_schema
from shared.devstack.processes import free_listen_port
from shared.devstack.stack import Component, Stack
from tests.auth.conftest import request_token
from tests.conftest import ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET, scratch_database, stack_env


@pytest.fixture
async def empty_database_url(settings):
    async with scratch_database(settings, "auth_replicas") as url:
        yield url


def auth_replicas(settings, database_url: str, log_dir, count: int, **env) -> Stack:
    components = [Component(f"auth-{i}", "services.auth.main:app", free_listen_port()) for i in range(count)]
    test_settings = settings.model_copy(update={"database_url": database_url})
    return Stack(env={**stack_env(test_settings), **env}, components=components, log_dir=log_dir)


async def auth_rows(database_url: str) -> tuple[int, list[dict]]:
    engine = create_engine_for_schema(database_url, "auth", pool_size=1)
    try:
        async with engine.connect() as conn:
            keys = (await conn.execute(sa.text("SELECT count(*) FROM signing_keys"))).scalar_one()
            clients = (await conn.execute(sa.text("SELECT client_id, scopes FROM api_clients"))).mappings().all()
    finally:
        await engine.dispose()
    return keys, [dict(c) for c in clients]


async def test_replicas_starting_together_create_one_key_and_one_admin(settings, empty_database_url, tmp_path):
    replicas = auth_replicas(settings, empty_database_url, tmp_path, count=3)
    replicas.start()
    try:
        jwks = []
        for c in replicas.components:
            async with httpx.AsyncClient(base_url=replicas.url(c.name), timeout=10.0) as http:
                jwks.append((await http.get("/.well-known/jwks.json")).json())
                token = await request_token(http, ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET)
                assert token.status_code == 200, token.text
    finally:
        replicas.stop()

    key_count, clients = await auth_rows(empty_database_url)
    assert key_count == 1
    assert [c["client_id"] for c in clients] == [ADMIN_CLIENT_ID]
    assert all(doc == jwks[0] for doc in jwks)


async def test_restart_with_changed_bootstrap_secret_replaces_it(settings, empty_database_url, tmp_path):
    first = auth_replicas(settings, empty_database_url, tmp_path / "first", count=1)
    first.start()
    first.stop()
    new_secret = "rotated-admin-secret-9876543210"
    second = auth_replicas(settings, empty_database_url, tmp_path / "second", count=1,
                           CB_BOOTSTRAP_ADMIN_CLIENT_SECRET=new_secret)
    second.start()
    try:
        async with httpx.AsyncClient(base_url=second.url("auth-0"), timeout=10.0) as http:
            old = await request_token(http, ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET)
            new = await request_token(http, ADMIN_CLIENT_ID, new_secret)
    finally:
        second.stop()

    assert old.status_code == 401
    assert new.status_code == 200, new.text
    key_count, clients = await auth_rows(empty_database_url)
    assert key_count == 1  # the restart reused the stored key
    assert len(clients) == 1

