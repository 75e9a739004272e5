"""HTTP API of the orders service: orders (read) and per-connection sync (trigger, progress)."""

from __future__ import annotations

import uuid

import structlog
from fastapi import APIRouter, Depends, Query, Request, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from services.orders import service
from services.orders.errors import (
    CancellationRefused,
    ConnectionInactive,
    ConnectionNotFound,
    DeliveryRejected,
    MarketplaceUnavailable,
    OrderNotFound,
    OrderShipped,
)
from services.orders.schemas import BIGCOMMERCE_DELIVERY_DOC, CancelIn, OrderOut, OrderPage, SyncStatus
from shared.statuses import OrderStatus
from shared.web.identity import Identity, require_scope
from shared.web.iso_time import IsoDatetime
from shared.web.pagination import Cursor, InvalidCursor
from shared.web.problems import Problem, problem_responses
from shared.web.service_app import db_session

log = structlog.get_logger(__name__)
router = APIRouter(prefix="/v1", tags=["orders"])
webhook_router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])


@router.get("/orders", operation_id="listOrders", response_model=OrderPage)
async def list_orders(
    identity: Identity = Depends(require_scope("orders:read")),
    session: AsyncSession = Depends(db_session),
    connection_id: uuid.UUID | None = None,
    status_: OrderStatus | None = Query(None, alias="status"),
    updated_since: IsoDatetime | None = None,
    cursor: str | None = None,
    limit: int = Query(50, ge=1, le=200),
) -> OrderPage:
    try:
        after = Cursor.decode(cursor) if cursor else None
    except InvalidCursor as exc:
        raise Problem(422, f"cursor: {exc}", type_="validation-error",
                      errors=[{"field": "cursor", "location": "query", "message": str(exc)}]) from exc
    return await service.list_orders(session, merchant_id=identity.merchant_id, connection_id=connection_id,
                                     status=status_, updated_since=updated_since, after=after, limit=limit)


@router.get("/orders/{order_id}", operation_id="getOrder", response_model=OrderOut, responses=problem_responses(404))
async def get_order(order_id: uuid.UUID, identity: Identity = Depends(require_scope("orders:read")),
                    session: AsyncSession = Depends(db_session)) -> OrderOut:
    try:
        return await service.get_order(session, order_id, identity.merchant_id)
    except OrderNotFound as exc:
        raise Problem(404, str(exc), type_="not-found") from exc


@router.post("/orders/{order_id}/cancel", operation_id="cancelOrder", status_code=status.HTTP_204_NO_CONTENT,
             responses=problem_responses(404, 409, 503),
             summary="Cancel the order at its marketplace (a clear 409 where the marketplace does not allow it)")
async def cancel_order(order_id: uuid.UUID, request: Request, body: CancelIn | None = None,
                       identity: Identity = Depends(require_scope("orders:write")),
                       session: AsyncSession = Depends(db_session)) -> Response:
    try:
        await service.cancel_order(session, request.app.state.settings, request.app.state.auth_client,
                                   identity.merchant_id, order_id, body.reason if body else None)
    except OrderNotFound as exc:
        raise Problem(404, str(exc), type_="not-found") from exc
    except OrderShipped as exc:
        raise Problem(409, str(exc), type_="order-shipped") from exc
    except ConnectionInactive as exc:
        raise Problem(409, str(exc), type_="connection-inactive") from exc
    except CancellationRefused as exc:
        raise Problem(409, str(exc), type_="cancellation-refused") from exc
    except MarketplaceUnavailable as exc:
        raise Problem(503, str(exc), type_="marketplace-unavailable", headers=exc.retry_after) from exc
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/connections/{connection_id}/sync", operation_id="syncConnection", response_model=SyncStatus,
             status_code=status.HTTP_202_ACCEPTED, responses=problem_responses(404, 409))
async def sync_now(connection_id: uuid.UUID, request: Request,
                   identity: Identity = Depends(require_scope("connections:write")),
                   session: AsyncSession = Depends(db_session)) -> SyncStatus:
    """Ask for a sync now; it runs in the background (poll `GET …/sync` for progress)."""
    try:
        return await service.request_sync(session, request.app.state.order_sync, connection_id, identity.merchant_id)
    except ConnectionNotFound as exc:
        raise Problem(404, str(exc), type_="not-found") from exc
    except ConnectionInactive as exc:
        raise Problem(409, str(exc), type_="conflict") from exc


@router.get("/connections/{connection_id}/sync", operation_id="getConnectionSync", response_model=SyncStatus,
            responses=problem_responses(404))
async def sync_progress(connection_id: uuid.UUID, request: Request,
                        identity: Identity = Depends(require_scope("connections:read")),
                        session: AsyncSession = Depends(db_session)) -> SyncStatus:
    try:
        connection = await service.own_connection(session, connection_id, identity.merchant_id)
    except ConnectionNotFound as exc:
        raise Problem(404, str(exc), type_="not-found") from exc
    return await service.sync_status(session, connection)


@webhook_router.post("/bigcommerce/{connection_id}", operation_id="receiveBigCommerceWebhook",
                     responses=problem_responses(401, 404, 503), openapi_extra=BIGCOMMERCE_DELIVERY_DOC,
                     summary="BigCommerce order webhooks (no bearer token)")
async def bigcommerce_delivery(connection_id: uuid.UUID, request: Request,
                               session: AsyncSession = Depends(db_session)) -> dict:
    """Verify (signature required once the connection has a signing secret), deduplicate by delivery id,
    fetch the order the delivery names and ingest it.

    A failure to fetch answers 503 without recording the delivery, so BigCommerce's retry gets through;
    a forged delivery answers 401 and changes nothing.
    """
    try:
        outcome = await service.receive_webhook_delivery(session, request.app.state.box, request.app.state.order_sync,
                                                         connection_id, request.headers, await request.body())
    except ConnectionNotFound as exc:
        raise Problem(404, str(exc), type_="not-found") from exc
    except DeliveryRejected as exc:
        log.warning("orders.webhook_rejected", connection_id=str(connection_id), reason=str(exc))
        raise Problem(401, f"webhook rejected: {exc}", type_="webhook-rejected") from exc
    except MarketplaceUnavailable as exc:
        raise Problem(503, str(exc), type_="marketplace-unavailable", headers=exc.retry_after) from exc
    return {"status": outcome}
