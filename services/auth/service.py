"""Auth use cases: issue access tokens, manage merchants and API clients, ensure the bootstrap admin.

Each use case takes a session and commits what it changed; tenancy rules live here, not in the routes.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import structlog
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.auth import repository
from services.auth.client_secrets import SecretHasher, is_slow_hash, new_client_id, new_client_secret
from services.auth.errors import InvalidField, NotFound, OAuthError, invalid_client
from services.auth.keys import SigningKey
from services.auth.oauth import TokenRequest
from services.auth.pagination import next_cursor, parse_cursor
from services.auth.scopes import ADMIN, KNOWN_SCOPES, format_scopes
from shared.settings import Settings
from shared.web.identity import Identity

log = structlog.get_logger(__name__)

_BOOTSTRAP_LOCK = "auth:bootstrap-admin"


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int
    scope: str


@dataclass(frozen=True)
class Page:
    items: Sequence[RowMapping]
    next_cursor: str | None


@dataclass(frozen=True)
class CreatedClient:
    client: RowMapping
    client_secret: str


async def _verify(hasher: SecretHasher, secret: str, stored: str | None) -> bool:
    if is_slow_hash(stored):
        # A legacy scrypt hash, checked once more before it is rewritten: keep it off the event loop.
        return await asyncio.to_thread(hasher.verify, secret, stored)
    return hasher.verify(secret, stored)


async def issue_token(session: AsyncSession, signing_key: SigningKey, settings: Settings, hasher: SecretHasher,
                      request: TokenRequest) -> IssuedToken:
    """Authenticate the client by its secret and sign an access token for the requested scopes."""
    client = await repository.get_client_credentials(session, request.credentials.client_id)
    stored_hash = client["secret_hash"] if client is not None else None
    secret_ok = await _verify(hasher, request.credentials.client_secret, stored_hash)
    if client is None or not secret_ok:
        # The submitted id is not logged for unknown clients: people paste secrets into the wrong field.
        log.info("auth.token.refused", reason="unknown_client" if client is None else "wrong_secret",
                 client_id=client["client_id"] if client is not None else None)
        raise invalid_client("unknown client or wrong secret")
    # Checked after the secret so only the client's owner learns that it was disabled.
    if client["disabled_at"] is not None:
        log.info("auth.token.refused", reason="client_disabled", client_id=client["client_id"])
        raise invalid_client("client is disabled")

    granted = frozenset(client["scopes"])
    scopes = granted if request.scopes is None else request.scopes
    if not scopes <= granted:
        log.info("auth.token.refused", reason="scope_not_granted", client_id=client["client_id"])
        raise OAuthError(400, "invalid_scope", f"not granted to this client: {format_scopes(scopes - granted)}")

    if hasher.needs_rehash(stored_hash):
        await repository.update_client_credentials(session, client["id"],
                                                   secret_hash=hasher.hash(request.credentials.client_secret))
        await session.commit()
        log.info("auth.client.secret_rehashed", client_id=client["client_id"])

    now = int(time.time())
    merchant_id = client["merchant_id"]
    claims = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": client["client_id"],
        "client_id": client["client_id"],
        "merchant_id": str(merchant_id) if merchant_id is not None else None,
        "scope": format_scopes(scopes),
        "iat": now,
        "nbf": now,
        "exp": now + settings.access_token_ttl_s,
        "jti": str(uuid.uuid4()),
    }
    log.info("auth.token.issued", client_id=client["client_id"], scope=claims["scope"], jti=claims["jti"])
    return IssuedToken(access_token=signing_key.sign(claims), expires_in=settings.access_token_ttl_s,
                       scope=claims["scope"])


# --- merchants ---

async def create_merchant(session: AsyncSession, name: str) -> RowMapping:
    merchant = await repository.insert_merchant(session, name)
    await session.commit()
    log.info("auth.merchant.created", merchant_id=str(merchant["id"]))
    return merchant


async def list_merchants(session: AsyncSession, cursor: str | None, limit: int) -> Page:
    rows = await repository.list_merchants(session, parse_cursor(cursor), limit)
    return Page(items=rows[:limit], next_cursor=next_cursor(rows, limit))


async def get_merchant(session: AsyncSession, identity: Identity, merchant_id: uuid.UUID) -> RowMapping:
    """A merchant as seen by `identity`: admins see all, a tenant client only its own merchant."""
    if not identity.is_admin and identity.merchant_id != merchant_id:
        raise NotFound("merchant")
    merchant = await repository.get_merchant(session, merchant_id)
    if merchant is None:
        raise NotFound("merchant")
    return merchant


# --- API clients ---

async def create_client(session: AsyncSession, hasher: SecretHasher, *, name: str, merchant_id: uuid.UUID | None,
                        scopes: Sequence[str]) -> CreatedClient:
    """Register an API client and mint its secret, which the caller sees exactly once.

    `admin` and a merchant exclude each other: an admin client acts across tenants, so it must not
    belong to one, and a tenant's client must never hold the scope that reaches every tenant.
    """
    if merchant_id is None and ADMIN not in scopes:
        raise InvalidField("merchant_id", "required unless the client is an admin client (scope 'admin')")
    if merchant_id is not None and ADMIN in scopes:
        raise InvalidField("scopes", "'admin' is only for clients without a merchant_id")
    if merchant_id is not None and await repository.get_merchant(session, merchant_id) is None:
        raise InvalidField("merchant_id", f"no merchant {merchant_id}")

    client_secret = new_client_secret()
    client = await repository.insert_client(session, client_id=new_client_id(), name=name, merchant_id=merchant_id,
                                            secret_hash=hasher.hash(client_secret), scopes=sorted(scopes))
    await session.commit()
    log.info("auth.client.created", client_id=client["client_id"],
             merchant_id=str(merchant_id) if merchant_id else None, scopes=format_scopes(scopes))
    return CreatedClient(client=client, client_secret=client_secret)


async def list_clients(session: AsyncSession, merchant_id: uuid.UUID | None, cursor: str | None,
                       limit: int) -> Page:
    rows = await repository.list_clients(session, merchant_id, parse_cursor(cursor), limit)
    return Page(items=rows[:limit], next_cursor=next_cursor(rows, limit))


async def disable_client(session: AsyncSession, id_: uuid.UUID) -> None:
    """Stop issuing tokens to the client; tokens already issued expire on their own."""
    if not await repository.disable_client(session, id_):
        raise NotFound("client")
    await session.commit()
    log.info("auth.client.disabled", id=str(id_))


# --- bootstrap ---

async def ensure_bootstrap_admin(sessions: async_sessionmaker[AsyncSession], hasher: SecretHasher, client_id: str,
                                 secret: str) -> None:
    """Make the configured admin client exist with every scope and the configured secret.

    Idempotent and safe for replicas starting together (advisory lock). A client an operator disabled
    stays disabled: a restart must not undo a deliberate lock-out.
    """
    all_scopes = sorted(KNOWN_SCOPES)
    async with sessions() as session, session.begin():
        await repository.lock_for_transaction(session, _BOOTSTRAP_LOCK)
        client = await repository.get_client_credentials(session, client_id)
        if client is None:
            await repository.insert_client(session, client_id=client_id, name="bootstrap admin", merchant_id=None,
                                           secret_hash=hasher.hash(secret), scopes=all_scopes)
            log.info("auth.bootstrap_admin.created", client_id=client_id)
            return
        if client["merchant_id"] is not None:
            raise RuntimeError(f"bootstrap admin client id {client_id!r} belongs to a merchant's client")
        stale_secret = hasher.needs_rehash(client["secret_hash"]) or not hasher.verify(secret, client["secret_hash"])
        new_hash = hasher.hash(secret) if stale_secret else None
        new_scopes = all_scopes if sorted(client["scopes"]) != all_scopes else None
        await repository.update_client_credentials(session, client["id"], secret_hash=new_hash, scopes=new_scopes)
        if new_hash is not None or new_scopes is not None:
            log.info("auth.bootstrap_admin.updated", client_id=client_id, credentials_rotated=new_hash is not None)
