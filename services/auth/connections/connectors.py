"""Marketplace name → connector: how auth authorizes, refreshes and identifies a shop on each platform.

The connection use cases speak only to `OAuthConnector`; a marketplace slots in by adding one class and
one row to `OAUTH_CONNECTORS` (Allegro: the same grant with HTTP Basic at its token endpoint).
Marketplaces connected with API credentials instead of OAuth (BigCommerce) get their own seam when
they arrive. Errors are the shared marketplace errors: `AuthorizationLost` for a dead grant,
`TransientMarketplaceError` for a passing outage, `RejectedByMarketplace` for the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from services.auth.errors import InvalidField
from shared.marketplaces.base import AuthorizationLost, ShopInfo
from shared.marketplaces.etsy import oauth as etsy_oauth
from shared.marketplaces.etsy.client import EtsyClient
from shared.settings import Settings


class Grant(Protocol):
    """What a token endpoint hands back (e.g. Etsy's `TokenSet`)."""

    access_token: str
    refresh_token: str
    expires_at: datetime


class OAuthConnector(Protocol):
    marketplace: str

    def new_pkce_pair(self) -> tuple[str, str]:
        """(code_verifier, code_challenge)."""

    def authorization_url(self, *, state: str, code_challenge: str, redirect_uri: str) -> str: ...

    async def exchange_code(self, *, code: str, code_verifier: str, redirect_uri: str) -> Grant: ...

    async def refresh(self, refresh_token: str) -> Grant:
        """A new grant; the refresh token may rotate, so the caller stores both tokens every time."""

    async def identify_shop(self, access_token: str) -> ShopInfo: ...


class EtsyConnector:
    """Etsy: authorization code + PKCE S256, public client at the token endpoint, rotating refresh tokens."""

    marketplace = "etsy"

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def new_pkce_pair(self) -> tuple[str, str]:
        return etsy_oauth.new_pkce_pair()

    def authorization_url(self, *, state: str, code_challenge: str, redirect_uri: str) -> str:
        return etsy_oauth.authorization_url(self._settings, state=state, code_challenge=code_challenge,
                                            redirect_uri=redirect_uri)

    async def exchange_code(self, *, code: str, code_verifier: str, redirect_uri: str) -> Grant:
        return await etsy_oauth.exchange_code(self._settings, code=code, code_verifier=code_verifier,
                                              redirect_uri=redirect_uri)

    async def refresh(self, refresh_token: str) -> Grant:
        return await etsy_oauth.refresh(self._settings, refresh_token)

    async def identify_shop(self, access_token: str) -> ShopInfo:
        async def fresh_token(force_refresh: bool = False) -> str:
            # The token was issued a moment ago: a 401 with it means the grant is already gone.
            if force_refresh:
                raise AuthorizationLost("Etsy refused the access token it had just issued")
            return access_token

        async with EtsyClient(self._settings, fresh_token) as client:
            return await client.identify_shop()


OAUTH_CONNECTORS: dict[str, Callable[[Settings], OAuthConnector]] = {
    "etsy": EtsyConnector,
}


def oauth_connector(marketplace: str, settings: Settings) -> OAuthConnector:
    """The connector for `marketplace`; InvalidField naming `marketplace` when it cannot be connected (yet)."""
    factory = OAUTH_CONNECTORS.get(marketplace)
    if factory is None:
        supported = ", ".join(sorted(OAUTH_CONNECTORS))
        raise InvalidField("marketplace", f"{marketplace!r} cannot be connected yet; supported: {supported}")
    return factory(settings)
