"""Connection use cases: start an OAuth authorization, complete it at the callback, list, get, disconnect.

Marketplace calls happen outside transactions; what they produce is written afterwards in one
transaction together with its event. Tenancy: a tenant client sees only its merchant's connections,
and anything else looks like it does not exist (404).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.auth import repository as auth_repo
from services.auth.connections import events
from services.auth.connections import repository as repo
from services.auth.connections.connectors import CredentialConnector, credential_connector, oauth_connector
from services.auth.connections.tokens import seal_grant
from services.auth.errors import (
    BadCallback,
    InvalidField,
    MarketplaceRefused,
    MarketplaceUnavailable,
    NotFound,
)
from services.auth.pagination import next_cursor, parse_cursor
from services.auth.service import Page
from shared.crypto import SecretBox
from shared.marketplaces.base import AuthorizationLost, RejectedByMarketplace, TransientMarketplaceError
from shared.marketplaces.http import RateLimited
from shared.settings import Settings
from shared.statuses import ConnectionStatus
from shared.web.identity import Identity

log = structlog.get_logger(__name__)

CALLBACK_PATH = "/v1/connections/oauth/callback"
STATE_TTL = timedelta(minutes=10)


@dataclass(frozen=True)
class StartedAuthorization:
    connection: RowMapping
    authorization_url: str
    expires_at: datetime


def redirect_uri(settings: Settings) -> str:
    """The one callback URL every OAuth marketplace sends the merchant back to (served by the gateway)."""
    return settings.public_base_url.rstrip("/") + CALLBACK_PATH


def state_hash(state: str) -> str:
    """Only this is stored: a database reader cannot replay a pending authorization's state."""
    return hashlib.sha256(state.encode()).hexdigest()


def _visible_to(identity: Identity, merchant_id: uuid.UUID) -> bool:
    return identity.is_admin or identity.merchant_id == merchant_id


async def start_connection(session: AsyncSession, box: SecretBox, settings: Settings, identity: Identity, *,
                           marketplace: str, merchant_id: uuid.UUID) -> StartedAuthorization:
    """A pending connection plus the marketplace URL where the merchant approves it (valid 10 minutes)."""
    if not _visible_to(identity, merchant_id):
        raise NotFound("merchant")
    if await auth_repo.get_merchant(session, merchant_id) is None:
        raise InvalidField("merchant_id", f"no merchant {merchant_id}")
    connector = oauth_connector(marketplace, settings)

    connection_id = uuid.uuid4()
    state = secrets.token_urlsafe(32)
    hashed = state_hash(state)
    code_verifier, code_challenge = connector.new_pkce_pair()
    callback_url = redirect_uri(settings)
    expires_at = datetime.now(UTC) + STATE_TTL
    connection = await repo.insert_connection(session, id_=connection_id, merchant_id=merchant_id,
                                              marketplace=marketplace)
    await repo.insert_oauth_state(session, state_hash=hashed, connection_id=connection_id,
                                  sealed_code_verifier=box.seal(code_verifier, context=hashed),
                                  redirect_uri=callback_url, expires_at=expires_at)
    await session.commit()
    log.info("auth.connection.started", connection_id=str(connection_id), merchant_id=str(merchant_id),
             marketplace=marketplace)
    url = connector.authorization_url(state=state, code_challenge=code_challenge, redirect_uri=callback_url)
    return StartedAuthorization(connection=connection, authorization_url=url, expires_at=expires_at)


