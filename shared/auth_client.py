"""The one way a service reaches auth: typed connections, access tokens and signing secrets.

Auth alone stores and refreshes marketplace tokens and answers each access token with its expiry, so a
process keeps a token per connection and asks again only shortly before it expires, or when the
marketplace refused it (a forced refresh replaces the kept token). A sync page or a tracking push
therefore costs no token round trip in the common case. Connections and signing secrets are read fresh
on every call: a connection's status may change at any moment, and a cached status would let a push
outlive a disconnect.

Errors are domain errors that extend the marketplace ones the callers already handle: a connection that
is gone or not active is a lost authorization, auth being unreachable is transient.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict

from shared.marketplaces.base import AuthorizationLost, TokenProvider, TransientMarketplaceError
from shared.marketplaces.http import RateLimited, retry_after_seconds
from shared.settings import Settings
from shared.statuses import ConnectionStatus
from shared.web.internal import InternalClient

# A kept token is handed out until this long before it expires, so it is still good for the call it is wanted for.
TOKEN_MARGIN = timedelta(seconds=60)
# Tokens that never expire (API credentials) are re-read this often, so a replaced credential is picked up.
NON_EXPIRING_MAX_AGE = timedelta(minutes=5)


class ConnectionNotFound(AuthorizationLost):
    """Auth does not know the connection (deleted, or never existed)."""


class ConnectionInactive(AuthorizationLost):
    """The connection exists but is not active (disconnected, needs re-authorization, …)."""

    def __init__(self, message: str, status: str | None = None) -> None:
        super().__init__(message)
        self.status = status


class AuthUnavailable(TransientMarketplaceError):
    """Auth could not be reached or could not answer now; the caller retries later."""


class Connection(BaseModel):
    """A marketplace connection as auth holds it; `status` is validated against the known states."""

    model_config = ConfigDict(frozen=True)

    id: uuid.UUID
    merchant_id: uuid.UUID
    marketplace: str
    status: ConnectionStatus
    shop_id: str | None = None
    shop_name: str | None = None
    settings: dict[str, Any] = {}

    @property
    def active(self) -> bool:
        return self.status == ConnectionStatus.ACTIVE

    def require_active(self) -> Connection:
        """This connection, or ConnectionInactive naming its status."""
        if not self.active:
            raise ConnectionInactive(f"the connection is {self.status}", self.status)
        return self


@dataclass(frozen=True)
class AccessToken:
    access_token: str = field(repr=False)
    expires_at: datetime | None  # None: API credentials that never expire


@dataclass(frozen=True)
class SigningSecret:
    value: str | None = field(repr=False)  # None: the marketplace signs nothing for this connection


@dataclass(frozen=True)
class _Kept:
    token: AccessToken
    fetched_at: datetime


def _now() -> datetime:
    return datetime.now(UTC)


class AuthClient:
    """Auth's internal routes behind typed calls, with a per-process token cache keyed by connection id."""

    def __init__(self, internal: InternalClient, *, token_margin: timedelta = TOKEN_MARGIN,
                 clock: Callable[[], datetime] = _now) -> None:
        self._internal = internal
        self._margin = token_margin
        self._clock = clock
        self._tokens: dict[uuid.UUID, _Kept] = {}
        self._locks: defaultdict[uuid.UUID, asyncio.Lock] = defaultdict(asyncio.Lock)

    @classmethod
    def from_settings(cls, settings: Settings, internal: InternalClient | None = None) -> AuthClient:
        """The client for this service: over `internal` when the service already has one for auth."""
        return cls(internal or InternalClient(settings, settings.auth_url))

    async def aclose(self) -> None:
        await self._internal.aclose()

    async def connection(self, connection_id: uuid.UUID) -> Connection:
        """The connection, read fresh. Raises ConnectionNotFound, AuthUnavailable."""
        return Connection.model_validate(await self._read(f"/internal/connections/{connection_id}", "the connection"))

    async def active_connection(self, connection_id: uuid.UUID) -> Connection:
        """The connection if it is active; otherwise ConnectionInactive (or ConnectionNotFound, AuthUnavailable)."""
        return (await self.connection(connection_id)).require_active()

    async def signing_secret(self, connection_id: uuid.UUID) -> SigningSecret:
        """The secret the marketplace signs this connection's webhooks with. Raises ConnectionNotFound, AuthUnavailable."""
        body = await self._read(f"/internal/connections/{connection_id}/webhook-signing-secret", "the signing secret")
        return SigningSecret(body["signing_secret"])

    async def access_token(self, connection_id: uuid.UUID, *, force_refresh: bool = False) -> AccessToken:
        """A token valid for at least the margin: the kept one, or auth's answer (which replaces it).

        `force_refresh` (after the marketplace answered 401) asks auth even for a kept token. Callers that
        queue behind a fetch for the same connection take its answer, so concurrent misses (or forced
        refreshes after one 401) make one round trip. Raises ConnectionNotFound, ConnectionInactive, RateLimited
        (auth's marketplace said when to come back), AuthUnavailable.
        """
        if not force_refresh and (kept := self._fresh(connection_id)) is not None:
            return kept
        seen = self._tokens.get(connection_id)
        async with self._locks[connection_id]:
            if (latest := self._tokens.get(connection_id)) is not None and latest is not seen:
                return latest.token  # fetched (or force-refreshed) by the caller we waited for
            try:
                token = await self._fetch_token(connection_id, force_refresh)
            except AuthorizationLost:
                self._tokens.pop(connection_id, None)
                raise
            self._tokens[connection_id] = _Kept(token, self._clock())
            return token

    def token_provider(self, connection_id: uuid.UUID) -> TokenProvider:
        """A marketplace client's `TokenProvider` for one connection: `await provide(force_refresh)` → token."""

        async def provide(force_refresh: bool = False) -> str:
            return (await self.access_token(connection_id, force_refresh=force_refresh)).access_token

        return provide

    def _fresh(self, connection_id: uuid.UUID) -> AccessToken | None:
        kept = self._tokens.get(connection_id)
        if kept is None:
            return None
        now = self._clock()
        if kept.token.expires_at is None:
            return kept.token if now - kept.fetched_at < NON_EXPIRING_MAX_AGE else None
        return kept.token if now < kept.token.expires_at - self._margin else None

    async def _fetch_token(self, connection_id: uuid.UUID, force_refresh: bool) -> AccessToken:
        response = await self._call("POST", f"/internal/connections/{connection_id}/access-token",
                                    json={"force_refresh": force_refresh})
        if response.status_code == 200:
            body = response.json()
            expires_at = body.get("expires_at")
            return AccessToken(body["access_token"], datetime.fromisoformat(expires_at) if expires_at else None)
        detail = _detail(response)
        if response.status_code == 404:
            raise ConnectionNotFound(detail)
        if response.status_code == 409:
            raise ConnectionInactive(detail, _field(response, "connection_status"))
        if response.status_code == 503 and (wait := retry_after_seconds(response)) is not None:
            raise RateLimited(f"auth could not provide a token: {detail}", wait)  # its marketplace said when
        raise AuthUnavailable(f"auth could not provide a token: {detail}")

    async def _read(self, path: str, what: str) -> dict[str, Any]:
        response = await self._call("GET", path)
        if response.status_code == 404:
            raise ConnectionNotFound("the connection no longer exists")
        if response.status_code != 200:
            raise AuthUnavailable(f"auth answered {response.status_code} for {what}")
        return response.json()

    async def _call(self, method: str, path: str, **kwargs) -> httpx.Response:
        try:
            return await self._internal.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise AuthUnavailable(f"auth service unreachable: {exc!r}") from exc


def _detail(response: httpx.Response) -> str:
    return str(_field(response, "detail") or response.text or response.status_code)


def _field(response: httpx.Response, name: str):
    """A field of a problem answer, or None when the body is not a JSON object."""
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get(name) if isinstance(body, dict) else None
