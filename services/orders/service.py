"""Use cases of the orders service: what a merchant or a marketplace asks of the orders it owns.

Each function loads, decides, writes through `repository` and stages events through `events.stage` in the
caller's session; it raises the domain errors of `errors` and knows nothing of HTTP.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.orders import repository as repo
from services.orders.errors import (
    CancellationRefused,
    ConnectionInactive,
    ConnectionNotFound,
    MarketplaceUnavailable,
    OrderNotFound,
    OrderShipped,
)
from services.orders.ingest import ingest_order, live_policy, mark_cancelled
from services.orders.rules import cancellation_refusal
from services.orders.schemas import OrderOut, OrderPage, ShipmentSummary, SyncStatus
from services.orders.webhooks import accept_delivery
from shared.auth_client import AuthClient
from shared.crypto import SecretBox
from shared.events.payloads import OrderLine
from shared.marketplaces.base import (
    AuthorizationLost,
    MarketplaceError,
    RejectedByMarketplace,
    TransientMarketplaceError,
)
from shared.marketplaces.http import retry_after_header
from shared.marketplaces.registry import order_source
from shared.settings import Settings
from shared.statuses import ConnectionStatus, OrderStatus
from shared.web.pagination import Cursor


async def list_orders(session: AsyncSession, *, merchant_id: uuid.UUID | None, connection_id: uuid.UUID | None,
                      status: OrderStatus | None, updated_since: datetime | None, after: Cursor | None,
                      limit: int) -> OrderPage:
    """One page of orders, oldest change first, with their lines and shipments."""
    rows = await repo.list_orders(session, merchant_id=merchant_id, connection_id=connection_id, status=status,
                                  updated_since=updated_since, after=after, limit=limit + 1)
    page, more = rows[:limit], len(rows) > limit
    ids = [r.id for r in page]
    lines, shipments = await repo.lines_of(session, ids), await repo.shipments_of(session, ids)
    return OrderPage(items=[_order_out(r, lines[r.id], shipments[r.id]) for r in page],
                     next_cursor=Cursor(at=page[-1].updated_at, id=page[-1].id).encode() if more else None)


async def get_order(session: AsyncSession, order_id: uuid.UUID, merchant_id: uuid.UUID | None) -> OrderOut:
    row = await repo.get_order(session, order_id, merchant_id)
    if row is None:
        raise OrderNotFound(f"order {order_id} not found")
    return _order_out(row, (await repo.lines_of(session, [row.id]))[row.id],
                      (await repo.shipments_of(session, [row.id]))[row.id])


def _order_out(row, lines, shipments) -> OrderOut:
    return OrderOut(
        **{k: getattr(row, k) for k in ("id", "merchant_id", "connection_id", "marketplace", "external_id", "status",
                                        "marketplace_status", "buyer", "shipping_address", "billing_address",
                                        "billing_copied_from_shipping", "total", "currency", "placed_at", "paid_at",
                                        "created_at", "updated_at")},
        lines=[OrderLine(external_id=line.external_id, title=line.title, sku=line.sku, quantity=line.quantity,
                         unit_price=line.unit_price, variations=line.variations) for line in lines],
        shipments=[ShipmentSummary(**s._mapping) for s in shipments],
    )


async def cancel_order(session: AsyncSession, settings: Settings, auth: AuthClient, merchant_id: uuid.UUID | None,
                       order_id: uuid.UUID, reason: str | None) -> None:
    """Cancel the order at its marketplace, then record it and stage `order.cancelled`; commits.

    Synchronous because the merchant needs the marketplace's answer (Etsy has no API for it, Allegro only
    before payment) as a clear error, not a later surprise. The order's row stays locked from the shipments
    check to the commit, across the marketplace call: a sync or webhook seeing the same cancellation, and a
    second cancel, wait and then find it done. A shipment booked in fulfilment while the marketplace call is
    in flight cannot be seen here; fulfilment withdraws it when `order.cancelled` arrives (see
    `services.fulfilment.consumers`). Already cancelled: nothing to do, no second event.
    """
    order = await repo.get_order(session, order_id, merchant_id, for_update=True)
    if order is None:
        raise OrderNotFound(f"order {order_id} not found")
    refusal = cancellation_refusal(order.status, await repo.has_shipments(session, order_id))
    if refusal == "already_cancelled":
        return
    if refusal == "has_shipments":
        raise OrderShipped("the order has shipments: it can no longer be cancelled")
    try:
        connection = await auth.active_connection(order.connection_id)
    except AuthorizationLost as exc:  # not found, or not active
        raise ConnectionInactive(f"the order's marketplace connection is not active: {exc}") from exc
    except TransientMarketplaceError as exc:  # auth unreachable: nothing asked, nothing recorded
        raise MarketplaceUnavailable(f"could not reach auth for the connection, try again: {exc}",
                                     retry_after_header(exc)) from exc
    source = order_source(order.marketplace, settings, auth.token_provider(connection.id),
                          shop_id=connection.shop_id)
    try:
        await source.cancel_order(order.external_id, reason)
    except RejectedByMarketplace as exc:
        raise CancellationRefused(order.marketplace, exc.reason) from exc
    except AuthorizationLost as exc:
        raise ConnectionInactive(f"the connection needs re-authorization: {exc}") from exc
    except TransientMarketplaceError as exc:
        raise MarketplaceUnavailable(f"{order.marketplace} is unavailable, try again: {exc}",
                                     retry_after_header(exc)) from exc
    finally:
        await source.aclose()
    await mark_cancelled(session, order_id, reason)
    await session.commit()


async def own_connection(session: AsyncSession, connection_id: uuid.UUID, merchant_id: uuid.UUID | None):
    """The connection as the orders service knows it, if it is this merchant's (None: any merchant's)."""
    connection = await repo.get_connection(session, connection_id)
    if connection is None or (merchant_id is not None and connection.merchant_id != merchant_id):
        raise ConnectionNotFound(f"connection {connection_id} not found (or not yet known to orders)")
    return connection


async def request_sync(session: AsyncSession, order_sync, connection_id: uuid.UUID,
                       merchant_id: uuid.UUID | None) -> SyncStatus:
    """Mark the connection's sync due now and wake the scheduler; it runs in the background. Commits."""
    connection = await own_connection(session, connection_id, merchant_id)
    if connection.status != ConnectionStatus.ACTIVE:
        raise ConnectionInactive(f"connection is {connection.status}; only active connections sync")
    await repo.request_sync_now(session, connection_id)
    await session.commit()
    order_sync.poke()
    return await sync_status(session, connection)


