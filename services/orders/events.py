"""Staging the orders service's events in the caller's transaction, each order event with the order's version."""

from __future__ import annotations

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from services.orders.models import orders
from shared.db.versions import next_version
from shared.events import make_event
from shared.events.payloads import OrderCancelled, OrderSnapshot
from shared.messaging.outbox import add_event

SOURCE = "channelbridge/orders"

# The events that describe the order itself (paid, imported, updated, cancelled). A confirmation request or
# a customer registration rides along with an order but changes nothing in it, so it takes no version.
_ORDER_STATE = (OrderSnapshot, OrderCancelled)


async def stage(session: AsyncSession, row, payload: BaseModel) -> None:
    """Key and subject = the order id; an order event bumps `orders.version` and carries it."""
    version = (await next_version(session, orders, orders.c.id, row.id)
               if isinstance(payload, _ORDER_STATE) else None)
    await add_event(session, make_event(SOURCE, payload, subject=str(row.id), tenant_id=str(row.merchant_id),
                                        aggregate_version=version))
