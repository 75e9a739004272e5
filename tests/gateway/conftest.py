from __future__ import annotations

import httpx
import pytest


@pytest.fixture
async def gateway(stack):
    async with httpx.AsyncClient(base_url=stack.url("gateway"), timeout=15.0) as http:
        yield http
