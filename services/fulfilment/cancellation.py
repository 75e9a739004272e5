"""Cancelling an order at its marketplace, on the merchant's request.

Done synchronously: the merchant needs the marketplace's answer (some refuse, e.g. Etsy has no API for
it, Allegro only before payment) as a clear error, not a later surprise. Once the marketplace accepts,
the orders service is told at once (it owns the order and emits `order.cancelled`); the next sync
would find the cancellation anyway.

The order's row stays locked from the shipments check to the commit of `cancelled`, across the marketplace
call: a booking of the same order waits and then finds the order cancelled, or got in first and the
cancellation finds its shipment. That holds one database connection for at most the client's timeout.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from services.fulfilment import repository as repo
from services.fulfilment.rules import cancellation_refusal
from shared.marketplaces.base import AuthorizationLost, RejectedByMarketplace, TransientMarketplaceError
from shared.marketplaces.credentials import access_token_provider
from shared.marketplaces.http import retry_after_header
from shared.marketplaces.registry import order_source
from shared.settings import Settings
from shared.web.identity import Identity
from shared.web.internal import InternalClient
from shared.web.problems import Problem


async def cancel_order(session: AsyncSession, settings: Settings, auth: InternalClient, orders: InternalClient,
                       identity: Identity, order_id: uuid.UUID, reason: str | None) -> None:
    order = await repo.get_order(session, order_id, identity.merchant_id, for_update=True)
    if order is None:
        raise Problem(404, f"order {order_id} not found", type_="not-found")
    refusal = cancellation_refusal(order.status, await repo.has_shipments(session, order_id))
    if refusal == "already_cancelled":
        return
    if refusal == "has_shipments":
        raise Problem(409, "the order has shipments: it can no longer be cancelled", type_="order-shipped")
    connection = await auth.request("GET", f"/internal/connections/{order.connection_id}")
    if connection.status_code != 200 or connection.json()["status"] != "active":
        raise Problem(409, "the order's marketplace connection is not active", type_="connection-inactive")
    source = order_source(order.marketplace, settings, access_token_provider(auth, order.connection_id),
                          shop_id=connection.json()["shop_id"])
    try:
        await source.cancel_order(order.external_id, reason)
    except RejectedByMarketplace as exc:
        raise Problem(409, f"{order.marketplace} refused the cancellation: {exc.reason}",
                      type_="cancellation-refused") from exc
    except AuthorizationLost as exc:
        raise Problem(409, f"the connection needs re-authorization: {exc}", type_="connection-inactive") from exc
    except TransientMarketplaceError as exc:
        raise Problem(503, f"{order.marketplace} is unavailable, try again: {exc}",
                      type_="marketplace-unavailable", headers=retry_after_header(exc)) from exc
    finally:
        await source.aclose()
    await repo.set_order_status(session, order_id, "cancelled")
    await session.commit()
    confirmed = await orders.request("POST", f"/internal/orders/{order_id}/cancelled", json={"reason": reason})
    if confirmed.status_code >= 400:
        raise Problem(502, "cancelled at the marketplace; the order will show it after the next sync",
                      type_="order-update-delayed")
