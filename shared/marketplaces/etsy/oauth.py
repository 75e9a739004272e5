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

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

import httpx
from authlib.common.security import generate_token
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from shared.marketplaces.base import AuthorizationLost, RejectedByMarketplace, TransientMarketplaceError
from shared.marketplaces.http import RateLimited, error_reason, retry_after_seconds
from shared.settings import Settings

PKCE_VERIFIER_LENGTH = 64  # RFC 7636 allows 43-128 characters


@dataclass(frozen=True)
class TokenSet:
    """A fresh grant. Etsy rotates refresh tokens: store `refresh_token` every time, the old one is dead.

    Tokens are left out of the repr so a logged TokenSet leaks nothing.
    """

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_at: datetime


def new_pkce_pair() -> tuple[str, str]:
    """(code_verifier, S256 code_challenge); keep the verifier server-side until the callback."""
    verifier = generate_token(PKCE_VERIFIER_LENGTH)
    return verifier, create_s256_code_challenge(verifier)


def authorization_url(settings: Settings, *, state: str, code_challenge: str, redirect_uri: str) -> str:
    """Where to send the merchant to approve our app (Etsy's consent page)."""
    params = {
        "response_type": "code",
        "client_id": settings.etsy_client_id,
        "redirect_uri": redirect_uri,
        "scope": settings.etsy_scopes,
        "state": state,
        "code_challenge": code_challenge,
        "code_challenge_method": "S256",
    }
    parts = urlsplit(settings.etsy_authorize_url)
    # %20 between scopes, not '+': the form-encoding shortcut is not a space in every URL parser.
    query = "&".join(q for q in (parts.query, urlencode(params, quote_via=quote)) if q)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


async def exchange_code(
    settings: Settings,
    *,
    code: str,
    code_verifier: str,
    redirect_uri: str,
    http: httpx.AsyncClient | None = None,
) -> TokenSet:
    """Redeem the callback's `code` (with the PKCE verifier and the same redirect_uri) for tokens."""
    form = {
        "grant_type": "authorization_code",
        "client_id": settings.etsy_client_id,
        "redirect_uri": redirect_uri,
        "code": code,
        "code_verifier": code_verifier,
    }
    return await _token_request(settings, form, http)


async def refresh(settings: Settings, refresh_token: str, *, http: httpx.AsyncClient | None = None) -> TokenSet:
    """Trade a refresh token for a new pair; `AuthorizationLost` when the grant is gone."""
    form = {"grant_type": "refresh_token", "client_id": settings.etsy_client_id, "refresh_token": refresh_token}
    return await _token_request(settings, form, http)


async def _token_request(settings: Settings, form: dict[str, str], http: httpx.AsyncClient | None) -> TokenSet:
    # Expiry is counted from before the request, so we never believe a token lives longer than it does.
    requested_at = datetime.now(UTC)
    grant = form["grant_type"]
    try:
        if http is None:
            async with httpx.AsyncClient(timeout=settings.marketplace_timeout_s) as client:
                response = await client.post(settings.etsy_token_url, data=form)
        else:
            response = await http.post(settings.etsy_token_url, data=form)
    except httpx.TransportError as exc:
        raise TransientMarketplaceError(f"Etsy token request ({grant}) failed: {type(exc).__name__}") from exc
    return _token_set(response, grant, requested_at)


def _token_set(response: httpx.Response, grant: str, requested_at: datetime) -> TokenSet:
    status = response.status_code
    if status == 200:
        body = _json_object(response)
        try:
            return TokenSet(
                access_token=_non_empty(body, "access_token"),
                refresh_token=_non_empty(body, "refresh_token"),
                expires_at=requested_at + timedelta(seconds=int(body["expires_in"])),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise TransientMarketplaceError(f"Etsy token response ({grant}) is malformed: {exc}") from exc
    reason = error_reason(response)
    if status == 400 and _oauth_error(response) == "invalid_grant":
        raise AuthorizationLost(f"Etsy refused the grant ({grant}): {reason}")
    if status == 429:
        raise RateLimited(f"Etsy token endpoint rate limited ({grant})", retry_after_seconds(response))
    if status >= 500:
        raise TransientMarketplaceError(f"Etsy token endpoint answered HTTP {status} ({grant}): {reason}")
    raise RejectedByMarketplace(reason, status)


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        body = None
    if not isinstance(body, dict):
        raise TransientMarketplaceError("Etsy token response is not a JSON object")
    return body


def _non_empty(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} is missing")
    return value


def _oauth_error(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    return body.get("error") if isinstance(body, dict) else None
