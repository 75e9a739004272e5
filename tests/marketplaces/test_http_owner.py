"""`HttpOwner` holds the one 401 rule every client (and the listing and stock clients to come) inherits:
refresh once, try once more, then `AuthorizationLost`. Exercised with a minimal client against the Etsy
emulator over real HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from shared.marketplaces.base import AuthorizationLost
from shared.marketplaces.etsy.client import etsy_http
from shared.marketplaces.http import HttpOwner, MarketplaceHttp, json_object
from shared.settings import Settings
from tests.marketplaces.conftest import SandboxTokens, SandboxWorld


class MinimalClient(HttpOwner):
    """Only what a new client must write: its pool, its auth headers, how a lost grant reads."""

    _refused_token = "Minimal refused a freshly refreshed token"

    def _new_http(self, settings: Settings, shop_id: str | None) -> MarketplaceHttp:
        return etsy_http(settings)

    def _auth_headers(self, token: str, *, with_body: bool) -> dict[str, str]:
        secret = self._settings.etsy_client_secret.get_secret_value()
        return {"x-api-key": f"{self._settings.etsy_client_id}:{secret}", "authorization": f"Bearer {token}"}

    async def me(self) -> dict[str, Any]:
        path = "/v3/application/users/me"
        return json_object(await self._authorized("GET", path), "GET", path)


async def test_a_401_forces_one_refresh_and_the_call_is_repeated(
    etsy_settings: Settings, world: SandboxWorld, shop: dict[str, Any], tokens: SandboxTokens
) -> None:
    calls: list[bool] = []

    async def stale_then_refreshed(force_refresh: bool) -> str:
        calls.append(force_refresh)
        return await tokens(True) if force_refresh else f"{shop['user_id']}.expired"

    world.clear_requests()
    async with MinimalClient(etsy_settings, stale_then_refreshed) as client:
        assert (await client.me())["shop_id"] == shop["shop_id"]
    assert calls == [False, True]
    assert len(world.requests_log("/v3/application/users/me")) == 2


async def test_a_second_401_is_authorization_lost_in_the_clients_words(
    etsy_settings: Settings, world: SandboxWorld, shop: dict[str, Any]
) -> None:
    calls: list[bool] = []

    async def dead(force_refresh: bool) -> str:
        calls.append(force_refresh)
        return f"{shop['user_id']}.revoked"

    async with MinimalClient(etsy_settings, dead) as client:
        with pytest.raises(AuthorizationLost, match=r"^Minimal refused a freshly refreshed token: "):
            await client.me()
    assert calls == [False, True]


async def test_closing_a_client_releases_only_a_pool_it_owns(
    etsy_settings: Settings, world: SandboxWorld, shop: dict[str, Any], tokens: SandboxTokens
) -> None:
    async with etsy_http(etsy_settings) as shared:
        async with MinimalClient(etsy_settings, tokens, http=shared) as borrowing:
            await borrowing.me()
        async with MinimalClient(etsy_settings, tokens, http=shared) as again:
            assert (await again.me())["shop_id"] == shop["shop_id"]  # the shared pool still works
