"""A connection's marketplace tokens: sealed at rest, handed to services fresh, refreshed single-flight.

Etsy rotates the refresh token on every refresh and the old one dies at once, so two refreshes of one
connection racing each other would burn the grant. The refresh therefore runs under the token row's
lock (`SELECT … FOR UPDATE`) across every auth replica, and the new pair is written in the same
transaction; a caller that waited for the lock finds the fresh pair and uses it instead of refreshing
again.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.auth.connections import events
from services.auth.connections import repository as repo
from services.auth.connections.connectors import Grant, oauth_connector
from services.auth.errors import ConnectionNotActive, MarketplaceRefused, MarketplaceUnavailable, NotFound
from shared.crypto import SecretBox
from shared.marketplaces.base import AuthorizationLost, RejectedByMarketplace, TransientMarketplaceError
from shared.marketplaces.http import RateLimited
from shared.settings import Settings

log = structlog.get_logger(__name__)

# Refresh this long before expiry, so a token handed out is still good for the call it is wanted for.
REFRESH_MARGIN = timedelta(minutes=5)
# A pair refreshed this recently is handed out even to a forced refresh: the caller that forced it most
# likely saw its 401 with the token that was replaced a moment ago by a concurrent refresh.
RECENT_REFRESH = timedelta(seconds=30)


@dataclass(frozen=True)
class AccessToken:
    access_token: str = field(repr=False)
    expires_at: datetime | None


@dataclass(frozen=True)
class SealedGrant:
    access_token: str
    refresh_token: str
    expires_at: datetime


def _context(connection_id: uuid.UUID, kind: str) -> str:
    return f"{connection_id}:{kind}"


def seal_grant(box: SecretBox, connection_id: uuid.UUID, grant: Grant) -> SealedGrant:
    """Both tokens encrypted and bound to this connection, so rows cannot be swapped between connections."""
    return SealedGrant(access_token=box.seal(grant.access_token, context=_context(connection_id, "access")),
                       refresh_token=box.seal(grant.refresh_token, context=_context(connection_id, "refresh")),
                       expires_at=grant.expires_at)


def _open_access_token(box: SecretBox, tokens: RowMapping) -> AccessToken:
    plain = box.open(tokens["access_token"], context=_context(tokens["connection_id"], "access"))
    return AccessToken(access_token=plain, expires_at=tokens["expires_at"])


def _require_active(connection: RowMapping | None) -> RowMapping:
    if connection is None:
        raise NotFound("connection")
    if connection["status"] != "active":
        raise ConnectionNotActive(connection["status"], connection["status_reason"])
    return connection


def _usable(tokens: RowMapping, now: datetime, *, force_refresh: bool) -> bool:
    expires_at = tokens["expires_at"]
    if tokens["refresh_token"] is None:
        return not force_refresh  # API credentials never expire; forced means the marketplace refused them
    refreshed_at = tokens["refreshed_at"]
    if refreshed_at is not None and now - refreshed_at < RECENT_REFRESH and expires_at > now:
        return True
    return not force_refresh and expires_at - now > REFRESH_MARGIN


async def access_token(session: AsyncSession, box: SecretBox, settings: Settings, connection_id: uuid.UUID, *,
                       force_refresh: bool) -> AccessToken:
    """A valid access token for an active connection, refreshed first when it is about to expire or forced.

    ConnectionNotActive when the connection is pending, disconnected or needs re-authorization (a
    refresh refused with `invalid_grant` moves it there and emits `connection.needs_reauth` once);
    MarketplaceUnavailable when the token endpoint fails in a passing way (status unchanged).
    """
    connection = _require_active(await repo.get_connection(session, connection_id))
    tokens = await repo.get_tokens(session, connection_id)
    await session.rollback()  # end the read; a refresh runs in its own locking transaction
    if tokens is None:
        raise ConnectionNotActive(connection["status"], "no tokens stored")
    if not force_refresh and _usable(tokens, datetime.now(UTC), force_refresh=False):
        return _open_access_token(box, tokens)
    return await _refresh_single_flight(session, box, settings, connection_id, force_refresh=force_refresh)


async def _refresh_single_flight(session: AsyncSession, box: SecretBox, settings: Settings,
                                 connection_id: uuid.UUID, *, force_refresh: bool) -> AccessToken:
    lost_reason: str | None = None
    async with session.begin():
        # Connection first, then tokens: the same order as disconnecting, so the two never deadlock.
        connection = _require_active(await repo.get_connection(session, connection_id, for_update=True))
        tokens = await repo.get_tokens(session, connection_id, for_update=True)
        if tokens is None:
            raise ConnectionNotActive(connection["status"], "no tokens stored")
        if _usable(tokens, datetime.now(UTC), force_refresh=force_refresh):
            log.info("auth.connection.token_reused", connection_id=str(connection_id), version=tokens["version"])
            return _open_access_token(box, tokens)

        if tokens["refresh_token"] is None:  # API credentials: nothing to refresh them with
            lost_reason = f"{connection['marketplace']} refused the stored API credentials (401)"
            await _lose_authorization(session, connection, lost_reason)
        else:
            connector = oauth_connector(connection["marketplace"], settings)
            refresh_token = box.open(tokens["refresh_token"], context=_context(connection_id, "refresh"))
            try:
                grant = await connector.refresh(refresh_token)
            except AuthorizationLost as exc:
                lost_reason = str(exc)
                await _lose_authorization(session, connection, lost_reason)
            except RateLimited as exc:
                raise MarketplaceUnavailable(str(exc), exc.retry_after_s) from exc
            except TransientMarketplaceError as exc:
                log.warning("auth.connection.refresh_failed", connection_id=str(connection_id), error=str(exc))
                raise MarketplaceUnavailable(str(exc)) from exc
            except RejectedByMarketplace as exc:
                log.warning("auth.connection.refresh_refused", connection_id=str(connection_id), reason=exc.reason)
                raise MarketplaceRefused(exc.reason) from exc
            else:
                sealed = seal_grant(box, connection_id, grant)
                version = await repo.replace_refreshed_tokens(
                    session, connection_id, sealed_access_token=sealed.access_token,
                    sealed_refresh_token=sealed.refresh_token, expires_at=sealed.expires_at,
                    refreshed_at=datetime.now(UTC))
                log.info("auth.connection.token_refreshed", connection_id=str(connection_id), version=version,
                         expires_at=grant.expires_at.isoformat(), forced=force_refresh)
                return AccessToken(access_token=grant.access_token, expires_at=grant.expires_at)
    raise ConnectionNotActive("needs_reauth", lost_reason)


async def _lose_authorization(session: AsyncSession, connection: RowMapping, reason: str) -> None:
    """active → needs_reauth under the row lock, so the event is emitted exactly once per loss."""
    await repo.delete_tokens(session, connection["id"])  # the grant is dead: nothing left worth keeping
    await repo.update_connection(session, connection["id"], status="needs_reauth", status_reason=reason)
    await events.needs_reauth(session, connection, reason)
    log.warning("auth.connection.needs_reauth", connection_id=str(connection["id"]), reason=reason)
