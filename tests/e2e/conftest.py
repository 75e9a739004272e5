from __future__ import annotations

import httpx
import pytest

from tests.e2e.world import AllegroSandbox, BigCommerceSandbox, EtsySandbox


@pytest.fixture
async def gateway(stack):
    async with httpx.AsyncClient(base_url=stack.url("gateway"), timeout=30.0) as http:
        yield http


@pytest.fixture
async def etsy(stack):
    async with httpx.AsyncClient(base_url=stack.url("etsy-sandbox"), timeout=30.0) as http:
        yield EtsySandbox(http)


@pytest.fixture
async def bigcommerce(stack):
    async with httpx.AsyncClient(base_url=stack.url("bigcommerce-sandbox"), timeout=30.0) as http:
        sandbox = BigCommerceSandbox(http)
        # Deliveries go to the gateway on plain http here; production destinations are https.
        await sandbox.control("PUT", "/settings", json={"webhook_require_https": False, "webhook_retry_delays_s": [0.2, 0.5]})
        yield sandbox


@pytest.fixture
async def allegro(stack):
    async with httpx.AsyncClient(base_url=stack.url("allegro-sandbox"), timeout=30.0) as http:
        yield AllegroSandbox(http)
