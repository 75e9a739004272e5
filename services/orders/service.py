"""Use cases of the orders service: what a merchant or a marketplace asks of the orders it owns.

Each function loads, decides, writes through `repository` and stages events through `events.stage` in the
caller's session; it raises the domain errors of `errors` and knows nothing of HTTP.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from services.orders import repository as repo
from services.orders.errors import (
    CancellationRefused,
    ConnectionInactive,
    MarketplaceUnavailable,
    OrderNotFound,
    OrderShipped,
)
from services.orders.ingest import mark_cancelled
from shared.marketplaces.base import AuthorizationLost, RejectedByMarketplace, TransientMarketplaceError
from shared.marketplaces.credentials import access_token_provider
from shared.marketplaces.http import retry_after_header
from shared.marketplaces.registry import order_source
from shared.settings import Settings
from shared.web.internal import InternalClient


async def cancel_order(session: AsyncSession, settings: Settings, auth: InternalClient, merchant_id: uuid.UUID | None,
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
    if order.status == "cancelled":
        return
    if await repo.has_shipments(session, order_id):
        raise OrderShipped("the order has shipments: it can no longer be cancelled")
    source = order_source(order.marketplace, settings, access_token_provider(auth, order.connection_id),
                          shop_id=await active_shop_id(auth, order.connection_id))
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


async def active_shop_id(auth: InternalClient, connection_id: uuid.UUID) -> str | None:
    """The shop of an active connection, as auth knows it (the one place this module asks auth about a
    connection: the typed auth client replaces it)."""
    connection = await auth.request("GET", f"/internal/connections/{connection_id}")
    if connection.status_code != 200 or connection.json()["status"] != "active":
        raise ConnectionInactive("the order's marketplace connection is not active")
    return connection.json()["shop_id"]
