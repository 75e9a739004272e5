"""Access tokens for a connection, always obtained from the auth service (which alone stores and refreshes them)."""

from __future__ import annotations

import uuid

import httpx

from shared.marketplaces.base import AuthorizationLost, TransientMarketplaceError
from shared.marketplaces.http import RateLimited, retry_after_seconds
from shared.web.internal import InternalClient


def access_token_provider(auth: InternalClient, connection_id: uuid.UUID):
    """A `TokenProvider` for one connection: `await provider(force_refresh)` → a valid access token."""

    async def provide(force_refresh: bool = False) -> str:
        try:
            response = await auth.request("POST", f"/internal/connections/{connection_id}/access-token",
                                          json={"force_refresh": force_refresh})
        except httpx.HTTPError as exc:
            raise TransientMarketplaceError(f"auth service unreachable: {exc!r}") from exc
        if response.status_code == 200:
            return response.json()["access_token"]
        detail = response.json().get("detail", response.text) if response.content else str(response.status_code)
        if response.status_code in (404, 409):
            raise AuthorizationLost(detail)
        if response.status_code == 503 and (wait := retry_after_seconds(response)) is not None:
            raise RateLimited(f"auth could not provide a token: {detail}", wait)  # its marketplace said when
        raise TransientMarketplaceError(f"auth could not provide a token: {detail}")

    return provide
