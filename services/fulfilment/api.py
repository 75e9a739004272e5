"""HTTP API of the fulfilment service: book a shipment, read its push-back state."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Header, Request, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from services.fulfilment.errors import (
    IdempotencyKeyReused,
    InvalidShipmentLine,
    OrderCancelled,
    OrderNotFound,
    ShipmentNotFound,
)
from services.fulfilment.schemas import ShipmentIn, ShipmentOut
from services.fulfilment.service import book_shipment, get_shipment_of
from shared.web.identity import Identity, require_scope
from shared.web.problems import Problem, problem_responses
from shared.web.service_app import db_session

router = APIRouter(prefix="/v1", tags=["fulfilment"])


@router.post("/orders/{order_id}/shipments", operation_id="createShipment", response_model=ShipmentOut,
             status_code=status.HTTP_201_CREATED,
             responses={200: {"model": ShipmentOut, "description": "The shipment an earlier request with the same "
                                                                   "Idempotency-Key and body booked"},
                        **problem_responses(404, 409)})
async def create_shipment(
    order_id: uuid.UUID, body: ShipmentIn, request: Request, response: Response,
    identity: Identity = Depends(require_scope("fulfilment:write")),
    session: AsyncSession = Depends(db_session),
    idempotency_key: str | None = Header(None, min_length=1, max_length=200, pattern=r"\S"),
) -> ShipmentOut:
    """Record carrier + tracking, emit `shipment.booked`, and push it to the marketplace in the background."""
    try:
        row, created = await book_shipment(session, identity, order_id, body, idempotency_key)
    except OrderNotFound as exc:
        raise Problem(404, str(exc), type_="not-found") from exc
    except OrderCancelled as exc:
        raise Problem(409, str(exc), type_="order-cancelled") from exc
    except IdempotencyKeyReused as exc:
        raise Problem(422, f"Idempotency-Key: {exc}", type_="idempotency-key-reused",
                      errors=[{"field": "Idempotency-Key", "location": "header", "message": str(exc)}]) from exc
    except InvalidShipmentLine as exc:
        raise Problem(422, str(exc), type_="validation-error",
                      errors=[{"field": exc.field, "location": "body", "message": exc.message}]) from exc
    if created:
        request.app.state.tracking_pusher.poke()
    else:
        response.status_code = status.HTTP_200_OK
    return ShipmentOut.model_validate(row._mapping, from_attributes=False)


@router.get("/shipments/{shipment_id}", operation_id="getShipment", response_model=ShipmentOut,
            responses=problem_responses(404))
async def get_shipment(shipment_id: uuid.UUID, identity: Identity = Depends(require_scope("orders:read")),
                       session: AsyncSession = Depends(db_session)) -> ShipmentOut:
    try:
        row = await get_shipment_of(session, shipment_id, identity.merchant_id)
    except ShipmentNotFound as exc:
        raise Problem(404, str(exc), type_="not-found") from exc
    return ShipmentOut.model_validate(row._mapping, from_attributes=False)
