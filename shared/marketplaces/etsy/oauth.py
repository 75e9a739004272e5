"""Etsy's OAuth 2.0 authorization-code grant with PKCE: the helpers the auth service's connect flow uses.

authlib supplies the PKCE primitives (verifier + S256 challenge). The token calls are plain httpx form
posts rather than authlib's `AsyncOAuth2Client`: Etsy wants a public-client body (`client_id` in the
form, no client authentication), and we need the exact status and `error` of each failure to tell a
dead grant (`invalid_grant` → `AuthorizationLost`) from a passing outage (`TransientMarketplaceError`);
the OAuth client folds those into one `OAuthError` and adds its own token-refresh machinery that would
compete with auth's single-flight refresh.

Nothing here retries. An authorization code is single-use and Etsy rotates the refresh token on every
refresh, so a request that reached Etsy and lost its answer has already spent what it sent; whether
to try again is the caller's decision.
"""

from __future__ import annotations

import httpx

from shared.marketplaces.oauth import TokenSet, consent_url, new_pkce_pair, token_request
from shared.settings import Settings

__all__ = ["TokenSet", "authorization_url", "exchange_code", "new_pkce_pair", "refresh"]


def authorization_url(settings: Settings, *, state: str, code_challenge: str, redirect_uri: str) -> str:
    """Where to send the merchant to approve our app (etsy.com's consent page)."""
    return consent_url(settings.etsy_authorize_url, {
        "response_type": "code",
        "client_id": settings.etsy_client_id,
        "redirect_uri": redirect_uri,
        "scope": settings.etsy_scopes,
        "state": state,
        "code_challenge": code_challenge,
        "code_challenge_method": "S256",
    })


async def exchange_code(settings: Settings, *, code: str, code_verifier: str, redirect_uri: str,
                        http: httpx.AsyncClient | None = None) -> TokenSet:
    """Redeem the callback's `code` (with the PKCE verifier and the same redirect_uri) for tokens."""
    form = {"grant_type": "authorization_code", "client_id": settings.etsy_client_id, "redirect_uri": redirect_uri,
            "code": code, "code_verifier": code_verifier}
    return await _token_request(settings, form, http)


async def refresh(settings: Settings, refresh_token: str, *, http: httpx.AsyncClient | None = None) -> TokenSet:
    """Trade a refresh token for a new pair; `AuthorizationLost` when the grant is gone."""
    form = {"grant_type": "refresh_token", "client_id": settings.etsy_client_id, "refresh_token": refresh_token}
    return await _token_request(settings, form, http)


async def _token_request(settings: Settings, form: dict[str, str], http: httpx.AsyncClient | None) -> TokenSet:
    # A public client at the token endpoint: client_id in the form, no client authentication.
    return await token_request("Etsy", settings.etsy_token_url, form, timeout_s=settings.marketplace_timeout_s, http=http)