async def sync_status(session: AsyncSession, connection) -> SyncStatus:
    state = await repo.get_sync_state(session, connection.id)
    running = await repo.sync_lock_held(session, connection.id)
    # A run records "running" when it starts and its outcome when it ends; if its process died in between,
    # the lock is gone while the record still says "running".
    outcome = "interrupted" if state.last_outcome == "running" and not running else state.last_outcome
    return SyncStatus(connection_id=connection.id, connection_status=connection.status, cursor=state.cursor,
                      running=running, last_started_at=state.last_started_at,
                      last_finished_at=state.last_finished_at, last_outcome=outcome,
                      last_error=state.last_error, last_counts=state.last_counts, next_run_at=state.next_run_at,
                      runs=state.runs)


async def receive_webhook_delivery(session: AsyncSession, box: SecretBox, order_sync, connection_id: uuid.UUID,
                                   headers, body: bytes) -> str:
    """Verify, deduplicate by delivery id, fetch the order the delivery names and ingest it → the outcome.

    Raises ConnectionNotFound for an unknown destination, DeliveryRejected for a forgery (nothing changes),
    MarketplaceUnavailable when the order cannot be fetched now (nothing recorded, so the marketplace's
    retry gets through). Commits what it did.
    """
    connection = await repo.get_connection(session, connection_id)
    if connection is None:
        raise ConnectionNotFound("unknown webhook destination")
    payload, new = await accept_delivery(session, box, connection_id, headers, body)
    if not new or connection.status != ConnectionStatus.ACTIVE:
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
        raise MarketplaceUnavailable(f"could not fetch the order: {exc}", retry_after_header(exc)) from exc
    except ValueError as exc:  # the order payload itself is unusable: acknowledged, kept with its reason
        await repo.record_rejection(session, connection_id, external_id, str(exc))
        outcome = "rejected"
    finally:
        await source.aclose()
    await session.commit()
    return outcome
