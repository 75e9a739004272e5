"""Marketplace webhooks (BigCommerce): registered when a connection first syncs, verified and deduplicated
on delivery, each one fetching the order it names. The periodic sync stays the safety net, so a lost or
refused delivery costs latency, never an order.
"""

from __future__ import annotations

import secrets
import uuid

import sqlalchemy as sa
import structlog
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.orders import repository as repo
from services.orders.ingest import ingest_order, live_policy
from services.orders.models import marketplace_webhooks, webhook_deliveries
from shared.crypto import SecretBox
from shared.marketplaces.base import MarketplaceError, OrderWebhooks
from shared.marketplaces.bigcommerce.webhooks import delivery_id, verify_delivery, webhook_destination
from shared.marketplaces.http import retry_after_header
from shared.settings import Settings

log = structlog.get_logger(__name__)

def destination(settings: Settings, connection_id: uuid.UUID) -> str:
    return webhook_destination(settings.public_base_url, settings.bigcommerce_webhook_path, connection_id)


def _context(connection_id: uuid.UUID) -> str:
    return f"webhook:{connection_id}"


def _signing_context(connection_id: uuid.UUID) -> str:
    return f"webhook-signing:{connection_id}"


async def ensure_registered(sessions: async_sessionmaker[AsyncSession], box: SecretBox, settings: Settings,
                            connection, source: OrderWebhooks, signing_secret: str | None) -> None:
    """Register the order webhooks once per connection (idempotent at the marketplace too)."""
    async with sessions() as session:
        row = (await session.execute(sa.select(marketplace_webhooks).where(
            marketplace_webhooks.c.connection_id == connection.id))).one_or_none()
    if row is not None and row.registered_at is not None:
        return
    secret = box.open(row.secret, context=_context(connection.id)) if row else secrets.token_urlsafe(32)
    url = destination(settings, connection.id)
    hook_ids = await source.register_order_webhooks(url, secret)
    async with sessions() as session, session.begin():
        sealed_signing = box.seal(signing_secret, context=_signing_context(connection.id)) if signing_secret else None
        stmt = insert(marketplace_webhooks).values(
            connection_id=connection.id, destination=url, secret=box.seal(secret, context=_context(connection.id)),
            signing_secret=sealed_signing, hook_ids=hook_ids, registered_at=sa.func.now())
        await session.execute(stmt.on_conflict_do_update(
            index_elements=["connection_id"],
            set_={"destination": url, "hook_ids": hook_ids, "registered_at": sa.func.now(),
                  "secret": stmt.excluded.secret, "signing_secret": stmt.excluded.signing_secret}))
    log.info("orders.webhooks_registered", connection_id=str(connection.id), hooks=hook_ids)


class DeliveryRejected(Exception):
    """Not a delivery we can trust (unknown connection, wrong secret, bad signature)."""


async def accept_delivery(session: AsyncSession, box: SecretBox, connection_id: uuid.UUID, headers, body: bytes):
    """The verified payload and whether it is new; records the delivery in the same transaction as the caller's.

    Deduplicates on the delivery id (`webhook-id`), not on the payload's `hash`: two events whose payloads
    happen to be equal are two deliveries, and a retry or replay of one delivery is applied once.
    """
    row = (await session.execute(sa.select(marketplace_webhooks).where(
        marketplace_webhooks.c.connection_id == connection_id))).one_or_none()
    if row is None:
        raise DeliveryRejected("no webhooks registered for this connection")
    signing = box.open(row.signing_secret, context=_signing_context(connection_id)) if row.signing_secret else None
    try:
        payload = verify_delivery(headers, body, box.open(row.secret, context=_context(connection_id)),
                                  signing_secret=signing)
    except ValueError as exc:
        raise DeliveryRejected(str(exc)) from exc
    inserted = await session.execute(
        insert(webhook_deliveries).values(connection_id=connection_id, delivery_id=delivery_id(headers, payload),
                                          delivery_hash=payload["hash"], scope=payload["scope"],
                                          external_order_id=str(payload["data"]["id"]))
        .on_conflict_do_nothing().returning(webhook_deliveries.c.delivery_id))
    return payload, inserted.scalar_one_or_none() is not None


class DeliveryNotProcessed(Exception):
    """The order could not be fetched now; nothing was recorded, so the marketplace's retry gets through.
    `retry_after` is the `Retry-After` header for the answer when the marketplace said when to come back."""

    def __init__(self, message: str, retry_after: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


async def handle_delivery(session: AsyncSession, box: SecretBox, order_sync, connection_id: uuid.UUID,
                          headers, body: bytes) -> str:
    """Verify, deduplicate by delivery id, fetch the order the delivery names and ingest it → the outcome.

    Raises LookupError for an unknown destination, DeliveryRejected for a forgery (nothing changes),
    DeliveryNotProcessed when the marketplace is unavailable. Commits what it did.
    """
    connection = await repo.get_connection(session, connection_id)
    if connection is None:
        raise LookupError("unknown webhook destination")
    payload, new = await accept_delivery(session, box, connection_id, headers, body)
    if not new or connection.status != "active":
        await session.commit()
        return "duplicate" if not new else f"ignored: connection is {connection.status}"
    external_id = str(payload["data"]["id"])
    source = order_sync.source_for(connection)
    try:
        policy = live_policy(await order_sync.connection_settings(connection_id))
        order = await source.get_order(external_id)
        outcome = await ingest_order(session, connection, order, policy)
        await repo.clear_rejection(session, connection_id, external_id)
    except MarketplaceError as exc:
        await session.rollback()
        raise DeliveryNotProcessed(str(exc), retry_after_header(exc)) from exc
    except ValueError as exc:  # the order payload itself is unusable: acknowledged, kept with its reason
        await repo.record_rejection(session, connection_id, external_id, str(exc))
        outcome = "rejected"
    finally:
        await source.aclose()
    await session.commit()
    return outcome
