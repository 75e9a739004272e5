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

from shared.marketplaces.oauth import TokenSet, consent_url, new_pkce_pair, token_request
from shared.settings import Settings

__all__ = ["REFRESH_GRACE", "SCOPES", "TokenSet", "authorization_url", "exchange_code", "new_pkce_pair", "refresh"]

# The least the integration needs (allegro.md §1): orders in and out, offers and stock, shipping rates, /me.
SCOPES = (
    "allegro:api:orders:read allegro:api:orders:write allegro:api:sale:offers:read "
    "allegro:api:sale:offers:write allegro:api:sale:settings:read allegro:api:profile:read"
)
# Allegro keeps a used refresh token alive ~60 s; we promise less, so nobody relies on the last seconds.
REFRESH_GRACE = timedelta(seconds=50)


def authorization_url(settings: Settings, *, state: str, code_challenge: str, redirect_uri: str) -> str:
    """Where to send the merchant to approve our app (allegro.pl's consent page)."""
    return consent_url(settings.allegro_authorize_url, {
        "response_type": "code",
        "client_id": settings.allegro_client_id,
        "redirect_uri": redirect_uri,
        "scope": SCOPES,
        "state": state,
        "code_challenge": code_challenge,
        "code_challenge_method": "S256",
        "prompt": "confirm",  # show the consent page even to a seller already logged in elsewhere
    })


async def exchange_code(settings: Settings, *, code: str, code_verifier: str, redirect_uri: str,
                        http: httpx.AsyncClient | None = None) -> TokenSet:
    """Redeem the callback's `code` (with the PKCE verifier and the same redirect_uri) for tokens."""
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri, "code_verifier": code_verifier}
    return await _token_request(settings, form, http)


async def refresh(settings: Settings, refresh_token: str, *, http: httpx.AsyncClient | None = None) -> TokenSet:
    """Trade a refresh token for a new pair; `AuthorizationLost` when the grant is gone."""
    requested_at = datetime.now(UTC)
    tokens = await _token_request(settings, {"grant_type": "refresh_token", "refresh_token": refresh_token}, http)
    return replace(tokens, previous_refresh_valid_until=requested_at + REFRESH_GRACE)


async def _token_request(settings: Settings, form: dict[str, str], http: httpx.AsyncClient | None) -> TokenSet:
    auth = httpx.BasicAuth(settings.allegro_client_id, settings.allegro_client_secret.get_secret_value())
    return await token_request("Allegro", settings.allegro_token_url, form, timeout_s=settings.marketplace_timeout_s,
                               auth=auth, http=http)
