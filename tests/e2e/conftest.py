from __future__ import annotations

import httpx
import pytest

from tests.e2e.world import EtsySandbox


@pytest.fixture
async def gateway(stack):
    async with httpx.AsyncClient(base_url=stack.url("gateway"), timeout=30.0) as http:
        yield http


@pytest.fixture
async def etsy(stack):
    async with httpx.AsyncClient(base_url=stack.url("etsy-sandbox"), timeout=30.0) as http:
        yield EtsySandbox(http)
