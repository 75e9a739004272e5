"""Allegro's OAuth 2.0 authorization-code grant with PKCE: the helpers the auth service's connect flow uses.

Same API as `etsy.oauth`, different client authentication: Allegro's token endpoint takes our app's
`client_id:client_secret` as HTTP Basic only. Parameters go in a form body (RFC 6749); Allegro's docs
put them in the query string and it accepts both, but a query string puts refresh tokens into every
proxy's access log.

Rotation: each refresh answers a new pair. The old access token dies at once; the old refresh token
keeps working for about a minute after its first use, so an auth service that crashed between getting
the pair and storing it can refresh again with what it has. `TokenSet.previous_refresh_valid_until`
says until when (our conservative reading of that minute).

Nothing here retries: a code is single-use and a refresh rotates, so a request that reached Allegro
and lost its answer has already spent what it sent; whether to try again is the caller's decision.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import httpx

from shared.marketplaces.oauth import OAuthApp, PkceGrant, TokenSet, new_pkce_pair
from shared.settings import Settings

__all__ = ["REFRESH_GRACE", "SCOPES", "AllegroGrant", "TokenSet", "authorization_url", "exchange_code",
           "new_pkce_pair", "refresh"]

# The least the integration needs (allegro.md §1): orders in and out, offers and stock, shipping rates, /me.
SCOPES = (
    "allegro:api:orders:read allegro:api:orders:write allegro:api:sale:offers:read "
    "allegro:api:sale:offers:write allegro:api:sale:settings:read allegro:api:profile:read"
)
# Allegro keeps a used refresh token alive ~60 s; we promise less, so nobody relies on the last seconds.
REFRESH_GRACE = timedelta(seconds=50)


class AllegroGrant(PkceGrant):
    """Allegro's consent page and token endpoint: HTTP Basic client authentication, rotating refresh tokens."""

    name = "Allegro"

    @classmethod
    def app(cls, settings: Settings) -> OAuthApp:
        return OAuthApp(
            authorize_url=settings.allegro_authorize_url, token_url=settings.allegro_token_url,
            client_id=settings.allegro_client_id, scope=SCOPES,
            client_secret=settings.allegro_client_secret.get_secret_value(),
            # show the consent page even to a seller already logged in elsewhere
            consent_extras={"prompt": "confirm"},
        )

    @classmethod
    async def refresh(cls, settings: Settings, refresh_token: str, *, http: httpx.AsyncClient | None = None) -> TokenSet:
        """A new pair, and until when the refresh token just used still works (`REFRESH_GRACE`)."""
        requested_at = datetime.now(UTC)
        tokens = await super().refresh(settings, refresh_token, http=http)
        return replace(tokens, previous_refresh_valid_until=requested_at + REFRESH_GRACE)


authorization_url = AllegroGrant.authorization_url
exchange_code = AllegroGrant.exchange_code
refresh = AllegroGrant.refresh