async def connect_with_credentials(session: AsyncSession, box: SecretBox, identity: Identity,
                                  connector: CredentialConnector, *, merchant_id: uuid.UUID,
                                  credentials: dict) -> RowMapping:
    """Check the pasted API credentials live, then store the connection: `active` when the token has every
    scope the integration needs, `needs_attention` with the list to add otherwise. Nothing is stored when
    the check fails. The same shop connected again renews the existing connection."""
    if not _visible_to(identity, merchant_id):
        raise NotFound("merchant")
    if await auth_repo.get_merchant(session, merchant_id) is None:
        raise InvalidField("merchant_id", f"no merchant {merchant_id}")
    await session.rollback()  # no transaction is held across the marketplace call below
    marketplace = connector.marketplace
    try:
        check = await connector.check(credentials)
    except ValueError as exc:
        raise InvalidField("credentials.api_path", str(exc)) from exc
    except AuthorizationLost as exc:
        raise InvalidField("credentials.access_token", f"{marketplace} refused these credentials: {exc}") from exc
    except RateLimited as exc:
        raise MarketplaceUnavailable(str(exc), exc.retry_after_s) from exc
    except TransientMarketplaceError as exc:
        raise MarketplaceUnavailable(str(exc)) from exc
    except RejectedByMarketplace as exc:
        raise MarketplaceRefused(exc.reason) from exc

    status = ConnectionStatus.ACTIVE if not check.missing_scopes else ConnectionStatus.NEEDS_ATTENTION
    reason = None if status == ConnectionStatus.ACTIVE else (
        f"the API account lacks {', '.join(check.missing_scopes)}: add them in {marketplace} and connect again")
    async with session.begin():
        await auth_repo.lock_for_transaction(
            session, f"auth:connection-shop:{merchant_id}:{marketplace}:{check.store_hash}")
        live = await repo.live_connection_of_shop(session, merchant_id=merchant_id, marketplace=marketplace,
                                                  shop_id=check.store_hash)
        target = live or await repo.insert_connection(session, id_=uuid.uuid4(), merchant_id=merchant_id,
                                                      marketplace=marketplace)
        sealed = box.seal(credentials["access_token"], context=f"{target['id']}:access")
        signing = box.seal(credentials["client_secret"], context=f"{target['id']}:signing")
        await repo.store_tokens(session, target["id"], sealed_access_token=sealed, sealed_refresh_token=None,
                                expires_at=None, sealed_signing_secret=signing)
        connected_at = datetime.now(UTC)
        await repo.update_connection(session, target["id"], status=status, status_reason=reason,
                                     shop_id=check.store_hash, shop_name=check.store_name,
                                     granted_scopes=list(check.granted_scopes),
                                     missing_scopes=list(check.missing_scopes), connected_at=connected_at)
        if status == ConnectionStatus.ACTIVE and target["status"] != ConnectionStatus.ACTIVE:
            await events.connected(session, target, shop_id=check.store_hash, shop_name=check.store_name,
                                   connected_at=connected_at)
        result = await repo.get_connection(session, target["id"])
    log.info("auth.connection.credentials_checked", connection_id=str(target["id"]), marketplace=marketplace,
             status=status, missing_scopes=list(check.missing_scopes))
    return result


def _check_state(pending: RowMapping | None, *, now: datetime | None = None) -> RowMapping:
    if pending is None:
        raise BadCallback("state", "unknown state: start the connection again")
    if pending["used_at"] is not None:
        raise BadCallback("state", "this state was already used: start the connection again")
    if now is not None and pending["expires_at"] <= now:
        raise BadCallback("state", "this state has expired (10 minutes): start the connection again")
    return pending


