"""Pushing carrier + tracking to the marketplace until it confirms, then `order.fulfilled`.

Pushes are claimed with a short lease that a heartbeat renews while the push runs (`shared.leases`), so
a pusher that dies mid-call leaves the shipment to another pusher within seconds; transient failures
back off exponentially without limit (the marketplace will come back), a rejection is final and keeps
the marketplace's reason on the shipment.
"""

from __future__ import annotations

import asyncio
import uuid
from functools import partial

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.fulfilment import repository as repo
from services.fulfilment.service import SOURCE
from shared.auth_client import AuthClient
from shared.events import make_event
from shared.events.payloads import OrderFulfilled
from shared.leases import kept_alive
from shared.marketplaces.base import (
    AuthorizationLost,
    RejectedByMarketplace,
    TrackingPush,
    TransientMarketplaceError,
)
from shared.marketplaces.registry import order_source
from shared.messaging.outbox import add_event
from shared.settings import Settings
from shared.statuses import OrderStatus
from shared.wakeup import wait_for_wakeup

log = structlog.get_logger(__name__)

MAX_BACKOFF_S = 600.0


def backoff_s(attempt: int) -> float:
    return min(MAX_BACKOFF_S, 2.0 ** min(attempt, 10))


class TrackingPusher:
    def __init__(self, settings: Settings, sessions: async_sessionmaker[AsyncSession], auth: AuthClient) -> None:
        self._settings = settings
        self._sessions = sessions
        self._auth = auth
        self._lease_s = settings.work_lease_s
        self._wakeup = asyncio.Event()

    def poke(self) -> None:
        self._wakeup.set()

    async def run_forever(self, tick_s: float = 1.0) -> None:
        while True:
            try:
                async with self._sessions() as session, session.begin():
                    claimed = await repo.claim_due_pushes(session, lease_s=self._lease_s, limit=20)
                await asyncio.gather(*(self.push(s) for s in claimed))
            except Exception:
                log.exception("fulfilment.pusher_failed")
            self._wakeup.clear()
            await wait_for_wakeup(self._wakeup, tick_s)

    async def push(self, shipment) -> None:
        async with self._sessions() as session:
            order = await repo.get_order(session, shipment.order_id, None)
        if order.status == OrderStatus.CANCELLED:  # claimed just before `order.cancelled` withdrew it: never push it
            log.info("fulfilment.push_skipped_order_cancelled", shipment_id=str(shipment.id))
            return
        try:
            async with kept_alive(partial(self._renew_lease, shipment.id), lease_s=self._lease_s,
                                  what=f"tracking push {shipment.id}"):
                result = await self._push_tracking(order, shipment)
        except RejectedByMarketplace as exc:
            log.warning("fulfilment.push_rejected", shipment_id=str(shipment.id), reason=exc.reason)
            await self._mark(shipment.id, status="failed", failure_reason=exc.reason, last_error=str(exc),
                             while_pending=True)
            return
        except (TransientMarketplaceError, AuthorizationLost) as exc:
            # A lost grant comes back when the merchant reconnects; keep trying at the slow end of the backoff.
            delay = MAX_BACKOFF_S if isinstance(exc, AuthorizationLost) else backoff_s(shipment.push_attempts)
            log.info("fulfilment.push_retry", shipment_id=str(shipment.id), error=str(exc), retry_in_s=delay)
            await self._mark(shipment.id, last_error=str(exc), retry_in_s=delay)
            return
        except Exception as exc:
            log.exception("fulfilment.push_crashed", shipment_id=str(shipment.id))
            await self._mark(shipment.id, last_error=repr(exc), retry_in_s=backoff_s(shipment.push_attempts))
            return
        async with self._sessions() as session, session.begin():
            await repo.mark_shipment(session, shipment.id, status="pushed", last_error=None,
                                     carrier_sent=result.carrier_sent,
                                     marketplace_shipment_id=result.marketplace_shipment_id)
            # Versioned as the shipment's next state: it can overtake `shipment.booked` (another topic).
            version = await repo.next_shipment_version(session, shipment.id)
            await add_event(session, make_event(SOURCE, OrderFulfilled(
                order_id=order.order_id, merchant_id=order.merchant_id, shipment_id=shipment.id,
                marketplace=order.marketplace, fully_shipped=result.order_fully_shipped,
            ), subject=str(order.order_id), tenant_id=str(order.merchant_id), aggregate_version=version))
        log.info("fulfilment.tracking_pushed", shipment_id=str(shipment.id), carrier=result.carrier_sent)

    async def _push_tracking(self, order, shipment):
        connection = await self._auth.active_connection(order.connection_id)
        source = order_source(order.marketplace, self._settings, self._auth.token_provider(connection.id),
                              shop_id=connection.shop_id)
        try:
            return await source.push_tracking(TrackingPush(
                external_order_id=order.external_id, carrier=shipment.carrier,
                tracking_number=shipment.tracking_number, note=shipment.note,
                lines=tuple((line["order_line_external_id"], line["quantity"]) for line in shipment.lines)))
        finally:
            await source.aclose()

    async def _renew_lease(self, shipment_id: uuid.UUID) -> bool:
        async with self._sessions() as session, session.begin():
            return await repo.renew_push_lease(session, shipment_id, lease_s=self._lease_s)

    async def _mark(self, shipment_id: uuid.UUID, **values) -> None:
        async with self._sessions() as session, session.begin():
            await repo.mark_shipment(session, shipment_id, **values)

