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

import json
from dataclasses import dataclass, field, replace
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
# The least the integration needs (allegro.md §1): orders in and out, offers and stock, shipping rates, /me.
SCOPES = (
    "allegro:api:orders:read allegro:api:orders:write allegro:api:sale:offers:read "
    "allegro:api:sale:offers:write allegro:api:sale:settings:read allegro:api:profile:read"
)
# Allegro keeps a used refresh token alive ~60 s; we promise less, so nobody relies on the last seconds.
REFRESH_GRACE = timedelta(seconds=50)


@dataclass(frozen=True)
class TokenSet:
    """A fresh grant: store both tokens every time, Allegro rotates them.

    `previous_refresh_valid_until` (refreshes only) is how long the refresh token just used still
    works, the window in which a lost `TokenSet` can be fetched again. Tokens are left out of the repr.
    """

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_at: datetime
    scope: str | None = None
    previous_refresh_valid_until: datetime | None = None


def new_pkce_pair() -> tuple[str, str]:
    """(code_verifier, S256 code_challenge); keep the verifier server-side until the callback."""
    verifier = generate_token(PKCE_VERIFIER_LENGTH)
    return verifier, create_s256_code_challenge(verifier)


def authorization_url(settings: Settings, *, state: str, code_challenge: str, redirect_uri: str) -> str:
    """Where to send the merchant to approve our app (allegro.pl's consent page)."""
    params = {
        "response_type": "code",
        "client_id": settings.allegro_client_id,
        "redirect_uri": redirect_uri,
        "scope": SCOPES,
        "state": state,
        "code_challenge": code_challenge,
        "code_challenge_method": "S256",
        "prompt": "confirm",  # show the consent page even to a seller already logged in elsewhere
    }
    parts = urlsplit(settings.allegro_authorize_url)
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
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri, "code_verifier": code_verifier}
    return await _token_request(settings, form, http)


async def refresh(settings: Settings, refresh_token: str, *, http: httpx.AsyncClient | None = None) -> TokenSet:
    """Trade a refresh token for a new pair; `AuthorizationLost` when the grant is gone."""
    return await _token_request(settings, {"grant_type": "refresh_token", "refresh_token": refresh_token}, http)


async def _token_request(settings: Settings, form: dict[str, str], http: httpx.AsyncClient | None) -> TokenSet:
    # Expiry is counted from before the request, so we never believe a token lives longer than it does.
    requested_at = datetime.now(UTC)
    grant = form["grant_type"]
    auth = httpx.BasicAuth(settings.allegro_client_id, settings.allegro_client_secret.get_secret_value())
    headers = {"accept": "application/json"}
    try:
        if http is None:
            async with httpx.AsyncClient(timeout=settings.marketplace_timeout_s) as client:
                response = await client.post(settings.allegro_token_url, data=form, auth=auth, headers=headers)
        else:
            response = await http.post(settings.allegro_token_url, data=form, auth=auth, headers=headers)
    except httpx.TransportError as exc:
        raise TransientMarketplaceError(f"Allegro token request ({grant}) failed: {type(exc).__name__}") from exc
    tokens = _token_set(response, grant, requested_at)
    if grant == "refresh_token":
        return replace(tokens, previous_refresh_valid_until=requested_at + REFRESH_GRACE)
    return tokens


def _token_set(response: httpx.Response, grant: str, requested_at: datetime) -> TokenSet:
    status = response.status_code
    if status == 200:
        body = _json_object(response)
        try:
            scope = body.get("scope")
            return TokenSet(
                access_token=_non_empty(body, "access_token"),
                refresh_token=_non_empty(body, "refresh_token"),
                expires_at=requested_at + timedelta(seconds=int(body["expires_in"])),
                scope=scope if isinstance(scope, str) else None,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise TransientMarketplaceError(f"Allegro token response ({grant}) is malformed: {exc}") from exc
    reason = error_reason(response)
    if status == 400 and _oauth_error(response) == "invalid_grant":
        raise AuthorizationLost(f"Allegro refused the grant ({grant}): {reason}")
    if status == 429:
        # Allegro limits token issuance per user; the caller decides when to come back.
        raise RateLimited(f"Allegro token endpoint rate limited ({grant})", retry_after_seconds(response))
    if status >= 500:
        raise TransientMarketplaceError(f"Allegro token endpoint answered HTTP {status} ({grant}): {reason}")
    # Wrong client credentials come back as 400 invalid_request "Unauthorized": our config, not the seller's grant.
    raise RejectedByMarketplace(reason, status)


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        body = None
    if not isinstance(body, dict):
        raise TransientMarketplaceError("Allegro token response is not a JSON object")
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