async def complete_authorization(session: AsyncSession, box: SecretBox, settings: Settings, *, state: str | None,
                                 code: str | None, error: str | None = None,
                                 error_description: str | None = None) -> RowMapping:
    """The marketplace sent the merchant back: redeem the code, find the shop, make the connection active.

    The state is single-use: it is marked used in the transaction that stores the tokens, under its row
    lock, so two deliveries of one callback cannot both connect. A failed code exchange leaves the state
    unused, so the merchant may approve again from the same authorization URL while it is valid. When the
    merchant already has a live connection to the same shop, that connection is re-authorized (keeping
    its id, its orders and sync position) and the new pending one is closed.
    """
    if not state:
        raise BadCallback("state", "is required")
    hashed = state_hash(state)
    pending = _check_state(await repo.get_oauth_state(session, hashed), now=datetime.now(UTC))
    connection = await repo.get_connection(session, pending["connection_id"])
    await session.rollback()  # no transaction is held across the marketplace calls below
    if connection is None or connection["status"] != ConnectionStatus.PENDING:
        raise BadCallback("state", "the connection is no longer waiting for authorization")
    marketplace = connection["marketplace"]

    if error:
        reason = f"authorization refused at {marketplace}: {error}"
        if error_description:
            reason += f" ({error_description[:300]})"
        async with session.begin():
            _check_state(await repo.get_oauth_state(session, hashed, for_update=True))
            await repo.mark_oauth_state_used(session, hashed)
            await repo.note_pending_failure(session, connection["id"], reason)
        log.info("auth.connection.authorization_refused", connection_id=str(connection["id"]), error=error)
        raise BadCallback("error", reason, type_="authorization-refused")
    if not code:
        raise BadCallback("code", "is required")

    connector = oauth_connector(marketplace, settings)
    code_verifier = box.open(pending["code_verifier"], context=hashed)
    try:
        grant = await connector.exchange_code(code=code, code_verifier=code_verifier,
                                              redirect_uri=pending["redirect_uri"])
        shop = await connector.identify_shop(grant.access_token)
    except AuthorizationLost as exc:
        await _note_failure(session, connection["id"], f"authorization failed: {exc}")
        raise BadCallback("code", f"{marketplace} did not accept the authorization: {exc}") from exc
    except RateLimited as exc:
        raise MarketplaceUnavailable(str(exc), exc.retry_after_s) from exc
    except TransientMarketplaceError as exc:
        await _note_failure(session, connection["id"], f"{marketplace} was unavailable: {exc}")
        raise MarketplaceUnavailable(str(exc)) from exc
    except RejectedByMarketplace as exc:
        await _note_failure(session, connection["id"], f"{marketplace} refused: {exc.reason}")
        raise MarketplaceRefused(exc.reason) from exc

    async with session.begin():
        _check_state(await repo.get_oauth_state(session, hashed, for_update=True))
        started = await repo.get_connection(session, connection["id"], for_update=True)
        if started is None or started["status"] != ConnectionStatus.PENDING:
            raise BadCallback("state", "the connection is no longer waiting for authorization")
        # Serialises pending connections of one shop finishing together, so both find the same live one.
        await auth_repo.lock_for_transaction(
            session, f"auth:connection-shop:{started['merchant_id']}:{marketplace}:{shop.shop_id}")
        live = await repo.live_connection_of_shop(session, merchant_id=started["merchant_id"],
                                                  marketplace=marketplace, shop_id=shop.shop_id)
        target = live or started
        now = datetime.now(UTC)
        if live is not None:
            await repo.update_connection(session, started["id"], status=ConnectionStatus.DISCONNECTED, disconnected_at=now,
                                         status_reason=f"the shop is already connected as {live['id']}, "
                                                       "which this authorization renewed")
        sealed = seal_grant(box, target["id"], grant)
        await repo.store_tokens(session, target["id"], sealed_access_token=sealed.access_token,
                                sealed_refresh_token=sealed.refresh_token, expires_at=sealed.expires_at)
        await repo.update_connection(session, target["id"], status=ConnectionStatus.ACTIVE, shop_id=shop.shop_id,
                                     shop_name=shop.shop_name, status_reason=None, connected_at=now)
        await repo.mark_oauth_state_used(session, hashed)
        if target["status"] != ConnectionStatus.ACTIVE:
            await events.connected(session, target, shop_id=shop.shop_id, shop_name=shop.shop_name, connected_at=now)
        result = await repo.get_connection(session, target["id"])
    log.info("auth.connection.connected", connection_id=str(target["id"]), merchant_id=str(target["merchant_id"]),
             marketplace=marketplace, shop_id=shop.shop_id, renewed=live is not None)
    return result


