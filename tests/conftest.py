"""Session-wide real infrastructure: one embedded PostgreSQL and one Tansu broker for the whole run."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from shared.crypto import generate_key_spec
from shared.devstack.infra import EmbeddedPostgres, TansuBroker
from shared.settings import Settings


@pytest.fixture(scope="session")
def infra_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("infra")


@pytest.fixture(scope="session")
def pg_url(infra_dir) -> str:
    server = EmbeddedPostgres(infra_dir / "pg", keep=False)
    url = server.start()
    yield url
    server.stop()


@pytest.fixture(scope="session")
def broker(infra_dir) -> TansuBroker:
    tansu = TansuBroker(log_path=infra_dir / "tansu.log")
    tansu.start()
    yield tansu
    tansu.stop()


@pytest.fixture(scope="session")
def settings(pg_url, broker) -> Settings:
    return Settings(
        environment="test",
        database_url=pg_url,
        kafka_bootstrap_servers=broker.bootstrap_servers,
        kafka_topic_partitions=3,
        internal_secret="test-internal-secret",
        encryption_keys=generate_key_spec(),
        log_level="WARNING",
    )


@asynccontextmanager
async def scratch_database(settings: Settings, prefix: str) -> AsyncIterator[str]:
    """A fresh, empty database on the session's server, dropped afterwards: for tests whose services must
    start from nothing (their own migrations, their own shared tables)."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    url = make_url(settings.database_url)
    admin_dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        conn = await asyncpg.connect(admin_dsn)
        try:
            await conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        finally:
            await conn.close()


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 30.0, interval: float = 0.1) -> None:
    """Poll an async condition until it holds; fail with a clear message otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        if await check():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"condition {getattr(check, '__name__', check)} not met within {timeout}s")
        await asyncio.sleep(interval)


ADMIN_CLIENT_ID = "test-admin"
ADMIN_CLIENT_SECRET = "test-admin-secret-0123456789"
TEST_RATE_LIMIT = "40/second"


def stack_env(settings: Settings) -> dict[str, str]:
    return {
        "CB_ENVIRONMENT": "test",
        "CB_DATABASE_URL": settings.database_url,
        "CB_KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
        "CB_KAFKA_TOPIC_PARTITIONS": str(settings.kafka_topic_partitions),
        "CB_INTERNAL_SECRET": settings.internal_secret.get_secret_value(),
        "CB_ENCRYPTION_KEYS": settings.encryption_keys.get_secret_value(),
        "CB_BOOTSTRAP_ADMIN_CLIENT_ID": ADMIN_CLIENT_ID,
        "CB_BOOTSTRAP_ADMIN_CLIENT_SECRET": ADMIN_CLIENT_SECRET,
        "CB_RATE_LIMIT": TEST_RATE_LIMIT,
        "CB_BIGCOMMERCE_PAGE_SIZE": "50",
        "CB_BIGCOMMERCE_RATE_PER_SECOND": "25",
        "CB_LOG_LEVEL": "INFO",
    }


def _start_stack(settings: Settings, infra_dir: Path, names: set[str] | None = None,
                 extra_env: dict[str, str] | None = None):
    from dataclasses import replace

    from shared.devstack.processes import free_listen_port
    from shared.devstack.stack import Stack, default_components

    components = [replace(c, port=free_listen_port()) for c in default_components()]
    if names is not None:
        components = [c for c in components if c.name in names]
    stack = Stack(env={**stack_env(settings), **(extra_env or {})}, components=components, log_dir=infra_dir / "logs")
    stack.start()
    return stack


@pytest.fixture(scope="session")
def stack(settings, infra_dir):
    """The whole stack (services + gateway) as real processes on free ports, for the session."""
    running = _start_stack(settings, infra_dir)
    yield running
    running.stop()


@pytest.fixture(scope="session")
def auth_only(settings, infra_dir):
    """Only the auth service, for tests that talk to it directly (with gateway-signed identity headers)."""
    running = _start_stack(settings, infra_dir / "auth-only", {"auth"})
    yield running
    running.stop()
