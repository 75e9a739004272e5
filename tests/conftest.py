"""Session-wide real infrastructure: one embedded PostgreSQL and one Tansu broker for the whole run."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

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


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 30.0, interval: float = 0.1) -> None:
    """Poll an async condition until it holds; fail with a clear message otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        if await check():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"condition {getattr(check, '__name__', check)} not met within {timeout}s")
        await asyncio.sleep(interval)
