"""Marketplace webhooks (BigCommerce): registered when a connection first syncs, verified and deduplicated
on delivery (the use case that then fetches the order is `service.receive_webhook_delivery`). The periodic
sync stays the safety net, so a lost or refused delivery costs latency, never an order.
"""

from __future__ import annotations

import secrets
import uuid

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.orders import repository as repo
from services.orders.errors import DeliveryRejected
from shared.crypto import SecretBox
from shared.marketplaces.base import OrderWebhooks
from shared.marketplaces.bigcommerce.webhooks import delivery_id, verify_delivery, webhook_destination
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
        row = await repo.get_webhook_registration(session, connection.id)
    if row is not None and row.registered_at is not None:
        return
    secret = box.open(row.secret, context=_context(connection.id)) if row else secrets.token_urlsafe(32)
    url = destination(settings, connection.id)
    hook_ids = await source.register_order_webhooks(url, secret)
    async with sessions() as session, session.begin():
        sealed_signing = box.seal(signing_secret, context=_signing_context(connection.id)) if signing_secret else None
        await repo.save_webhook_registration(
            session, connection_id=connection.id, destination=url,
            secret=box.seal(secret, context=_context(connection.id)), signing_secret=sealed_signing, hook_ids=hook_ids)
    log.info("orders.webhooks_registered", connection_id=str(connection.id), hooks=hook_ids)


async def accept_delivery(session: AsyncSession, box: SecretBox, connection_id: uuid.UUID, headers, body: bytes):
    """The verified payload and whether it is new; records the delivery in the same transaction as the caller's.

    Deduplicates on the delivery id (`webhook-id`), not on the payload's `hash`: two events whose payloads
    happen to be equal are two deliveries, and a retry or replay of one delivery is applied once.
    """
    row = await repo.get_webhook_registration(session, connection_id)
    if row is None:
        raise DeliveryRejected("no webhooks registered for this connection")
    signing = box.open(row.signing_secret, context=_signing_context(connection_id)) if row.signing_secret else None
    try:
        payload = verify_delivery(headers, body, box.open(row.secret, context=_context(connection_id)),
                                  signing_secret=signing)
    except ValueError as exc:
        raise DeliveryRejected(str(exc)) from exc
    new = await repo.record_webhook_delivery(
        session, connection_id=connection_id, delivery_id=delivery_id(headers, payload), delivery_hash=payload["hash"],
        scope=payload["scope"], external_order_id=str(payload["data"]["id"]))
    return payload, new
