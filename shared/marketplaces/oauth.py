"""The OAuth 2.0 authorization-code client every OAuth marketplace shares: PKCE, the consent URL, and
one token request whose answer is classified the same way everywhere.

`PkceGrant` is the flow itself (consent URL, code exchange, refresh); a marketplace subclasses it and
names its app (`OAuthApp`: endpoints, client id, scopes, and whether the client authenticates with HTTP
Basic or is public). Its methods are classmethods taking the settings, so `etsy.oauth.refresh(settings,
token)` and the auth service's connectors call the same code.

A token request is never retried here: authorization codes are single-use and refresh tokens rotate, so
only the caller (auth, holding the connection's lock) may decide to try again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

import httpx
from authlib.common.security import generate_token
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from shared.marketplaces.base import AuthorizationLost, RejectedByMarketplace, TransientMarketplaceError
from shared.marketplaces.http import RateLimited, error_reason, json_body, retry_after_seconds

if TYPE_CHECKING:
    from shared.settings import Settings

PKCE_VERIFIER_LENGTH = 64  # RFC 7636 allows 43 to 128 characters


@dataclass(frozen=True)
class TokenSet:
    """A fresh grant: store both tokens every time (refresh tokens rotate). Tokens stay out of the repr.

    `previous_refresh_valid_until` (refreshes on marketplaces that allow it) is how long the refresh token
    just used still works: the window in which a lost `TokenSet` can be fetched again.
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


def consent_url(authorize_url: str, params: dict[str, str]) -> str:
    """`authorize_url` with `params` added; %20 between scopes, not '+', which not every parser reads as a space."""
    parts = urlsplit(authorize_url)
    query = "&".join(q for q in (parts.query, urlencode(params, quote_via=quote)) if q)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


@dataclass(frozen=True)
class OAuthApp:
    """Our app at one marketplace, as its OAuth endpoints need it."""

    authorize_url: str
    token_url: str
    client_id: str
    scope: str
    client_secret: str | None = field(default=None, repr=False)
    """Sent with `client_id` as HTTP Basic at the token endpoint; None: a public client (`client_id` in the form)."""
    consent_extras: Mapping[str, str] = field(default_factory=dict)
    """Further consent-page parameters (e.g. Allegro's `prompt=confirm`)."""


class PkceGrant:
    """The authorization-code grant with PKCE S256 for one marketplace: the subclass names it (`name`) and
    its app (`app`); nothing here retries (codes are single-use and refresh tokens rotate)."""

    name: ClassVar[str]

    @classmethod
    def app(cls, settings: Settings) -> OAuthApp:
        raise NotImplementedError

    @classmethod
    def authorization_url(cls, settings: Settings, *, state: str, code_challenge: str, redirect_uri: str) -> str:
        """Where to send the merchant to approve our app (the marketplace's consent page)."""
        app = cls.app(settings)
        return consent_url(app.authorize_url, {
            "response_type": "code",
            "client_id": app.client_id,
            "redirect_uri": redirect_uri,
            "scope": app.scope,
            "state": state,
            "code_challenge": code_challenge,
            "code_challenge_method": "S256",
            **app.consent_extras,
        })

    @classmethod
    async def exchange_code(cls, settings: Settings, *, code: str, code_verifier: str, redirect_uri: str,
                            http: httpx.AsyncClient | None = None) -> TokenSet:
        """Redeem the callback's `code` (with the PKCE verifier and the same redirect_uri) for tokens."""
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
                "code_verifier": code_verifier}
        return await cls._token_request(settings, form, http)

    @classmethod
    async def refresh(cls, settings: Settings, refresh_token: str, *, http: httpx.AsyncClient | None = None) -> TokenSet:
        """Trade a refresh token for a new pair; `AuthorizationLost` when the grant is gone."""
        return await cls._token_request(settings, {"grant_type": "refresh_token", "refresh_token": refresh_token}, http)

    @classmethod
    async def _token_request(cls, settings: Settings, form: dict[str, str], http: httpx.AsyncClient | None) -> TokenSet:
        app = cls.app(settings)
        if app.client_secret is None:  # a public client: client_id in the form, no client authentication
            form, auth = {**form, "client_id": app.client_id}, None
        else:
            auth = httpx.BasicAuth(app.client_id, app.client_secret)
        return await token_request(cls.name, app.token_url, form, timeout_s=settings.marketplace_timeout_s,
                                   auth=auth, http=http)


async def token_request(marketplace: str, token_url: str, form: dict[str, str], *, timeout_s: float,
                        auth: httpx.Auth | None = None, http: httpx.AsyncClient | None = None) -> TokenSet:
    """POST one grant to the token endpoint and classify the answer.

    `AuthorizationLost` for `invalid_grant`, `RateLimited` for 429, `TransientMarketplaceError` for 5xx,
    transport errors and malformed answers, `RejectedByMarketplace` for any other refusal.
    """
    # Expiry is counted from before the request, so we never believe a token lives longer than it does.
    requested_at = datetime.now(UTC)
    grant = form["grant_type"]
    headers = {"accept": "application/json"}
    try:
        if http is None:
            async with httpx.AsyncClient(timeout=timeout_s) as client:
                response = await client.post(token_url, data=form, auth=auth, headers=headers)
        else:
            response = await http.post(token_url, data=form, auth=auth, headers=headers)
    except httpx.TransportError as exc:
        raise TransientMarketplaceError(f"{marketplace} token request ({grant}) failed: {type(exc).__name__}") from exc
    return _token_set(marketplace, response, grant, requested_at)


def _token_set(marketplace: str, response: httpx.Response, grant: str, requested_at: datetime) -> TokenSet:
    status = response.status_code
    if status == 200:
        body = _json_object(marketplace, response)
        try:
            scope = body.get("scope")
            return TokenSet(
                access_token=_non_empty(body, "access_token"),
                refresh_token=_non_empty(body, "refresh_token"),
                expires_at=requested_at + timedelta(seconds=int(body["expires_in"])),
                scope=scope if isinstance(scope, str) else None,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise TransientMarketplaceError(f"{marketplace} token response ({grant}) is malformed: {exc}") from exc
    reason = error_reason(response)
    if status == 400 and _oauth_error(response) == "invalid_grant":
        raise AuthorizationLost(f"{marketplace} refused the grant ({grant}): {reason}")
    if status == 429:
        raise RateLimited(f"{marketplace} token endpoint rate limited ({grant})", retry_after_seconds(response))
    if status >= 500:
        raise TransientMarketplaceError(f"{marketplace} token endpoint answered HTTP {status} ({grant}): {reason}")
    # e.g. wrong client credentials: our configuration, not the merchant's grant.
    raise RejectedByMarketplace(reason, status)


def _json_object(marketplace: str, response: httpx.Response) -> dict[str, Any]:
    body = json_body(response)
    if not isinstance(body, dict):
        raise TransientMarketplaceError(f"{marketplace} token response is not a JSON object")
    return body


def _non_empty(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} is missing")
    return value


def _oauth_error(response: httpx.Response) -> str | None:
    body = json_body(response)
    return body.get("error") if isinstance(body, dict) else None