async def _note_failure(session: AsyncSession, connection_id: uuid.UUID, reason: str) -> None:
    async with session.begin():
        await repo.note_pending_failure(session, connection_id, reason[:500])
    log.info("auth.connection.authorization_failed", connection_id=str(connection_id), reason=reason)


async def list_connections(session: AsyncSession, identity: Identity, merchant_id: uuid.UUID | None,
                           cursor: str | None, limit: int) -> Page:
    """A tenant lists its own merchant's connections; an admin all of them, or one merchant's."""
    if not identity.is_admin:
        if merchant_id is not None and merchant_id != identity.merchant_id:
            raise NotFound("merchant")
        merchant_id = identity.merchant_id
        if merchant_id is None:
            raise NotFound("merchant")
    rows = await repo.list_connections(session, merchant_id, parse_cursor(cursor), limit)
    return Page(items=rows[:limit], next_cursor=next_cursor(rows, limit))


async def get_connection(session: AsyncSession, identity: Identity, connection_id: uuid.UUID) -> RowMapping:
    connection = await repo.get_connection(session, connection_id)
    if connection is None or not _visible_to(identity, connection["merchant_id"]):
        raise NotFound("connection")
    return connection


async def get_connection_internal(session: AsyncSession, connection_id: uuid.UUID) -> RowMapping:
    connection = await repo.get_connection(session, connection_id)
    if connection is None:
        raise NotFound("connection")
    return connection


async def _revoke_at_marketplace(session: AsyncSession, box: SecretBox, settings: Settings, identity: Identity,
                                 connection_id: uuid.UUID) -> None:
    connection = await repo.get_connection(session, connection_id)
    tokens = await repo.get_tokens(session, connection_id)
    await session.rollback()
    if connection is None or tokens is None or not _visible_to(identity, connection["merchant_id"]):
        return
    connector = credential_connector(connection["marketplace"], settings)
    if connector is None:
        return
    try:
        access_token = box.open(tokens["access_token"], context=f"{connection_id}:access")
        await connector.revoke(connection_id, connection["shop_id"], access_token)
    except Exception as exc:
        log.warning("auth.connection.revoke_failed", connection_id=str(connection_id), error=repr(exc))


async def disconnect(session: AsyncSession, box: SecretBox, settings: Settings, identity: Identity,
                     connection_id: uuid.UUID) -> None:
    """Destroy the tokens and stop syncing (`connection.disconnected`); downloaded orders stay. Idempotent.

    Etsy and Allegro have no revoke endpoint, so destroying our copy of the grant is the whole disconnect
    there; for API-credential marketplaces we first undo what we set up (BigCommerce: our webhooks),
    best effort: a marketplace outage must not keep a merchant from disconnecting.
    """
    await _revoke_at_marketplace(session, box, settings, identity, connection_id)
    async with session.begin():
        connection = await repo.get_connection(session, connection_id, for_update=True)
        if connection is None or not _visible_to(identity, connection["merchant_id"]):
            raise NotFound("connection")
        if connection["status"] == ConnectionStatus.DISCONNECTED:
            return
        await repo.delete_tokens(session, connection_id)
        await repo.update_connection(session, connection_id, status=ConnectionStatus.DISCONNECTED,
                                     disconnected_at=datetime.now(UTC),
                                     status_reason=f"disconnected by {identity.client_id}")
        await events.disconnected(session, connection)
    log.info("auth.connection.disconnected", connection_id=str(connection_id), client_id=identity.client_id)


async def webhook_signing_secret(session: AsyncSession, box: SecretBox, connection_id: uuid.UUID) -> str | None:
    """The secret that keys the marketplace's webhook signatures (BigCommerce: the API account's client
    secret), for the service that verifies deliveries; None when the marketplace signs nothing."""
    tokens = await repo.get_tokens(session, connection_id)
    if tokens is None or tokens["signing_secret"] is None:
        return None
    return box.open(tokens["signing_secret"], context=f"{connection_id}:signing")
