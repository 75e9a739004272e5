"""Marketplace name → connector: how auth authorizes, refreshes and identifies a shop on each platform.

The connection use cases speak only to `OAuthConnector`; an OAuth marketplace slots in with a `PkceConnector`
subclass naming its grant and client, and one row in `OAUTH_CONNECTORS`.
Marketplaces connected with API credentials instead of OAuth (BigCommerce) use `CredentialConnector`.
Errors are the shared marketplace errors: `AuthorizationLost` for a dead grant, `TransientMarketplaceError`
for a passing outage, `RejectedByMarketplace` for the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import aclosing
from datetime import datetime
from typing import ClassVar, Protocol

from services.auth.errors import InvalidField
from shared.marketplaces.allegro.client import AllegroClient
from shared.marketplaces.allegro.oauth import AllegroGrant
from shared.marketplaces.base import AuthorizationLost, OrderSource, ShopInfo, TokenProvider
from shared.marketplaces.bigcommerce.client import BigCommerceClient
from shared.marketplaces.bigcommerce.credentials import CredentialCheck, check_credentials, parse_store_hash
from shared.marketplaces.bigcommerce.webhooks import webhook_destination
from shared.marketplaces.etsy.client import EtsyClient
from shared.marketplaces.etsy.oauth import EtsyGrant
from shared.marketplaces.oauth import PkceGrant, new_pkce_pair
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


class PkceConnector:
    """The OAuth connector every authorization-code marketplace shares: the grant (`PkceGrant` subclass) does
    the OAuth, the marketplace client (`identify_shop`) finds the shop the new token belongs to."""

    marketplace: ClassVar[str]
    grant: ClassVar[type[PkceGrant]]
    client: ClassVar[Callable[[Settings, TokenProvider], OrderSource]]

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def new_pkce_pair(self) -> tuple[str, str]:
        return new_pkce_pair()

    def authorization_url(self, *, state: str, code_challenge: str, redirect_uri: str) -> str:
        return self.grant.authorization_url(self._settings, state=state, code_challenge=code_challenge,
                                            redirect_uri=redirect_uri)

    async def exchange_code(self, *, code: str, code_verifier: str, redirect_uri: str) -> Grant:
        return await self.grant.exchange_code(self._settings, code=code, code_verifier=code_verifier,
                                              redirect_uri=redirect_uri)

    async def refresh(self, refresh_token: str) -> Grant:
        return await self.grant.refresh(self._settings, refresh_token)

    async def identify_shop(self, access_token: str) -> ShopInfo:
        async with aclosing(self.client(self._settings, _just_issued(access_token, self.grant.name))) as client:
            return await client.identify_shop()


class EtsyConnector(PkceConnector):
    """Etsy: authorization code + PKCE S256, public client at the token endpoint, rotating refresh tokens."""

    marketplace = "etsy"
    grant = EtsyGrant
    client = EtsyClient


class AllegroConnector(PkceConnector):
    """Allegro: the same grant with HTTP Basic at the token endpoint; each refresh returns a new pair and the
    previous refresh token keeps working for about a minute (which covers a crash between receiving and
    storing a pair: the next attempt refreshes again with the old one)."""

    marketplace = "allegro"
    grant = AllegroGrant
    client = AllegroClient


OAUTH_CONNECTORS: dict[str, Callable[[Settings], OAuthConnector]] = {
    "etsy": EtsyConnector,
    "allegro": AllegroConnector,
}


def _just_issued(access_token: str, marketplace: str):
    async def fresh_token(force_refresh: bool = False) -> str:
        # The token was issued a moment ago: a 401 with it means the grant is already gone.
        if force_refresh:
            raise AuthorizationLost(f"{marketplace} refused the access token it had just issued")
        return access_token

    return fresh_token


class CredentialConnector(Protocol):
    """Marketplaces connected with API credentials the merchant pastes (no OAuth dance)."""

    marketplace: str

    async def check(self, credentials: dict) -> CredentialCheck:
        """Live check; ValueError naming the credentials field that is malformed, AuthorizationLost when
        the marketplace refuses them."""

    async def revoke(self, connection_id: object, shop_id: str, access_token: str) -> None:
        """Undo what we set up at the marketplace, while we still hold the credentials (on disconnect)."""


class BigCommerceConnector:
    """BigCommerce store-level API account: the store hash comes from the API path; the token never expires."""

    marketplace = "bigcommerce"

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    async def check(self, credentials: dict) -> CredentialCheck:
        parse_store_hash(credentials["api_path"])  # ValueError naming credentials.api_path
        return await check_credentials(self._settings, credentials["api_path"], credentials["client_id"],
                                       credentials["access_token"])

    async def revoke(self, connection_id: object, shop_id: str, access_token: str) -> None:
        """BigCommerce has no token revocation for store-level accounts: remove our order webhooks."""
        destination = webhook_destination(self._settings.public_base_url, self._settings.bigcommerce_webhook_path,
                                          connection_id)
        async with BigCommerceClient(self._settings, _just_issued(access_token, "BigCommerce"), shop_id=shop_id) as client:
            await client.remove_order_webhooks(destination)


CREDENTIAL_CONNECTORS: dict[str, Callable[[Settings], CredentialConnector]] = {
    "bigcommerce": BigCommerceConnector,
}


def oauth_connector(marketplace: str, settings: Settings) -> OAuthConnector:
    """The connector for `marketplace`; InvalidField naming `marketplace` when it cannot be connected (yet)."""
    factory = OAUTH_CONNECTORS.get(marketplace)
    if factory is None:
        supported = ", ".join(sorted(OAUTH_CONNECTORS))
        raise InvalidField("marketplace", f"{marketplace!r} cannot be connected through OAuth; OAuth ones: {supported}")
    return factory(settings)


def credential_connector(marketplace: str, settings: Settings) -> CredentialConnector | None:
    """The API-credential connector for `marketplace`, or None when it connects through OAuth."""
    factory = CREDENTIAL_CONNECTORS.get(marketplace)
    return factory(settings) if factory is not None else None
